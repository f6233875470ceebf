using System.Diagnostics;
using System.Text.Json.Nodes;
using JobRelay.Diagnostics;
using JobRelay.Model;
using JobRelay.Runs;
using JobRelay.Secrets;
using JobRelay.State;
using JobRelay.Triggers;
using JobRelay.Web;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobRelay.Webhooks;

/// <summary>
/// One webhook delivery, from delivery to outcome, whichever host received it: verify the signature against every
/// active secret, answer handshakes, de-duplicate by delivery id or, for schemes that sign no timestamp, by the digest
/// of the signed content (<see cref="ReplayDigest"/>), apply the trigger's filters, map the delivery into arguments
/// and start the job once per key, through the store every instance shares. It returns as soon as the job is started
/// (or kept pending, or the delivery is found duplicate or ignored), never waiting for the job itself.
/// </summary>
public sealed class WebhookProcessor(
    TriggerRunner runner,
    ISecretStore secrets,
    IWebhookVerifierFactory verifiers,
    IOptions<WebhookOptions> options,
    TimeProvider clock,
    ILogger<WebhookProcessor> logger)
{
    internal Task<WebhookOutcome> ProcessAsync(string triggerName, WebhookDelivery delivery, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        return ProcessAsync(triggerName, _ => Task.FromResult(delivery), cancellationToken);
    }

    /// <param name="receive">Reads the delivery; it is called only once the trigger is known to take webhooks, so
    /// that a caller naming no such trigger is refused before its body is read.</param>
    internal async Task<WebhookOutcome> ProcessAsync(string triggerName, Func<CancellationToken, Task<WebhookDelivery>> receive, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(receive);
        // One answer for a trigger that takes no webhooks and for one that does not exist, so that the hook route
        // does not tell anonymous callers which trigger names the catalog holds.
        if (!runner.Catalog.Triggers.TryGetValue(triggerName, out var trigger) || trigger.Webhook is not { } webhook)
        {
            // The name comes from an anonymous caller: it is not a metric tag, lest anyone mint time series.
            RelayTelemetry.Deliveries.Add(1, RelayTelemetry.Tags("-", "not-found"));
            throw new RelayException(RelayErrorKind.NotFound, "No trigger of this name takes webhooks: a trigger takes them only with a webhook block in the catalog.");
        }

        var outcome = "failed";
        try
        {
            var delivery = await receive(cancellationToken);
            var settings = WebhookSettings.From(webhook, options.Value.DefaultTolerance);
            var verification = await VerifyAsync(delivery, settings, webhook.Secrets, cancellationToken);
            var posted = delivery.Method == "POST";

            switch (verification)
            {
                case WebhookRejected rejected:
                    outcome = "rejected";
                    IngressLog.Rejected(logger, trigger.Name, rejected.Reason);
                    runner.CountRejected(trigger.Name);
                    throw rejected.ToException();
                case WebhookHandshake handshake:
                    outcome = "handshake";
                    IngressLog.Handshake(logger, trigger.Name, handshake.StatusCode);
                    return new WebhookHandshakeAnswered(trigger.Name, handshake);
                case WebhookVerified when posted && EventBatch.Events(settings.Scheme, delivery) is { } events:
                    outcome = "batch";
                    return await new EventBatch(runner, logger).StartAsync(trigger, webhook, delivery, events, cancellationToken);
                case WebhookVerified verified when posted:
                    var single = await StartAsync(trigger, webhook, delivery, verified, cancellationToken);
                    outcome = single.Result switch
                    {
                        DeliveryDuplicate => "duplicate",
                        DeliveryIgnored => "ignored",
                        DeliveryStarted started => StoredRunAnswers.StateName(started.Outcome.Record.State),
                        _ => outcome,
                    };
                    return single;
                default:
                    outcome = "rejected";
                    return new WebhookNotPosted(trigger.Name, delivery.Method);
            }
        }
        finally
        {
            RelayTelemetry.Deliveries.Add(1, RelayTelemetry.Tags(trigger.Name, outcome));
        }
    }

    private async Task<WebhookVerification> VerifyAsync(WebhookDelivery delivery, WebhookVerifierSettings settings, IReadOnlyList<string> secretNames, CancellationToken cancellationToken)
    {
        using var activity = RelayTelemetry.Source.StartActivity("webhook verify", ActivityKind.Internal);
        activity?.SetTag("jobrelay.webhook.scheme", settings.Scheme.ToString());
        var activeSecrets = await ReadSecretsAsync(secretNames, cancellationToken);
        var verification = verifiers.Get(settings.Scheme).Verify(delivery, settings, activeSecrets);
        if (activity is not null)
        {
            activity.SetTag("jobrelay.outcome", verification switch
            {
                WebhookRejected => "rejected",
                WebhookHandshake => "handshake",
                _ => "verified",
            });
            if (verification is WebhookRejected)
            {
                activity.SetStatus(ActivityStatusCode.Error, "rejected");
            }
        }

        return verification;
    }

    private async Task<WebhookDeliveryProcessed> StartAsync(TriggerDefinition trigger, WebhookDefinition webhook, WebhookDelivery delivery, WebhookVerified verified, CancellationToken cancellationToken)
    {
        var values = new DeliveryValues(delivery, trigger.Name, ParsePayload(delivery), null);
        var deliveryId = verified.DeliveryId ?? (webhook.DeliveryId is { } idSource ? values.Text(idSource) : null);
        var digest = webhook.Replay == WebhookReplay.Digest && ReplayDigest.KeysDelivery(webhook.Scheme, deliveryId is not null)
            ? ReplayDigest.Of(webhook.Scheme, delivery)
            : null;

        // A digest covers the sender's retries (same id, same content) and a captured request resent with a new id or
        // none, for the whole retention; for schemes that sign nothing, for the trigger's digest window. Without a
        // digest, the sender's id is the key.
        var keyText = digest ?? deliveryId;
        if (digest is not null && ReplayDigest.Window(webhook) is { } window)
        {
            keyText = await WindowedKeyAsync(trigger.Name, keyText!, window, cancellationToken);
        }

        var result = await DeliveryStart.RunAsync(runner, logger, trigger, webhook, verified.EventType, values, keyText, deliveryId ?? keyText, cancellationToken);
        return new WebhookDeliveryProcessed(trigger.Name, result);
    }

    /// <summary>
    /// The claim key of a digest that stands for a retry: the digest within the current window, or within the window
    /// before while that one's first delivery is less than a window old, so that a retry across a window's edge is
    /// still a duplicate. The same content a window or more after the first delivery is a new event.
    /// </summary>
    private async Task<string> WindowedKeyAsync(string triggerName, string digestKey, TimeSpan window, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var start = ReplayDigest.WindowStart(now, window);
        var previous = ReplayDigest.InWindow(digestKey, start - window);
        return await runner.FindClaimAsync(new DeliveryKey(triggerName, previous), cancellationToken) is { } first && now - first.CreatedAt < window
            ? previous
            : ReplayDigest.InWindow(digestKey, start);
    }

    private async Task<IReadOnlyList<SecretValue>> ReadSecretsAsync(IReadOnlyList<string> names, CancellationToken cancellationToken)
    {
        if (names.Count == 0)
        {
            return [];
        }

        var values = new SecretValue[names.Count];
        for (var i = 0; i < names.Count; i++)
        {
            values[i] = await secrets.GetAsync(names[i], cancellationToken);
        }

        return values;
    }

    private static JsonNode? ParsePayload(WebhookDelivery delivery)
        => delivery.IsJson && !delivery.Body.IsEmpty ? RequestBody.ParseJson(delivery.Body) : null;
}

