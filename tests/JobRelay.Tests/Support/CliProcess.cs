using System.Diagnostics;

namespace JobRelay.Tests.Support;

/// <summary>
/// The built <c>jobrelay</c> command run as its own process (<c>dotnet JobRelay.Cli.dll</c>), so tests see what an
/// operator sees: its output, its exit code, and how it answers signals. It starts with Ctrl+C (SIGINT) handled as
/// in a terminal's foreground, whatever the test run's own disposition: a background job (<c>&amp;</c>) and some CI
/// runners start their commands with SIGINT ignored, and a child inherits that.
/// </summary>
public sealed class CliProcess : IDisposable
{
    private readonly Process _process;
    private readonly OutputLines _stdout = new();
    private readonly OutputLines _stderr = new();

    private CliProcess(Process process)
    {
        _process = process;
    }

    public int Id => _process.Id;

    public string Stdout => _stdout.Text;

    public string Stderr => _stderr.Text;

    /// <summary>The CLI built next to this test assembly, in the same configuration.</summary>
    public static string CliAssembly
    {
        get
        {
            var testFolder = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var framework = testFolder.Name;
            var configuration = testFolder.Parent!.Name;
            var root = testFolder;
            while (root is not null && !File.Exists(Path.Combine(root.FullName, "Functions.sln")))
            {
                root = root.Parent;
            }

            return Path.Combine(root!.FullName, "src", "JobRelay.Cli", "bin", configuration, framework, "JobRelay.Cli.dll");
        }
    }

    public static CliProcess Start(string workingDirectory, IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        // coreutils' env puts SIGINT back to its default action before it runs dotnet in its own place (same process).
        var start = new ProcessStartInfo("env")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("--default-signal=INT");
        start.ArgumentList.Add("dotnet");
        start.ArgumentList.Add(CliAssembly);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        var process = new Process { StartInfo = start };
        var cli = new CliProcess(process);
        process.OutputDataReceived += (_, e) => Append(cli._stdout, e.Data);
        process.ErrorDataReceived += (_, e) => Append(cli._stderr, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return cli;
    }

    /// <summary>Waits until standard output has a line starting with <paramref name="prefix"/>, and returns the rest of it.</summary>
    public Task<string> WaitForLineAsync(string prefix, TimeSpan timeout)
        => _stdout.WaitForLineAsync(prefix, timeout, () => _process.HasExited, () => $"stdout: {Stdout} stderr: {Stderr}");

    /// <summary>Sends SIGTERM, as a container runtime or systemd stops a service.</summary>
    public void Terminate()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    /// <summary>Sends SIGINT, as Ctrl+C in a terminal does.</summary>
    public void Interrupt()
    {
        using var kill = Process.Start("kill", ["-INT", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    /// <summary>Sends SIGKILL, as a crash or an out-of-memory kill ends a process, and waits until it is gone.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    /// <summary>Waits for the process to end and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            throw new TimeoutException($"The command did not end within {timeout}. stdout: {Stdout} stderr: {Stderr}");
        }

        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
        _stdout.Dispose();
        _stderr.Dispose();
    }

    private static void Append(OutputLines target, string? line)
    {
        if (line is not null)
        {
            target.WriteLine(line);
        }
    }
}
