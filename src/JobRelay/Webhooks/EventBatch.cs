using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using JobRelay.Model;
using JobRelay.Runs;
using JobRelay.State;
using JobRelay.Triggers;
using JobRelay.Web;
using Microsoft.Extensions.Logging;

namespace JobRelay.Webhooks;

/// <summary>
/// An Event Grid delivery, or a CloudEvents batch, is an array of events, and the sender retries a failed batch
/// whole. Each event is therefore its own delivery: its <c>id</c> is the delivery key, the trigger's event types,
/// filters and <c>body:$.x</c> mappings address the event, and the answer reports every event's outcome. A batch
/// in which an event failed is answered with that failure's status (the highest, when several failed), so the
/// sender retries it; the events that were started are then recognised as duplicates.
/// </summary>
/// <remarks>
/// A batch is bounded before any per-event work: more than <see cref="MaxEvents"/> events (Event Grid's own delivery
/// limit; the body limit bounds the bytes) is refused whole. The answer is bounded too: it counts every event's
/// outcome, and lists each event only for a batch of up to <see cref="MaxListedEvents"/> events; a larger batch lists
/// its first <see cref="MaxListedEvents"/> failures.
/// </remarks>
internal sealed class EventBatch(TriggerRunner runner, ILogger logger)
{
    /// <summary>The most events one batch may hold: Event Grid delivers at most 5,000 events in a batch.</summary>
    public const int MaxEvents = 5_000;

    /// <summary>The most per-event outcomes an answer lists.</summary>
    public const int MaxListedEvents = 100;

    /// <summary>The events of a delivery that is a batch for its scheme, or null when it is a single delivery.</summary>
    public static JsonArray? Events(WebhookScheme scheme, WebhookDelivery delivery)
    {
        if (scheme is not (WebhookScheme.EventGrid or WebhookScheme.CloudEvents) || !delivery.IsJson || !StartsAsArray(delivery.Body.Span))
        {
            return null;
        }

        if (HasMoreElementsThan(delivery.Body.Span, MaxEvents))
        {
            throw new RelayException(
                RelayErrorKind.PayloadTooLarge,
                string.Create(CultureInfo.InvariantCulture, $"A batch holds at most {MaxEvents:N0} events (Event Grid's own delivery limit); this one holds more. Send it in smaller batches."));
        }

        return RequestBody.ParseJson(delivery.Body) as JsonArray;
    }

    public async Task<WebhookBatchProcessed> StartAsync(TriggerDefinition trigger, WebhookDefinition webhook, WebhookDelivery delivery, JsonArray events, CancellationToken cancellationToken)
    {
        var outcomes = new JsonArray();
        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var listsEvery = events.Count <= MaxListedEvents;
        RelayException? worst = null;
        var typeField = webhook.Scheme == WebhookScheme.EventGrid ? "eventType" : "type";
        for (var i = 0; i < events.Count; i++)
        {
            var (outcome, failure) = await StartOneAsync(trigger, webhook, delivery, events[i], i, typeField, cancellationToken);
            var status = (string?)outcome["status"] ?? "failed";
            counts[status] = counts.GetValueOrDefault(status) + 1;
            if (listsEvery || (failure is not null && outcomes.Count < MaxListedEvents))
            {
                outcomes.Add(outcome);
            }

            if (failure is not null && (worst is null || Problems.Describe(failure.Kind).Status > Problems.Describe(worst.Kind).Status))
            {
                worst = failure;
            }
        }

        if (worst is null)
        {
            return new WebhookBatchProcessed(trigger.Name, outcomes, counts, null);
        }

        var failed = counts.GetValueOrDefault("failed");
        var listed = listsEvery ? "each event's outcome is in \"events\"" : string.Create(CultureInfo.InvariantCulture, $"\"events\" lists the first {outcomes.Count} failures");
        var summary = new RelayException(
            worst.Kind,
            string.Create(CultureInfo.InvariantCulture, $"{failed} of {events.Count} events failed; {listed}. The others need no resend: a resent batch starts only what has not been started."))
        {
            Platform = worst.Platform,
            PlatformStatusCode = worst.PlatformStatusCode,
            RetryAfter = worst.RetryAfter,
        };
        return new WebhookBatchProcessed(trigger.Name, outcomes, counts, summary);
    }