/// <summary>The answers to a delivery or event once the store knows its run: the first, and its duplicates.</summary>
internal static class StoredRunAnswers
{
    /// <summary>A run that is not started, as JSON: its state, run id and reason, never its arguments.</summary>
    public static JsonObject Describe(RunRecord run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var answer = new JsonObject
        {
            ["status"] = StateName(run.State),
            ["runId"] = run.RunId,
            ["trigger"] = run.Trigger,
        };
        if (run.Reason is { } reason)
        {
            answer["reason"] = reason;
        }

        if (run is { State: RunState.Pending, NextAttemptAt: { } next })
        {
            answer["nextAttemptAt"] = next;
        }

        return answer;
    }

    /// <summary>The state a sender is told: a claim not yet settled is "in-flight", whichever phase it is in.</summary>
    public static string StateName(RunState state) => state is RunState.Claimed or RunState.Starting ? "in-flight" : RunStateNames.Of(state);
}

internal static partial class IngressLog
{
    [LoggerMessage(EventId = 1610, Level = LogLevel.Warning, Message = "Refused a delivery for trigger {Trigger}: {Reason}")]
    public static partial void Rejected(ILogger logger, string trigger, WebhookRejectionReason reason);

    [LoggerMessage(EventId = 1611, Level = LogLevel.Information, Message = "Answered a handshake for trigger {Trigger} with {Status}")]
    public static partial void Handshake(ILogger logger, string trigger, int status);

    [LoggerMessage(EventId = 1612, Level = LogLevel.Information, Message = "Delivery {DeliveryId} for trigger {Trigger} is a duplicate; answered with the original outcome")]
    public static partial void Duplicate(ILogger logger, string trigger, string deliveryId);

    [LoggerMessage(EventId = 1613, Level = LogLevel.Information, Message = "Ignored a delivery for trigger {Trigger}: {Reason}")]
    public static partial void Ignored(ILogger logger, string trigger, string reason);

    [LoggerMessage(EventId = 1614, Level = LogLevel.Warning, Message = "Event {Index} of a batch for trigger {Trigger} failed: {ProblemType}")]
    public static partial void EventFailed(ILogger logger, string trigger, int index, string problemType);
}
