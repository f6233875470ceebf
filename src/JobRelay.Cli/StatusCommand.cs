using System.CommandLine;
using System.Globalization;
using JobRelay.History;
using JobRelay.Model;
using JobRelay.Runs;
using JobRelay.Scheduling;
using JobRelay.Web;
using Microsoft.Extensions.DependencyInjection;

namespace JobRelay.Cli;

/// <summary>
/// <c>jobrelay status [trigger job-id]</c>: a job's current status, normalised, read from its platform; and, from the
/// store, the scheduler's last tick.
/// </summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        var trigger = new Argument<string?>("trigger") { Description = "The trigger whose platform ran the job.", Arity = ArgumentArity.ZeroOrOne };
        var jobId = new Argument<string?>("job-id") { Description = "The platform's job id.", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("status", "Read a job's current status from its platform, and the scheduler's last tick from the store.")
        {
            trigger, jobId, JobRelayCommandLine.TriggersOption(SandboxCatalog.FolderOrBuiltIn), JobRelayCommandLine.SandboxOption(), JobRelayCommandLine.DataOption, JobRelayCommandLine.StoreOption,
        };
        command.Validators.Add(result =>
        {
            if ((result.GetValue(trigger) is null) != (result.GetValue(jobId) is null))
            {
                result.AddError("Give both the trigger and the job id, or neither (for the scheduler's last tick alone).");
            }
        });
        command.SetAction(async (parse, cancellationToken) =>
        {
            // A read: the store is never created or written.
            await using var engine = await CliEngine.StartAsync(parse, new Dictionary<string, string?> { ["JobRelay:Store:ReadOnly"] = "true" }, cancellationToken);
            var exit = parse.GetValue(trigger) is { } name
                ? await PrintJobAsync(engine.Services, name, parse.GetValue(jobId)!, parse.Sandbox(), cancellationToken)
                : 0;
            await PrintHeartbeatAsync(engine.Services.GetRequiredService<SchedulerHeartbeat>(), Console.Out, Console.Error, cancellationToken);
            return exit;
        });
        return command;
    }

    private static async Task<int> PrintJobAsync(IServiceProvider services, string trigger, string jobId, bool sandbox, CancellationToken cancellationToken)
    {
        var runner = services.GetRequiredService<TriggerRunner>();
        try
        {
            var definition = runner.GetTrigger(trigger);
            var status = await runner.GetStatusAsync(definition.Name, jobId, cancellationToken);
            var response = JobStatusResponse.From(definition.Name, definition.Platform, status);
            Console.WriteLine($"{response.JobId}: {response.State} ({response.RawStatus}){(response.IsFinal ? ", final" : string.Empty)}");
            if (response.Url is not null)
            {
                Console.WriteLine($"  {response.Url}");
            }

            if (response.Message is { Length: > 0 })
            {
                Console.WriteLine($"  {response.Message}");
            }

            return 0;
        }
        catch (RelayException ex) when (ex.Kind == RelayErrorKind.NotFound && sandbox)
        {
            // Each sandbox command has emulators of its own, gone with it: the job is known by its run, if at all.
            var run = await FindRunAsync(services.GetRequiredService<RunHistory>(), trigger, jobId, cancellationToken);
            if (run?.JobStatus is not { } last)
            {
                await Console.Error.WriteLineAsync($"error: {ex.Message} Sandbox jobs live as long as the emulators of the command that started them ('jobrelay serve --sandbox', or 'jobrelay fire TRIGGER --sandbox --wait').");
                return 1;
            }

            var read = last.CheckedAt is { } at ? "last read " + RunTable.Time(at) + " UTC" : "as started";
            Console.WriteLine($"{run.JobId}: {last.State} ({last.Raw}), {read}: the sandbox that ran it has stopped (run {run.RunId})");
            return 0;
        }
        catch (RelayException ex)
        {
            await Console.Error.WriteLineAsync($"error: {ex.Message}");
            return 1;
        }
    }

    /// <summary>The last tick the store holds; a store that cannot be read is said so, and does not fail the command.</summary>
    internal static async Task PrintHeartbeatAsync(SchedulerHeartbeat heartbeat, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        SchedulerHeartbeatReport report;
        try
        {
            report = await heartbeat.CheckAsync(cancellationToken);
        }
        catch (FileNotFoundException)
        {
            // A read never creates the store: with no store yet, no tick was ever recorded.
            await output.WriteLineAsync("scheduler: no tick recorded in this store");
            return;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            await error.WriteLineAsync($"scheduler: the store could not be read for the last tick ({ex.GetType().Name}).");
            return;
        }

        await output.WriteLineAsync(Describe(report));
    }

    internal static string Describe(SchedulerHeartbeatReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (report.LastTick is not { } last)
        {
            return "scheduler: no tick recorded in this store";
        }

        var age = report.CheckedAt - last;
        var ago = age < TimeSpan.FromMinutes(2)
            ? string.Create(CultureInfo.InvariantCulture, $"{Math.Max(0, (int)age.TotalSeconds)} s ago")
            : age < TimeSpan.FromHours(2)
                ? string.Create(CultureInfo.InvariantCulture, $"{(int)age.TotalMinutes} min ago")
                : string.Create(CultureInfo.InvariantCulture, $"{(int)age.TotalHours} h ago");
        return string.Create(CultureInfo.InvariantCulture, $"scheduler: last tick {last.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z ({ago}) by {report.Host}, instance {report.Instance}");
    }

    private static async Task<RunView?> FindRunAsync(RunHistory history, string trigger, string jobId, CancellationToken cancellationToken)
    {
        var query = new RunQuery { Trigger = trigger, Limit = RunQuery.MaxLimit };
        while (true)
        {
            RunList page;
            try
            {
                page = await history.ListAsync(query, cancellationToken);
            }
            catch (FileNotFoundException)
            {
                return null;
            }

            if (page.Runs.FirstOrDefault(r => r.JobId == jobId) is { } run)
            {
                return run;
            }

            if (page.Next is null)
            {
                return null;
            }

            query = query with { Cursor = page.Next };
        }
    }
}
