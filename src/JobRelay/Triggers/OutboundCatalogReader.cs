using System.Text.Json.Nodes;
using JobRelay.Model;

namespace JobRelay.Triggers;

/// <summary>
/// Reads the catalog's <c>destinations</c> and <c>subscriptions</c>. Their structure (destination types, secret names,
/// event types) is the schema's to check; this reads them and checks what a schema cannot say: that a subscription's
/// destination, triggers and platforms are ones this catalog declares.
/// </summary>
internal static class OutboundCatalogReader
{
    public static TriggerCatalog Read(JsonObject root, TriggerCatalog catalog, CatalogReader reader)
    {
        var destinations = new Dictionary<string, DestinationDefinition>(StringComparer.Ordinal);
        var declared = new HashSet<string>(StringComparer.Ordinal);
        if (root["destinations"] is { } destinationsNode && reader.AsObject(destinationsNode, "$.destinations") is { } destinationsObj)
        {
            foreach (var (name, node) in destinationsObj)
            {
                declared.Add(name);
                var path = CatalogReader.Child("$.destinations", name);
                if (!CatalogNames.IsValid(name))
                {
                    reader.Error(path, "is not a valid destination name: letters, digits, '-', '_' and '.', starting with a letter or digit.");
                    continue;
                }

                if (ReadDestination(name, node, path, reader) is { } destination)
                {
                    destinations[name] = destination;
                }
            }
        }

        var subscriptions = new List<SubscriptionDefinition>();
        if (root["subscriptions"] is { } subscriptionsNode)
        {
            if (subscriptionsNode is not JsonArray list)
            {
                reader.Error("$.subscriptions", $"must be an array of subscriptions, not {CatalogReader.Describe(subscriptionsNode)}.");
            }
            else
            {
                for (var i = 0; i < list.Count; i++)
                {
                    if (ReadSubscription(i, list[i], CatalogReader.Index("$.subscriptions", i), declared, catalog, reader) is { } subscription)
                    {
                        subscriptions.Add(subscription);
                    }
                }
            }
        }

        return catalog with { Destinations = destinations, Subscriptions = subscriptions };
    }

    private static DestinationDefinition? ReadDestination(string name, JsonNode? node, string path, CatalogReader reader)
    {
        if (reader.AsObject(node, path) is not { } obj)
        {
            return null;
        }

        var errorsBefore = reader.IssueCount;
        reader.String(obj, "description", path);
        var timeout = TriggerCatalogLoader.Duration(obj, "timeout", path, reader) ?? DestinationDefinition.DefaultTimeout;
        var concurrency = reader.Int(obj, "concurrency", path, 1, 64) ?? DestinationDefinition.DefaultConcurrency;
        switch (reader.String(obj, "type", path, required: true))
        {
            case "webhook":
            {
                var url = reader.String(obj, "url", path, required: true) is { } text ? reader.Endpoint(text, CatalogReader.Child(path, "url")) : null;
                var secret = reader.SecretName(obj, "signingSecret", path, required: true);
                return reader.IssueCount == errorsBefore && url is not null && secret is not null
                    ? new DestinationDefinition(name, DestinationKind.Webhook, ExactUrl(obj), secret, timeout, concurrency)
                    : null;
            }

            case "slack" or "teams":
            {
                var kind = obj["type"]!.GetValue<string>() == "slack" ? DestinationKind.Slack : DestinationKind.Teams;
                var secret = reader.SecretName(obj, "urlSecret", path, required: true);
                return reader.IssueCount == errorsBefore && secret is not null
                    ? new DestinationDefinition(name, kind, null, secret, timeout, concurrency)
                    : null;
            }

            case { } other:
                reader.Error(CatalogReader.Child(path, "type"), $"'{other}' is not a destination type: use 'webhook' (signed, Standard Webhooks), 'slack' or 'teams'.");
                return null;
            default:
                return null;
        }
    }

    /// <summary>A webhook's URL as written: a receiver's path is its own, so no trailing slash is added.</summary>
    private static Uri ExactUrl(JsonObject obj) => new(obj["url"]!.GetValue<string>(), UriKind.Absolute);

    private static SubscriptionDefinition? ReadSubscription(int index, JsonNode? node, string path, HashSet<string> destinations, TriggerCatalog catalog, CatalogReader reader)
    {
        if (reader.AsObject(node, path) is not { } obj)
        {
            return null;
        }

        var errorsBefore = reader.IssueCount;
        var to = reader.String(obj, "to", path, required: true);
        if (to is not null && !destinations.Contains(to))
        {
            reader.Error(CatalogReader.Child(path, "to"), $"'{to}' is not a destination of this catalog{Known(destinations)}.");
        }

        var events = reader.Strings(obj, "events", path);

        for (var i = 0; i < (events?.Count ?? 0); i++)
        {
            if (!OutboundEventTypes.IsKnown(events![i]))
            {
                reader.Error(CatalogReader.Index(CatalogReader.Child(path, "events"), i),
                    $"'{events[i]}' is not an event type: use {string.Join(", ", OutboundEventTypes.Names.SkipLast(1))} or {OutboundEventTypes.Names[^1]}.");
            }
        }

        var triggers = Names(obj, "triggers", path, catalog.Triggers.Keys, "trigger", reader);
        var platforms = Names(obj, "platforms", path, catalog.Platforms.Keys, "platform", reader);
        return reader.IssueCount == errorsBefore && to is not null && events is { Count: > 0 }
            ? new SubscriptionDefinition(index, to, events, triggers, platforms)
            : null;
    }

    private static IReadOnlyList<string>? Names(JsonObject obj, string member, string path, IEnumerable<string> known, string what, CatalogReader reader)
    {
        if (reader.Strings(obj, member, path) is not { } names)
        {
            return null;
        }

        var set = known.ToHashSet(StringComparer.Ordinal);
        for (var i = 0; i < names.Count; i++)
        {
            if (!set.Contains(names[i]))
            {
                reader.Error(CatalogReader.Index(CatalogReader.Child(path, member), i), $"'{names[i]}' is not a {what} of this catalog.");
            }
        }

        return names;
    }

    private static string Known(HashSet<string> names)
        => names.Count == 0 ? " (it declares no 'destinations')" : $" (it declares {string.Join(", ", names.Order(StringComparer.Ordinal))})";
}
