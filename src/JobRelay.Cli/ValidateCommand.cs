using System.CommandLine;
using JobRelay.Model;
using JobRelay.Triggers;

namespace JobRelay.Cli;

/// <summary>
/// <c>jobrelay validate</c>: every catalog error, by JSON path, and exit code 1 if there is any; otherwise the triggers,
/// where each chain's job ends come from, and the catalog's warnings (exit code 0).
/// </summary>
internal static class ValidateCommand
{
    public static Command Create()
    {
        var command = new Command("validate", "Check a trigger catalog and list every error by its JSON path.")
        {
            JobRelayCommandLine.TriggersOption(SandboxCatalog.None),
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var path = parse.Triggers()?.FullName ?? CliConfiguration.Build(parse, sandbox: null).CatalogPath();
            if (!File.Exists(path))
            {
                await Console.Error.WriteLineAsync(InitCommand.NoCatalogMessage(path));
                return 1;
            }

            var result = await TriggerCatalogLoader.LoadFileAsync(path, cancellationToken);
            if (result.Errors.Count > 0)
            {
                await Console.Error.WriteLineAsync($"{path}: {result.Errors.Count} error(s)");
                foreach (var error in result.Errors)
                {
                    await Console.Error.WriteLineAsync($"  {error}");
                }

                return 1;
            }

            var catalog = result.Catalog!;
            Console.WriteLine($"{path}: valid — {catalog.Platforms.Count} platform(s), {catalog.Triggers.Count} trigger(s)");
            var feeds = ChainFeed.Of(catalog).ToLookup(f => f.Trigger, StringComparer.Ordinal);
            foreach (var trigger in catalog.Triggers.Values.OrderBy(t => t.Name, StringComparer.Ordinal))
            {
                Console.WriteLine($"  {trigger.Name} → {trigger.Platform}{Describe(trigger)}");
                foreach (var feed in feeds[trigger.Name])
                {
                    Console.WriteLine($"    after[{feed.Index}] {Followed(feed)}: job ends from {(feed.Sources.Count == 0 ? "nowhere (see the warning)" : string.Join(" and ", feed.Sources))}");
                }
            }

            // Warnings leave the exit code at 0: the catalog loads and the host starts, saying the same in its log.
            if (result.Warnings.Count > 0)
            {
                await Console.Error.WriteLineAsync($"{path}: {result.Warnings.Count} warning(s)");
                foreach (var warning in result.Warnings)
                {
                    await Console.Error.WriteLineAsync($"  warning: {warning}");
                }
            }

            return 0;
        });
        return command;
    }

    private static string Followed(ChainFeed feed) => feed.Rule.Trigger is { } parent
        ? $"follows {parent}"
        : $"follows {feed.Platform.Name} jobs{((feed.Rule.Component ?? feed.Rule.Task) is { } job ? " of " + job : string.Empty)}";

    private static string Describe(TriggerDefinition trigger)
    {
        var parts = new List<string>();
        if (trigger.Schedule is { } schedule)
        {
            parts.Add($"schedule '{schedule.Cron}' {schedule.TimeZone.Id}");
        }

        if (trigger.Webhook is { } webhook)
        {
            parts.Add($"webhook {webhook.Scheme}");
        }

        if (trigger.After.Count > 0)
        {
            parts.Add($"{trigger.After.Count} after rule(s)");
        }

        if (!trigger.Enabled)
        {
            parts.Add("disabled");
        }

        return parts.Count == 0 ? string.Empty : " (" + string.Join(", ", parts) + ")";
    }
}
