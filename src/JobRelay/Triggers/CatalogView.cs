using System.Text.Json.Nodes;
using JobRelay.Model;

namespace JobRelay.Triggers;

/// <summary>
/// The catalog as callers may see it (<c>GET /api/triggers</c>, <c>jobrelay validate</c>): what each trigger starts and
/// what may start it. Secret names are left out: they say nothing a caller needs and map the vault's layout.
/// </summary>
internal static class CatalogView
{
    /// <summary>Renders the catalog; with <paramref name="now"/>, scheduled triggers list their next three occurrences after it.</summary>
    public static JsonObject Render(TriggerCatalog catalog, DateTimeOffset? now = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new JsonObject
        {
            ["platforms"] = new JsonArray([.. catalog.Platforms.Values.OrderBy(p => p.Name, StringComparer.Ordinal).Select(RenderPlatform)]),
            ["triggers"] = new JsonArray([.. catalog.Triggers.Values.OrderBy(t => t.Name, StringComparer.Ordinal).Select(t => RenderTrigger(t, now))]),
        };
    }

    private static JsonNode RenderPlatform(PlatformDefinition platform) => new JsonObject
    {
        ["name"] = platform.Name,
        ["type"] = platform.Kind.ToString().ToLowerInvariant(),
        ["url"] = platform.Url.ToString(),
    };

    private static JsonObject RenderTrigger(TriggerDefinition trigger, DateTimeOffset? now)
    {
        var node = new JsonObject
        {
            ["name"] = trigger.Name,
            ["platform"] = trigger.Platform,
            ["enabled"] = trigger.Enabled,
        };
        if (trigger.Description is not null)
        {
            node["description"] = trigger.Description;
        }

        node["job"] = trigger.Keboola is { } keboola
            ? new JsonObject { ["component"] = keboola.Component.Source, ["config"] = keboola.Config?.Source, ["mode"] = keboola.Mode?.Source ?? "run" }
            : new JsonObject { ["task"] = trigger.TheEye!.Task.Source };
        node["arguments"] = new JsonArray([.. trigger.Arguments.Values.Select(a =>
        {
            var argument = new JsonObject { ["name"] = a.Name, ["required"] = a.Required, ["overridable"] = a.Overridable };
            if (a.Default is not null)
            {
                argument["default"] = a.Default.DeepClone();
            }

            if (a.From is not null)
            {
                argument["from"] = a.From.ToString();
            }

            return (JsonNode)argument;
        })]);
        if (trigger.Schedule is { } schedule)
        {
            node["schedule"] = new JsonObject { ["cron"] = schedule.Cron, ["timeZone"] = schedule.TimeZone.Id };
            if (now is { } from)
            {
                var cron = new Scheduling.CronSchedule(schedule.Cron, schedule.TimeZone);
                var next = new JsonArray();
                for (var after = from; next.Count < 3 && cron.GetNextOccurrence(after) is { } occurrence; after = occurrence)
                {
                    next.Add(occurrence.ToUniversalTime());
                }

                node["nextOccurrences"] = next;
            }
        }

        if (trigger.Webhook is { } webhook)
        {
            node["webhook"] = new JsonObject
            {
                ["scheme"] = WebhookSchemes.NameOf(webhook.Scheme),
                ["route"] = $"/api/hooks/{trigger.Name}",
                ["events"] = new JsonArray([.. webhook.Events.Select(e => (JsonNode)e)]),
            };
        }

        if (trigger.After.Count > 0)
        {
            node["after"] = new JsonArray([.. trigger.After.Select(rule => (JsonNode)new JsonObject
            {
                ["trigger"] = rule.Trigger,
                ["platform"] = rule.Platform,
                ["component"] = rule.Component,
                ["config"] = rule.Config,
                ["task"] = rule.Task,
                ["states"] = new JsonArray([.. rule.States.Select(s => (JsonNode)s.ToString().ToLowerInvariant())]),
            })]);
        }

        return node;
    }
}

/// <summary>The secrets a catalog needs.</summary>
public static class CatalogSecrets
{
    /// <summary>Every secret name the catalog refers to, each once, sorted.</summary>
    public static IReadOnlyList<string> Names(TriggerCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var platform in catalog.Platforms.Values)
        {
            names.UnionWith(platform.SecretNames);
        }

        foreach (var trigger in catalog.Triggers.Values)
        {
            if (trigger.TheEye?.SecretKeySecret is { } secretKey)
            {
                names.Add(secretKey);
            }

            if (trigger.Webhook is { } webhook)
            {
                names.UnionWith(webhook.Secrets);
            }
        }

        names.UnionWith(catalog.Destinations.Values.Select(destination => destination.Secret));

        return [.. names];
    }
}
