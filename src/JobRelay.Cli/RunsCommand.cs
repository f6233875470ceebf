using System.CommandLine;
using System.Globalization;
using JobRelay.History;
using JobRelay.Model;
using JobRelay.Platforms;

namespace JobRelay.Cli;

/// <summary>
/// <c>jobrelay runs</c>: the recent runs as a table, live with <c>--follow</c>; <c>jobrelay runs show RUNID</c>: one
/// run's lineage as a tree; <c>jobrelay runs cancel|approve|reject|restart RUNID</c>: a control of the run's job. Read from the local data folder, or from a deployed app with <c>--url</c> and
/// <c>--api-key</c>.
/// </summary>
internal static class RunsCommand
{
    public static Command Create()
    {
        var url = new Option<Uri?>("--url")
        {
            Description = "A deployed JobRelay to read from over its HTTP API, such as https://myapp.azurewebsites.net (with --api-key). Without it, runs are read from the local data folder.",
            CustomParser = JobRelayCommandLine.ParseHttpUrl,
        };
        var apiKey = new Option<string?>("--api-key")
        {
            Description = "The API key for --url, sent in x-functions-key (default: the JOBRELAY_API_KEY environment variable).",
        };
        var trigger = new Option<string?>("--trigger") { Description = "Only runs of this trigger." };
        var state = new Option<string?>("--state")
        {
            Description = $"Only runs in this state: {string.Join(", ", RunWire.States)}.",
        };
        var follow = new Option<bool>("--follow", "-f")
        {
            Description = "Keep watching: print each new run and each change of state as it happens, until Ctrl+C.",
        };
        var limit = new Option<int>("--limit")
        {
            Description = $"How many runs to show, newest first (1 to {RunQuery.MaxLimit}).",
            DefaultValueFactory = _ => 20,
        };
        var interval = new Option<TimeSpan>("--interval")
        {
            Description = "How often --follow reads the runs again.",
            DefaultValueFactory = _ => TimeSpan.FromSeconds(2),
        };

        var sandbox = new Option<bool>("--sandbox")
        {
            Description = $"Read the sandbox's runs ({CliConfiguration.SandboxDataFolder}, written by serve --sandbox and fire --sandbox). Without --data, they are read by default when they are the only runs here.",
        };

        var list = new Command("runs", "List recent runs, newest first; with --follow, the list stays live.")
        {
            trigger, state, limit, follow, interval, url, apiKey, sandbox,
            JobRelayCommandLine.TriggersOption(SandboxCatalog.None), JobRelayCommandLine.DataOption, JobRelayCommandLine.StoreOption,
        };
        list.SetAction(async (parse, cancellationToken) =>
        {
            var query = new RunQuery { Trigger = parse.GetValue(trigger), State = parse.GetValue(state), Limit = parse.GetValue(limit) };
            await using var source = await OpenAsync(parse, url, apiKey, sandbox, cancellationToken);
            if (source is null)
            {
                return 0;
            }

            return await RunAsync(() => parse.GetValue(follow)
                ? FollowAsync(source, query, parse.GetValue(interval), Console.Out, cancellationToken)
                : ListAsync(source, query, Console.Out, cancellationToken));
        });

        var runId = new Argument<string>("run-id") { Description = "The run's id, as the runs table shows it." };
        var show = new Command("show", "Show a run's lineage as a tree: what caused it or its parent run, the run, and the runs it started; then what operators did to it.")
        {
            runId, url, apiKey, sandbox,
            JobRelayCommandLine.TriggersOption(SandboxCatalog.None), JobRelayCommandLine.DataOption, JobRelayCommandLine.StoreOption,
        };
        show.SetAction(async (parse, cancellationToken) =>
        {
            await using var source = await OpenAsync(parse, url, apiKey, sandbox, cancellationToken);
            if (source is null)
            {
                return 2;
            }

            return await RunAsync(() => ShowAsync(source, parse.GetValue(runId)!, Console.Out, cancellationToken));
        });
        list.Subcommands.Add(show);
        foreach (var control in JobControlNames.All)
        {
            list.Subcommands.Add(CreateControl(control, url, apiKey, sandbox));
        }

        return list;
    }

