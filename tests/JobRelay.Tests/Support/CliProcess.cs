using System.Diagnostics;
using System.Text;

namespace JobRelay.Tests.Support;

/// <summary>
/// The built <c>jobrelay</c> command run as its own process (<c>dotnet JobRelay.Cli.dll</c>), so tests see what an
/// operator sees: its output, its exit code, and how it answers signals.
/// </summary>
public sealed class CliProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly Lock _gate = new();

    private CliProcess(Process process)
    {
        _process = process;
    }

    public int Id => _process.Id;

    public string Stdout
    {
        get
        {
            lock (_gate)
            {
                return _stdout.ToString();
            }
        }
    }

    public string Stderr
    {
        get
        {
            lock (_gate)
            {
                return _stderr.ToString();
            }
        }
    }

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
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
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
        process.OutputDataReceived += (_, e) => cli.Append(cli._stdout, e.Data);
        process.ErrorDataReceived += (_, e) => cli.Append(cli._stderr, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return cli;
    }

    /// <summary>Waits until standard output has a line starting with <paramref name="prefix"/>, and returns the rest of it.</summary>
    public async Task<string> WaitForLineAsync(string prefix, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var line = Stdout.Split('\n').FirstOrDefault(l => l.TrimStart().StartsWith(prefix, StringComparison.Ordinal));
            if (line is not null)
            {
                return line.TrimStart()[prefix.Length..].Trim();
            }

            if (_process.HasExited)
            {
                break;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"No line starting '{prefix}'. stdout: {Stdout} stderr: {Stderr}");
    }

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
        await _process.WaitForExitAsync(cancel.Token);
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
    }

    private void Append(StringBuilder target, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            target.AppendLine(line);
        }
    }
}
