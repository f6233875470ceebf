using System.Diagnostics;
using System.Net.Sockets;
using Azure.Data.Tables;
using JobRelay.Tests.Support;

namespace JobRelay.Tests.State;

/// <summary>
/// The Azurite Table Storage emulator, pinned in the repository's package.json, on a free loopback port with nothing on
/// disk. Installed by <c>npm ci</c> at the repository root (Node.js 22 or later); without it the tests fail saying so.
/// </summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    /// <summary>Azurite's documented development account; a well-known public value, not a credential.</summary>
    private const string DevelopmentAccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    private const string InstallHint = "Azurite is needed to test the Azure Table Storage store: install Node.js 22 or later, then run `npm ci` at the repository root.";

    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Process? _process;
    private string? _workspace;

    /// <summary>The connection string of the emulator's table endpoint.</summary>
    public string ConnectionString { get; private set; } = string.Empty;

    public TableServiceClient Service => new(ConnectionString);

    public async Task InitializeAsync()
    {
        var root = RepositoryRoot();
        var executable = Path.Combine(root, "node_modules", ".bin", OperatingSystem.IsWindows() ? "azurite-table.cmd" : "azurite-table");
        if (!File.Exists(executable))
        {
            throw new InvalidOperationException($"{InstallHint} ({executable} does not exist.)");
        }

        var port = LoopbackServer.FreePort();
        _workspace = Directory.CreateTempSubdirectory("jobrelay-azurite-").FullName;
        var start = new ProcessStartInfo(executable)
        {
            WorkingDirectory = _workspace,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "--tableHost", "127.0.0.1", "--tablePort", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--disableTelemetry", "--inMemoryPersistence", "--skipApiVersionCheck" })
        {
            start.ArgumentList.Add(argument);
        }

        var output = new System.Text.StringBuilder();
        try
        {
            _process = Process.Start(start) ?? throw new InvalidOperationException(InstallHint);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException($"{InstallHint} ({ex.Message})", ex);
        }

        void Read(object sender, DataReceivedEventArgs e)
        {
            if (e.Data is null)
            {
                return;
            }

            lock (output)
            {
                output.AppendLine(e.Data);
            }

            if (e.Data.Contains("successfully", StringComparison.OrdinalIgnoreCase))
            {
                _started.TrySetResult();
            }
        }

        _process.OutputDataReceived += Read;
        _process.ErrorDataReceived += Read;
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var exited = _process.WaitForExitAsync();
        var first = await Task.WhenAny(_started.Task, exited, Task.Delay(TimeSpan.FromSeconds(90)));
        if (first != _started.Task)
        {
            string said;
            lock (output)
            {
                said = output.ToString();
            }

            throw new InvalidOperationException($"Azurite did not start on 127.0.0.1:{port}. {InstallHint} It said: {said}");
        }

        ConnectionString = $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={DevelopmentAccountKey};TableEndpoint=http://127.0.0.1:{port}/devstoreaccount1;";
    }

    public async Task DisposeAsync()
    {
        if (_process is { } process)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }

            process.Dispose();
        }

        if (_workspace is not null)
        {
            Directory.Delete(_workspace, recursive: true);
        }
    }

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "package.json")) && File.Exists(Path.Combine(folder.FullName, "Functions.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (with package.json and Functions.sln) was not found above the test binaries.");
    }
}

[CollectionDefinition(Name)]
public sealed class AzuriteGroup : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "Azurite";
}