    /// <summary>
    /// <c>jobrelay runs cancel|approve|reject|restart RUNID</c>: the control of a run's job, on the local data folder
    /// (calling the platform with the catalog's secrets; recorded as <c>cli:USER</c>) or on a deployed app's API
    /// (recorded under its API key's name).
    /// </summary>
    private static Command CreateControl(JobControl control, Option<Uri?> url, Option<string?> apiKey, Option<bool> sandbox)
    {
        var name = JobControlNames.Of(control);
        var runId = new Argument<string>("run-id") { Description = "The run's id, as the runs table shows it." };
        var command = new Command(name, control switch
        {
            JobControl.Cancel => "Cancel the run's job on its platform: Keboola kills it, TheEye cancels it with the platform's access token.",
            JobControl.Approve => "Approve the run's job: a TheEye approval job on hold (with the platform's access token).",
            JobControl.Reject => "Reject the run's job: a TheEye approval job on hold (with the platform's access token).",
            _ => "Run the run's completed TheEye script job once more, as the same job, with the run's stored arguments.",
        })
        {
            runId, url, apiKey, sandbox,
            JobRelayCommandLine.TriggersOption(SandboxCatalog.None), JobRelayCommandLine.DataOption, JobRelayCommandLine.StoreOption,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            await using var source = await OpenAsync(parse, url, apiKey, sandbox, cancellationToken, writable: true);
            if (source is null)
            {
                return 2;
            }

            return await RunAsync(() => ControlAsync(source, parse.GetValue(runId)!, control, Console.Out, cancellationToken));
        });
        return command;
    }

    internal static async Task<int> ControlAsync(IRunSource source, string runId, JobControl control, TextWriter output, CancellationToken cancellationToken)
    {
        var run = await source.ControlAsync(runId, control, cancellationToken);
        var status = run.JobStatus is { } job ? $"{job.State} ({job.Raw})" : "not read";
        await output.WriteLineAsync($"{JobControlNames.Of(control)} of job {run.JobId} of run {run.RunId} on {run.Platform} requested; the job is {status}.");
        return 0;
    }

    internal static async Task<int> ListAsync(IRunSource source, RunQuery query, TextWriter output, CancellationToken cancellationToken)
    {
        var page = await source.ListAsync(query, cancellationToken);
        if (page.Runs.Count == 0)
        {
            await output.WriteLineAsync("No runs.");
            return 0;
        }

        var table = RunTable.For(page.Runs);
        await output.WriteLineAsync(table.Header());
        foreach (var run in page.Runs)
        {
            await output.WriteLineAsync(table.Row(run));
        }

        return 0;
    }

    /// <summary>
    /// Prints the table, then, at each read, the runs that are new or changed since, oldest first: lines are only
    /// ever added, so the output reads the same in a terminal, a pipe or a log file.
    /// </summary>
    internal static async Task<int> FollowAsync(IRunSource source, RunQuery query, TimeSpan interval, TextWriter output, CancellationToken cancellationToken)
    {
        var shown = new Dictionary<string, string>(StringComparer.Ordinal);
        RunTable? table = null;
        try
        {
            while (true)
            {
                var page = await source.ListAsync(query, cancellationToken);
                if (table is null)
                {
                    table = RunTable.For(page.Runs);
                    await output.WriteLineAsync(table.Header());
                }

                foreach (var run in page.Runs.Reverse())
                {
                    var line = table.Row(run);
                    if (!shown.TryGetValue(run.RunId, out var before) || before != line)
                    {
                        shown[run.RunId] = line;
                        await output.WriteLineAsync(line);
                    }
                }

                await output.FlushAsync(cancellationToken);
                await Task.Delay(interval, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return 0;
        }
    }

    internal static async Task<int> ShowAsync(IRunSource source, string runId, TextWriter output, CancellationToken cancellationToken)
    {
        var detail = await source.GetAsync(runId, cancellationToken);
        if (detail is null)
        {
            await Console.Error.WriteLineAsync($"error: no run has the id '{runId}'.");
            return 2;
        }

        foreach (var line in LineageTree.Lines(detail))
        {
            await output.WriteLineAsync(line);
        }

        return 0;
    }

    private static async Task<IRunSource?> OpenAsync(ParseResult parse, Option<Uri?> url, Option<string?> apiKey, Option<bool> sandbox, CancellationToken cancellationToken, bool writable = false)
    {
        if (parse.GetValue(url) is not { } address)
        {
            return await LocalRunSource.StartAsync(parse, parse.GetValue(sandbox), Console.Out, Console.Error, cancellationToken, writable);
        }

        var key = parse.GetValue(apiKey) ?? Environment.GetEnvironmentVariable("JOBRELAY_API_KEY");
        if (string.IsNullOrEmpty(key))
        {
            throw new CliStartupException(["--url needs the app's API key: pass --api-key or set JOBRELAY_API_KEY."]);
        }

        return ApiRunSource.Create(address, key);
    }

    private static async Task<int> RunAsync(Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (RelayException ex)
        {
            await Console.Error.WriteLineAsync($"error: {ex.Message}");
            return ex.Kind is RelayErrorKind.InvalidInput or RelayErrorKind.NotFound ? 2 : 1;
        }
        catch (RunsApiException ex)
        {
            await Console.Error.WriteLineAsync($"error: {ex.Message}");
            return ex.CallerError ? 2 : 1;
        }
        catch (HttpRequestException ex)
        {
            await Console.Error.WriteLineAsync($"error: the app could not be reached ({ex.HttpRequestError}).");
            return 1;
        }
    }
}

/// <summary>The runs table's columns, sized once from the first page so that rows printed later line up.</summary>
internal sealed class RunTable
{
    private const string Gap = "  ";
    private readonly int[] _widths;

    private RunTable(int[] widths)
    {
        _widths = widths;
    }

    private static string[] Headers => ["CREATED (UTC)", "RUN", "TRIGGER", "ORIGIN", "STATE", "JOB"];

    public static RunTable For(IReadOnlyList<RunView> runs)
    {
        var widths = Headers.Select(h => h.Length).ToArray();
        foreach (var cells in runs.Select(Cells))
        {
            for (var i = 0; i < cells.Length; i++)
            {
                widths[i] = Math.Max(widths[i], cells[i].Length);
            }
        }

        widths[2] = Math.Max(widths[2], 12);
        widths[4] = Math.Max(widths[4], "outcome-unknown".Length);
        widths[3] = Math.Max(widths[3], "start-again".Length);
        return new RunTable(widths);
    }

    public string Header() => Format(Headers);

    public string Row(RunView run) => Format(Cells(run));

    internal static string Time(DateTimeOffset time)
        => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    private static string[] Cells(RunView run) =>
    [
        Time(run.CreatedAt),
        run.RunId,
        run.Trigger,
        run.Origin,
        run.State,
        run.JobId is null ? "-" : run.JobStatus is { } status ? $"{run.JobId} ({Status(status)}{Followed(run)})" : run.JobId,
    ];

    /// <summary>What the watch adds to a job's state: how long it ran, or that it is overdue, lost or abandoned.</summary>
    internal static string Followed(RunView run) => run.Watch switch
    {
        null => string.Empty,
        { State: "lost" or "abandoned" } watch => ", " + watch.State,
        { OverdueAt: not null, JobEndedAt: null } => ", overdue",
        { DurationSeconds: { } seconds } watch => $", {Duration(seconds)}{(watch.OverdueAt is null ? string.Empty : ", overdue")}",
        _ => string.Empty,
    };

    private static string Duration(double seconds)
        => TimeSpan.FromSeconds(Math.Round(seconds)) is var span && span.TotalHours >= 1
            ? span.ToString(@"h\hmm\m", CultureInfo.InvariantCulture)
            : span.TotalMinutes >= 1 ? span.ToString(@"m\mss\s", CultureInfo.InvariantCulture) : span.ToString(@"s\s", CultureInfo.InvariantCulture);

    /// <summary>
    /// The job status the run holds, saying when it was read unless it is final: a status read when the job was
    /// started is not the job's status now (the listing does not call the platforms).
    /// </summary>
    internal static string Status(JobStatusView status)
        => status.State is "succeeded" or "failed" or "cancelled" ? status.State
            : status.CheckedAt is { } at ? $"{status.State} at {at.UtcDateTime.ToString("HH:mm:ss", CultureInfo.InvariantCulture)}"
            : $"{status.State} at start";

    private string Format(string[] cells)
        => string.Join(Gap, cells.Select((cell, i) => i == cells.Length - 1 ? cell : cell.PadRight(_widths[i]))).TrimEnd();
}

/// <summary>A run's lineage as a tree of lines: the cause (or the parent run), the run, its followers; then its history.</summary>
internal static class LineageTree
{
    public static IEnumerable<string> Lines(RunDetail detail)
    {
        ArgumentNullException.ThrowIfNull(detail);
        var run = detail.Run;
        yield return detail.Parent is { } parent ? Describe(parent) : Cause(detail.Cause);
        yield return "└── " + Describe(run) + "  <- this run";
        for (var i = 0; i < detail.Followers.Count; i++)
        {
            yield return (i == detail.Followers.Count - 1 ? "    └── " : "    ├── ") + Describe(detail.Followers[i]);
        }

        if (run.Reason is { Length: > 0 } reason)
        {
            yield return string.Empty;
            yield return "Reason: " + reason;
        }

        if (detail.History.Count > 0)
        {
            yield return string.Empty;
            yield return "History:";
            foreach (var entry in detail.History)
            {
                yield return $"  {RunTable.Time(entry.At)}  {entry.Action} by {entry.By}{(entry.Detail is { Length: > 0 } text ? ": " + text : string.Empty)}";
            }
        }
    }

    private static string Describe(RunView run)
    {
        var job = run.JobId is null ? string.Empty : $", job {run.JobId}{(run.JobStatus is { } status ? $" {RunTable.Status(status)}{RunTable.Followed(run)}" : string.Empty)}";
        return $"{run.RunId} {run.Trigger} {run.State} ({run.Origin}, {RunTable.Time(run.CreatedAt)}{job})";
    }

    private static string Cause(RunCause cause)
    {
        var what = cause.DeliveryKey ?? (cause.Occurrence is { } occurrence ? "occurrence " + RunTable.Time(occurrence) : null);
        return what is null ? cause.Kind : $"{cause.Kind} {what}";
    }
}
