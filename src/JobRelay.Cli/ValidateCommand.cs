using System.CommandLine;
using JobRelay.Model;
using JobRelay.Triggers;

namespace JobRelay.Cli;

/// <summary><c>jobrelay validate</c>: every catalog error, by JSON path; exit code 1 if there is any.</summary>
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
            foreach (var trigger in catalog.Triggers.Values.OrderBy(t => t.Name, StringComparer.Ordinal))
            {
                Console.WriteLine($"  {trigger.Name} → {trigger.Platform}{Describe(trigger)}");
            }

            return 0;
        });
        return command;
    }

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
