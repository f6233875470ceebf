using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using JobRelay.History;
using JobRelay.Model;
using JobRelay.Platforms;
using JobRelay.Runs;
using JobRelay.Triggers;
using Microsoft.Extensions.DependencyInjection;

namespace JobRelay.Cli;

/// <summary><c>jobrelay fire</c>: start one trigger now; with <c>--wait</c>, follow the job until it ends.</summary>
internal static class FireCommand
{
    public static Command Create()
    {
        var trigger = new Argument<string>("trigger") { Description = "The trigger's name in the catalog." };
        var args = new Option<string[]>("--arg", "-a")
        {
            Description = "An argument value, NAME=VALUE (repeatable). VALUE is read as JSON when it parses (42, true, \"text\"), else as text. Only overridable arguments may be set.",
            AllowMultipleArgumentsPerToken = false,
        };
        var wait = new Option<bool>("--wait", "-w") { Description = "Follow the job with a live progress line until it ends; the exit code is 0 only if it succeeded." };
        var poll = new Option<TimeSpan>("--poll-interval") { Description = "How often --wait reads the job's status.", DefaultValueFactory = _ => TimeSpan.FromSeconds(2) };
        var command = new Command("fire", "Start a trigger's job now and print its id and URL.")
        {
            trigger, args, wait, poll, JobRelayCommandLine.TriggersOption(SandboxCatalog.FolderOrBuiltIn), JobRelayCommandLine.SandboxOption(), JobRelayCommandLine.DataOption, JobRelayCommandLine.StoreOption,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            await using var engine = await CliEngine.StartAsync(parse, cancellationToken);
            var runner = engine.Services.GetRequiredService<TriggerRunner>();
            try
            {
                var definition = runner.GetTrigger(parse.GetValue(trigger)!);
                var overrides = ParseArguments(parse.GetValue(args) ?? []);
                var arguments = TriggerJobFactory.ApplyOverrides(definition, overrides);
                var run = await runner.RunAsync(definition.Name, arguments, RunOrigin.Cli, cancellationToken);
                Console.WriteLine($"Started job {run.JobId} on {run.Platform} for {run.Trigger} (run {run.RunId})");
                if (run.JobUrl is not null)
                {
                    Console.WriteLine($"  {run.JobUrl}");
                }

                if (!parse.GetValue(wait))
                {
                    return 0;
                }

                var final = await JobFollower.FollowAsync(runner, run.Trigger, run.Status, parse.GetValue(poll), Console.Out, cancellationToken);

                // The run keeps the job's final status, so that 'runs' and 'status' show it after the emulators are gone.
                await engine.Services.GetRequiredService<RunHistory>().GetAsync(run.RunId, readJobStatus: true, cancellationToken);
                return final.State == JobState.Succeeded ? 0 : 1;
            }
            catch (RelayException ex)
            {
                await Console.Error.WriteLineAsync($"error: {ex.Message}");
                return ex.Kind is RelayErrorKind.InvalidInput or RelayErrorKind.NotFound or RelayErrorKind.MappingFailed ? 2 : 1;
            }
        });
        return command;
    }

    internal static JsonObject? ParseArguments(IEnumerable<string> pairs)
    {
        JsonObject? result = null;
        foreach (var pair in pairs)
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new RelayException(RelayErrorKind.InvalidInput, $"--arg '{pair}' is not NAME=VALUE.");
            }

            result ??= [];
            result[pair[..equals]] = ParseValue(pair[(equals + 1)..]);
        }

        return result;
    }

    private static JsonNode? ParseValue(string text)
    {
        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            return JsonValue.Create(text);
        }
    }
}

/// <summary>Follows a job with one progress line, rewritten in place, until the job's status is final.</summary>
internal static class JobFollower
{
    public static async Task<JobStatus> FollowAsync(TriggerRunner runner, string trigger, JobStatus status, TimeSpan interval, TextWriter output, CancellationToken cancellationToken)
    {
        var started = DateTimeOffset.UtcNow;
        var live = !Console.IsOutputRedirected;
        while (!status.IsFinal)
        {
            Write(output, status, DateTimeOffset.UtcNow - started, live, final: false);
            await Task.Delay(interval, cancellationToken);
            status = await runner.GetStatusAsync(trigger, status.JobId, cancellationToken);
        }

        Write(output, status, DateTimeOffset.UtcNow - started, live, final: true);
        return status;
    }

    private static void Write(TextWriter output, JobStatus status, TimeSpan elapsed, bool live, bool final)
    {
        var line = string.Create(CultureInfo.InvariantCulture, $"  job {status.JobId}: {status.State.ToString().ToLowerInvariant()} ({status.RawStatus}) {elapsed.TotalSeconds:0}s");
        if (final && status.Message is { Length: > 0 } message)
        {
            line += $" — {message}";
        }

        if (live)
        {
            output.Write("\r" + line.PadRight(Math.Max(line.Length, 60)));
            if (final)
            {
                output.WriteLine();
            }
        }
        else
        {
            output.WriteLine(line);
        }
    }
}
