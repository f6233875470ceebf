using System.CommandLine;
using JobRelay.History;
using JobRelay.Model;
using JobRelay.Runs;
using JobRelay.Web;
using Microsoft.Extensions.DependencyInjection;

namespace JobRelay.Cli;

/// <summary><c>jobrelay status</c>: a job's current status, normalised, read from its platform.</summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        var trigger = new Argument<string>("trigger") { Description = "The trigger whose platform ran the job." };
        var jobId = new Argument<string>("job-id") { Description = "The platform's job id." };
        var command = new Command("status", "Read a job's current status from its platform.")
        {
            trigger, jobId, JobRelayCommandLine.TriggersOption(SandboxCatalog.FolderOrBuiltIn), JobRelayCommandLine.SandboxOption(), JobRelayCommandLine.DataOption, JobRelayCommandLine.StoreOption,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            // A read: the store is never created or written.
            await using var engine = await CliEngine.StartAsync(parse, new Dictionary<string, string?> { ["JobRelay:Store:ReadOnly"] = "true" }, cancellationToken);
            var runner = engine.Services.GetRequiredService<TriggerRunner>();
            try
            {
                var definition = runner.GetTrigger(parse.GetValue(trigger)!);
                var status = await runner.GetStatusAsync(definition.Name, parse.GetValue(jobId)!, cancellationToken);
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
            catch (RelayException ex) when (ex.Kind == RelayErrorKind.NotFound && parse.Sandbox())
            {
                // Each sandbox command has emulators of its own, gone with it: the job is known by its run, if at all.
                var run = await FindRunAsync(engine.Services.GetRequiredService<RunHistory>(), parse.GetValue(trigger)!, parse.GetValue(jobId)!, cancellationToken);
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
        });
        return command;
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
