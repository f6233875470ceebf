using System.Text.Json.Nodes;
using JobRelay.Model;
using JobRelay.Runs;
using JobRelay.State;
using JobRelay.Triggers;
using Microsoft.Extensions.Logging;

namespace JobRelay.Webhooks;

/// <summary>What became of one webhook delivery; a host turns it into its own answer.</summary>
internal abstract record WebhookOutcome(string Trigger);

/// <summary>A handshake (a subscription check, a URL validation), answered as the sender's scheme asks.</summary>
internal sealed record WebhookHandshakeAnswered(string Trigger, WebhookHandshake Handshake) : WebhookOutcome(Trigger);

/// <summary>
/// A batch of events, each its own delivery: how many events ended in each outcome, the events' outcomes as listed
/// (every event of a small batch, the first failures of a large one), and <paramref name="Failure"/>, which sums up
/// the events that failed, if any.
/// </summary>
internal sealed record WebhookBatchProcessed(string Trigger, JsonArray Events, IReadOnlyDictionary<string, int> Counts, RelayException? Failure) : WebhookOutcome(Trigger);

/// <summary>A single delivery: started, kept pending, found duplicate or ignored.</summary>
internal sealed record WebhookDeliveryProcessed(string Trigger, DeliveryResult Result) : WebhookOutcome(Trigger);

/// <summary>A verified request that is not a POST: only a handshake answers other methods.</summary>
internal sealed record WebhookNotPosted(string Trigger, string Method) : WebhookOutcome(Trigger);

/// <summary>What the store made of one delivery or one event of a batch.</summary>
internal abstract record DeliveryResult;

/// <summary>The trigger's filters turned the delivery away.</summary>
internal sealed record DeliveryIgnored(string Reason) : DeliveryResult;

/// <summary>The delivery's key was claimed before; <paramref name="Original"/> is what the first delivery did.</summary>
internal sealed record DeliveryDuplicate(RunRecord Original) : DeliveryResult;

/// <summary>The first delivery of its key: its run is started, pending, refused or of unknown outcome.</summary>
internal sealed record DeliveryStarted(RunOutcome Outcome) : DeliveryResult;

/// <summary>
/// Filter, then start once per key: the one path of a single delivery and of each event of a batch, so that both
/// keep the same duplicate rule (an ignored delivery is remembered too, and its redelivery is a duplicate).
/// </summary>
internal static class DeliveryStart
{
    /// <param name="keyText">The delivery key, or null when the delivery carries none (it is then never a duplicate).</param>
    /// <param name="logKey">How a duplicate is named in the log.</param>
    public static async Task<DeliveryResult> RunAsync(
        TriggerRunner runner,
        ILogger logger,
        TriggerDefinition trigger,
        WebhookDefinition webhook,
        string? eventType,
        DeliveryValues values,
        string? keyText,
        string? logKey,
        CancellationToken cancellationToken)
    {
        ClaimKey? key = keyText is null ? null : new DeliveryKey(trigger.Name, keyText);
        if (WebhookFilters.Rejects(webhook, eventType, values) is { } ignoredReason)
        {
            if (key is not null && await runner.IgnoreOnceAsync(key, trigger.Name, RunOrigin.Webhook, ignoredReason, cancellationToken) is { IsFirst: false } original)
            {
                IngressLog.Duplicate(logger, trigger.Name, logKey ?? keyText!);
                return new DeliveryDuplicate(original.Record);
            }

            IngressLog.Ignored(logger, trigger.Name, ignoredReason);
            return new DeliveryIgnored(ignoredReason);
        }

        var arguments = TriggerJobFactory.MapArguments(trigger, values);
        var outcome = await runner.StartOnceAsync(
            key ?? new RequestKey(Guid.CreateVersion7().ToString("n")), trigger.Name, arguments, RunOrigin.Webhook, parentRunId: null, queueWhenUnavailable: true, cancellationToken);
        if (!outcome.IsFirst)
        {
            IngressLog.Duplicate(logger, trigger.Name, logKey ?? keyText!);
            return new DeliveryDuplicate(outcome.Record);
        }

        return new DeliveryStarted(outcome);
    }
}
