using System.CommandLine;
using System.Globalization;
using JobRelay.History;
using JobRelay.State;
using Microsoft.Extensions.DependencyInjection;

namespace JobRelay.Cli;

/// <summary>
/// <c>jobrelay events</c>: the outbound deliveries that failed (pending a retry) or were dead-lettered, newest first,
/// with their last attempt, from the local store (read-only: it never creates one). No secret is stored with them.
/// </summary>
internal static class EventsCommand
{
    public static Command Create()
    {
        var limit = new Option<int>("--limit") { Description = "How many deliveries to list at most (default 50).", DefaultValueFactory = _ => 50 };
        var command = new Command("events", "List outbound event deliveries that failed or were dead-lettered.")
        {
            JobRelayCommandLine.DataOption,
            limit,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
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
            var failed = await engine.Services.GetRequiredService<RunHistory>().FailedEventsAsync(parse.GetValue(limit), cancellationToken);
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
        });
        return command;
    }
}
