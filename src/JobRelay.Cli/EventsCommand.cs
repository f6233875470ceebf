using System.CommandLine;
using System.Globalization;
using JobRelay.History;
using JobRelay.State;
using Microsoft.Extensions.DependencyInjection;

namespace JobRelay.Cli;

/// <summary>
/// <c>jobrelay events</c>: the outbound deliveries that failed (pending a retry) or were dead-lettered, newest first,
/// with their last attempt, from the local store (read-only: it never creates one), or from a deployed app with
/// <c>--url</c> and <c>--api-key</c>. No secret is stored with them.
/// </summary>
internal static class EventsCommand
{
    public static Command Create()
    {
        var limit = new Option<int>("--limit") { Description = "How many deliveries to list at most (1 to 1000, default 50).", DefaultValueFactory = _ => 50 };
        var url = new Option<Uri?>("--url")
        {
            Description = "A deployed JobRelay to read from over its HTTP API (GET /api/deliveries/failed), such as https://myapp.azurewebsites.net (with --api-key). Without it, the local data folder is read.",
            CustomParser = JobRelayCommandLine.ParseHttpUrl,
        };
        var apiKey = new Option<string?>("--api-key")
        {
            Description = "The API key for --url, sent in x-functions-key (default: the JOBRELAY_API_KEY environment variable).",
        };
        var command = new Command("events", "List outbound event deliveries that failed or were dead-lettered.")
        {
            JobRelayCommandLine.DataOption,
            limit,
            url,
            apiKey,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (parse.GetValue(url) is { } address)
            {
                var key = parse.GetValue(apiKey) ?? Environment.GetEnvironmentVariable("JOBRELAY_API_KEY");
                if (string.IsNullOrEmpty(key))
                {
                    throw new CliStartupException(["--url needs the app's API key: pass --api-key or set JOBRELAY_API_KEY."]);
                }

                await using var source = ApiRunSource.Create(address, key);
                try
                {
                    return Print(await source.FailedEventsAsync(parse.GetValue(limit), cancellationToken));
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

            var folder = parse.GetValue(JobRelayCommandLine.DataOption)?.FullName
                ?? CliConfiguration.Build(parse, sandbox: null)["JobRelay:Store:DataFolder"] ?? StoreOptions.DefaultDataFolder;
            if (!File.Exists(Path.Combine(folder, StoreOptions.SqliteFileName)))
            {
                Console.WriteLine(LocalRunSource.NoRunsYet(folder));
                return 0;
            }

            await using var engine = await CliEngine.StartStoredAsync(parse, new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
            {
                ["JobRelay:Store:ReadOnly"] = "true",
                ["JobRelay:Store:DataFolder"] = folder,
            }, cancellationToken);
            return Print(await engine.Services.GetRequiredService<RunHistory>().FailedEventsAsync(parse.GetValue(limit), cancellationToken));
        });
        return command;
    }

    private static int Print(IReadOnlyList<RunEventDelivery> failed)
    {
        if (failed.Count == 0)
        {
            Console.WriteLine("No failed or dead-lettered deliveries.");
            return 0;
        }

        foreach (var delivery in failed)
        {
            var last = delivery.Attempts.Count == 0 ? null : delivery.Attempts[^1];
            var when = delivery.NextAttemptAt is { } next ? "next " + next.ToString("u", CultureInfo.InvariantCulture) : string.Empty;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{delivery.State,-13} {delivery.EventId}  → {delivery.Subscription}  {delivery.AttemptCount} attempt(s), last: {(last is null ? "none" : $"{last.At:u} {last.Status?.ToString(CultureInfo.InvariantCulture) ?? "no answer"} {last.Error}")}  {when}").TrimEnd());
        }

        return 0;
    }
}
