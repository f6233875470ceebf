using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace JobRelay.Benchmarks.OutOfProcess;

/// <summary>
/// Azurite's table service, as pinned in the repository's package.json (installed by <c>npm ci</c>), on a free
/// loopback port with its data in memory: the stand-in for Azure Table Storage in the suites.
/// </summary>
internal sealed class AzuriteProcess : IAsyncDisposable
{
    /// <summary>Azurite's documented development account; a well-known public value, not a credential.</summary>
    private const string DevelopmentAccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private readonly Process _process;
    private readonly string _log;

    private AzuriteProcess(Process process, int port, string log)
    {
        _process = process;
        _log = log;
        ConnectionString = $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={DevelopmentAccountKey};TableEndpoint=http://127.0.0.1:{port}/devstoreaccount1;";
    }

    public string ConnectionString { get; }

    public static async Task<AzuriteProcess> StartAsync(string repository, string logFolder)
    {
        var executable = Path.Combine(repository, "node_modules", ".bin", "azurite-table");
        if (!File.Exists(executable))
        {
            throw new InvalidOperationException($"Azurite is missing ({executable}): install Node.js 20 or later, then run `npm ci` at the repository root.");
        }

        var port = LoadHarness.FreePort();
        var start = new ProcessStartInfo("/bin/sh")
        {
            UseShellExecute = false,
            WorkingDirectory = logFolder,
            ArgumentList =
            {
                "-c", "exec \"$0\" \"$@\" >\"$JOBRELAY_BENCH_LOG\" 2>&1", executable,
                "--tableHost", "127.0.0.1", "--tablePort", port.ToString(CultureInfo.InvariantCulture),
                "--disableTelemetry", "--inMemoryPersistence", "--skipApiVersionCheck",
            },
        };
        var log = Path.Combine(logFolder, $"azurite-{port}.log");
        start.Environment["JOBRELAY_BENCH_LOG"] = log;
        var process = Process.Start(start) ?? throw new InvalidOperationException("Azurite did not start.");
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"Azurite exited with {process.ExitCode}; see its log in {logFolder}.");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return new AzuriteProcess(process, port, log);
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }

        process.Kill(entireProcessTree: true);
        throw new TimeoutException($"Azurite did not listen on 127.0.0.1:{port} within 60 s; see its log in {logFolder}.");
    }

    /// <summary>
    /// The requests Azurite has logged so far to entities (table creation aside): reads are GETs, writes the rest.
    /// Waits until its log stops growing, since Azurite writes it after answering.
    /// </summary>
    public async Task<(long Reads, long Writes)> CountEntityRequestsAsync()
    {
        var lines = -1;
        string[] current;
        while (true)
        {
            current = await File.ReadAllLinesAsync(_log);
            if (current.Length == lines)
            {
                break;
            }

            lines = current.Length;
            await Task.Delay(200);
        }

        long reads = 0;
        long writes = 0;
        foreach (var line in current)
        {
            var request = line.IndexOf(" \"", StringComparison.Ordinal);
            if (request < 0 || line.Contains("/Tables", StringComparison.Ordinal))
            {
                continue;
            }

            if (line.AsSpan(request + 2).StartsWith("GET ", StringComparison.Ordinal))
            {
                reads++;
            }
            else
            {
                writes++;
            }
        }

        return (reads, writes);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
