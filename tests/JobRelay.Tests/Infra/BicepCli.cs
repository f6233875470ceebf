using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace JobRelay.Tests.Infra;

/// <summary>
/// The Bicep CLI, brought from NuGet by restoring infra/tools/BicepCli.csproj, so the templates compile wherever the
/// .NET SDK and the NuGet feed are.
/// </summary>
internal static class BicepCli
{
    private const string ToolProject = "infra/tools/BicepCli.csproj";
    private static readonly TimeSpan RestoreTimeout = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan CompileTimeout = TimeSpan.FromMinutes(2);

    private static readonly Lazy<Task<string>> Located = new(LocateOnceAsync);

    /// <summary>Restores the CLI package (once per test run) and returns the path of the bicep executable.</summary>
    public static Task<string> LocateAsync() => Located.Value;

    private static async Task<string> LocateOnceAsync()
    {
        var runtimeIdentifier = RuntimeIdentifier();
        var restore = await RunAsync(
            DotnetExecutable(),
            ["restore", InfraFiles.PathOf(ToolProject), $"-p:BicepRuntimeIdentifier={runtimeIdentifier}", "--nologo", "-v", "quiet"],
            RestoreTimeout,
            new Dictionary<string, string?>());
        Assert.True(restore.ExitCode == 0, $"dotnet restore {ToolProject} failed:\n{restore.Output}");

        var project = File.ReadAllText(InfraFiles.PathOf(ToolProject));
        var version = System.Xml.Linq.XDocument.Parse(project).Descendants("BicepVersion").Single().Value;
        foreach (var packages in PackageFolders())
        {
            var tools = Path.Combine(packages, $"azure.bicep.commandline.{runtimeIdentifier}", version, "tools");
            var executable = Path.Combine(tools, OperatingSystem.IsWindows() ? "bicep.exe" : "bicep");
            if (File.Exists(executable))
            {
                if (!OperatingSystem.IsWindows())
                {
                    File.SetUnixFileMode(executable, File.GetUnixFileMode(executable) | UnixFileMode.UserExecute);
                }

                return executable;
            }
        }

        throw new InvalidOperationException($"Restored {ToolProject} but found no bicep {version} executable in the NuGet packages folders.");
    }

    /// <summary>Runs <c>bicep</c> with the arguments; returns the exit code and everything it printed.</summary>
    public static Task<ProcessResult> RunAsync(string bicep, IReadOnlyList<string> arguments) =>
        RunAsync(bicep, arguments, CompileTimeout, new Dictionary<string, string?>());

    /// <summary>
    /// Runs <c>bicep</c> with the arguments and these environment variables set (a null value removes the variable),
    /// as azd runs it to compile a .bicepparam file with its environment's values.
    /// </summary>
    public static Task<ProcessResult> RunAsync(string bicep, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string?> environment) =>
        RunAsync(bicep, arguments, CompileTimeout, environment);

    private static IEnumerable<string> PackageFolders()
    {
        // project.assets.json names the packages folders restore used, wherever NUGET_PACKAGES or nuget.config put them.
        var assets = InfraFiles.PathOf("infra/tools/obj/project.assets.json");
        using var document = JsonDocument.Parse(File.ReadAllText(assets));
        foreach (var folder in document.RootElement.GetProperty("packageFolders").EnumerateObject())
        {
            yield return folder.Name;
        }
    }

    private static string RuntimeIdentifier()
    {
        var os = OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux";
        var architecture = RuntimeInformation.OSArchitecture == System.Runtime.InteropServices.Architecture.Arm64 ? "arm64" : "x64";
        return $"{os}-{architecture}";
    }

    private static string DotnetExecutable()
    {
        var host = Environment.ProcessPath;
        var name = Path.GetFileNameWithoutExtension(host);
        return host is not null && string.Equals(name, "dotnet", StringComparison.OrdinalIgnoreCase) ? host : "dotnet";
    }

    private static async Task<ProcessResult> RunAsync(string fileName, IReadOnlyList<string> arguments, TimeSpan timeout, IReadOnlyDictionary<string, string?> environment)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = InfraFiles.RepoRoot,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // The test host runs inside an MSBuild-launched process; a child restore must find its own SDK.
        foreach (var inherited in new[] { "MSBUILD_EXE_PATH", "MSBuildExtensionsPath", "MSBuildSDKsPath", "MSBuildLoadMicrosoftTargetsReadOnly" })
        {
            start.Environment.Remove(inherited);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (name, value) in environment)
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        using var cancellation = new CancellationTokenSource(timeout);
        var stdout = process.StandardOutput.ReadToEndAsync(cancellation.Token);
        var stderr = process.StandardError.ReadToEndAsync(cancellation.Token);
        try
        {
            await process.WaitForExitAsync(cancellation.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', arguments)} did not finish within {timeout}.");
        }

        return new ProcessResult(process.ExitCode, await stdout + await stderr, await stderr);
    }
}

internal sealed record ProcessResult(int ExitCode, string Output, string Diagnostics);