    private async Task<(JsonObject Outcome, RelayException? Failure)> StartOneAsync(
        TriggerDefinition trigger,
        WebhookDefinition webhook,
        WebhookDelivery delivery,
        JsonNode? node,
        int index,
        string typeField,
        CancellationToken cancellationToken)
    {
        if (node is not JsonObject item)
        {
            return Failed(null, new RelayException(RelayErrorKind.InvalidInput, $"Event {index} of the batch is not a JSON object."));
        }

        var values = new DeliveryValues(delivery, trigger.Name, item, null);
        var id = Text(item, "id") ?? (webhook.DeliveryId is { } idSource ? values.Text(idSource) : null);
        try
        {
            return await DeliveryStart.RunAsync(runner, logger, trigger, webhook, Text(item, typeField), values, id, id, cancellationToken) switch
            {
                DeliveryIgnored ignored => (new JsonObject { ["id"] = id, ["status"] = "ignored", ["reason"] = ignored.Reason }, null),
                DeliveryDuplicate duplicate => (Duplicate(id!, duplicate.Original), null),
                DeliveryStarted started => (Started(id, started.Outcome), null),
                var other => throw new InvalidOperationException($"No batch outcome for {other.GetType().Name}."),
            };
        }
        catch (RelayException ex)
        {
            IngressLog.EventFailed(logger, trigger.Name, index, Problems.Describe(ex.Kind).Type);
            return Failed(id, ex);
        }
    }

    private static JsonObject Started(string? id, RunOutcome outcome)
    {
        var answer = StoredRunAnswers.Describe(outcome.Record);
        answer["id"] = id;
        AddRun(answer, outcome.Run);
        return answer;
    }

    private static JsonObject Duplicate(string id, RunRecord original)
    {
        var duplicate = StoredRunAnswers.Describe(original);
        duplicate["id"] = id;
        duplicate["status"] = "duplicate";
        AddRun(duplicate, new RunOutcome(original, IsFirst: false).Run);
        return duplicate;
    }

    private static (JsonObject, RelayException) Failed(string? id, RelayException failure)
    {
        var (status, type, _) = Problems.Describe(failure.Kind);
        return (new JsonObject
        {
            ["id"] = id,
            ["status"] = "failed",
            ["type"] = Problems.TypePrefix + type,
            ["httpStatus"] = status,
            ["detail"] = failure.Message,
        }, failure);
    }

    private static void AddRun(JsonObject outcome, RelayRun? run)
    {
        if (run is null)
        {
            return;
        }

        var response = RunResponse.From(run);
        outcome["runId"] = response.RunId;
        outcome["platform"] = response.Platform;
        outcome["jobId"] = response.JobId;
        outcome["jobUrl"] = response.JobUrl?.ToString();
    }

    private static string? Text(JsonObject item, string name)
        => item[name] is JsonValue value && value.TryGetValue<string>(out var text) && text.Length > 0 ? text : null;

    /// <summary>
    /// Whether the top-level array holds more than <paramref name="max"/> elements, counted without building them. A
    /// body that is not well-formed JSON counts as within the limit: the parse that follows names its error.
    /// </summary>
    private static bool HasMoreElementsThan(ReadOnlySpan<byte> body, int max)
    {
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray)
            {
                return false;
            }

            var count = 0;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (++count > max)
                {
                    return true;
                }

                reader.Skip();
            }
        }
        catch (JsonException)
        {
        }

        return false;
    }

    private static bool StartsAsArray(ReadOnlySpan<byte> body)
    {
        var trimmed = body.TrimStart(" \t\r\n"u8);
        if (trimmed.StartsWith("\uFEFF"u8))
        {
            trimmed = trimmed[3..].TrimStart(" \t\r\n"u8);
        }

        return !trimmed.IsEmpty && trimmed[0] == (byte)'[';
    }
}
