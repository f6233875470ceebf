using System.Text;
using System.Text.Json.Nodes;
using JobRelay.Http;
using JobRelay.Runs;
using JobRelay.Secrets;
using JobRelay.Triggers;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobRelay.Webhooks;

/// <summary>
/// One webhook delivery, from request to answer: verify the signature against every active secret, answer
/// handshakes, de-duplicate by delivery id and, for schemes that sign no timestamp, by the digest of the signed
/// content (<see cref="ReplayDigest"/>), apply the trigger's filters, map the delivery into arguments and start
/// the job. It answers as soon as the job is started (or the delivery is found duplicate or ignored), never waiting
/// for the job itself.
/// </summary>
public sealed class WebhookIngress(
    TriggerRunner runner,
    ISecretStore secrets,
    IWebhookVerifierFactory verifiers,
    IDeliveryLedger ledger,
    IOptions<WebhookOptions> options,
    ILogger<WebhookIngress> logger)
{
    /// <summary>The ledger scope of replay digests, apart from delivery ids; no trigger name holds a colon.</summary>
    private const string ReplayScope = "replay:";

    public async Task<IResult> HandleAsync(HttpRequest request, string triggerName, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        // One answer for a trigger that takes no webhooks and for one that does not exist, so that the hook route
        // does not tell anonymous callers which trigger names the catalog holds.
        if (!runner.Catalog.Triggers.TryGetValue(triggerName, out var trigger) || trigger.Webhook is not { } webhook)
        {
            throw new RelayException(RelayErrorKind.NotFound, "No trigger of this name takes webhooks: a trigger takes them only with a webhook block in the catalog.");
        }

        var body = HttpMethods.IsOptions(request.Method)
            ? ReadOnlyMemory<byte>.Empty
            : await RequestBody.ReadAsync(request, options.Value.MaxBodyBytes, cancellationToken);
        var delivery = new WebhookDelivery(request.Method, PublicUrl(request), Headers(request), body, request.ContentType);
        var activeSecrets = await ReadSecretsAsync(webhook.Secrets, cancellationToken);
        var settings = WebhookSettings.From(webhook, options.Value.DefaultTolerance);

        switch (verifiers.Get(settings.Scheme).Verify(delivery, settings, activeSecrets))
        {
            case WebhookRejected rejected:
                IngressLog.Rejected(logger, trigger.Name, rejected.Reason);
                throw rejected.ToException();
            case WebhookHandshake handshake:
                IngressLog.Handshake(logger, trigger.Name, handshake.StatusCode);
                return new HandshakeResult(handshake);
            case WebhookVerified verified when HttpMethods.IsPost(request.Method):
                return await StartAsync(trigger, webhook, delivery, verified, cancellationToken);
            default:
                return Problems.For(RelayErrorKind.InvalidInput, $"{request.Method} is answered only as a handshake; deliveries are POSTed.", request.Path);
        }
    }

    private async Task<IResult> StartAsync(TriggerDefinition trigger, WebhookDefinition webhook, WebhookDelivery delivery, WebhookVerified verified, CancellationToken cancellationToken)
    {
        var values = new DeliveryValues(delivery, trigger.Name, ParsePayload(delivery), null);
        var deliveryId = verified.DeliveryId ?? (webhook.DeliveryId is { } idSource ? values.Text(idSource) : null);
        var digest = webhook.Replay == WebhookReplay.Digest && ReplayDigest.KeysDelivery(webhook.Scheme, deliveryId is not null)
            ? ReplayDigest.Of(webhook.Scheme, delivery)
            : null;

        // The sender's id first, then the digest, always in this order and in separate ledger scopes, so that two
        // deliveries waiting on each other's keys cannot wait forever.
        using var claims = new Claims();
        foreach (var (scope, key) in new[] { (trigger.Name, deliveryId), (ReplayScope + trigger.Name, digest) })
        {
            if (key is null)
            {
                continue;
            }

            var admission = await ledger.AdmitAsync(scope, key, cancellationToken);
            if (!admission.IsFirst)
            {
                claims.Settle(admission.Outcome!);
                IngressLog.Duplicate(logger, trigger.Name, key);
                return Duplicate(admission.Outcome!);
            }

            claims.Add(admission.Claim!);
        }

        if (WebhookFilters.Rejects(webhook, verified.EventType, values) is { } ignoredReason)
        {
            claims.CompleteIgnored(ignoredReason);
            IngressLog.Ignored(logger, trigger.Name, ignoredReason);
            return TypedResults.Accepted((string?)null, new JsonObject { ["status"] = "ignored", ["trigger"] = trigger.Name, ["reason"] = ignoredReason });
        }

        var arguments = TriggerJobFactory.MapArguments(trigger, values);
        try
        {
            var run = await runner.RunAsync(trigger.Name, arguments, RunOrigin.Webhook, cancellationToken);
            claims.Complete(run);
            return TypedResults.Accepted($"/api/triggers/{Uri.EscapeDataString(run.Trigger)}/jobs/{Uri.EscapeDataString(run.JobId)}", RunResponse.From(run));
        }
        catch (RelayException ex) when (ex.Kind == RelayErrorKind.OutcomeUnknown && claims.Any)
        {
            // The job may exist: a redelivery must not start a second one, so the delivery is settled, not abandoned.
            claims.CompleteIgnored("the platform did not confirm the job; check the platform before starting it again");
            throw;
        }
    }

    private static IResult Duplicate(DeliveryOutcome outcome) => outcome.Run is { } run
        ? TypedResults.Ok(RunResponse.From(run))
        : TypedResults.Ok(new JsonObject { ["status"] = "ignored", ["reason"] = outcome.IgnoredReason, ["duplicate"] = true });

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

    private static IEnumerable<KeyValuePair<string, string>> Headers(HttpRequest request)
        => request.Headers.Select(h => KeyValuePair.Create(h.Key, h.Value.ToString()));

    /// <summary>The URL as the sender addressed it (Twilio signs it), honouring a proxy's forwarded host and scheme.</summary>
    private static Uri PublicUrl(HttpRequest request)
    {
        var scheme = request.Headers["X-Forwarded-Proto"].FirstOrDefault() ?? request.Scheme;
        var host = request.Headers["X-Forwarded-Host"].FirstOrDefault() ?? request.Host.Value ?? "localhost";
        var url = new StringBuilder().Append(scheme).Append("://").Append(host)
            .Append(request.PathBase.Value).Append(request.Path.Value).Append(request.QueryString.Value);
        return new Uri(url.ToString());
    }

    /// <summary>
    /// The claims one delivery holds (its id, its digest), finished together. Disposing abandons the unfinished ones,
    /// so that a failed delivery can be retried by its sender.
    /// </summary>
    private sealed class Claims : IDisposable
    {
        private readonly List<DeliveryClaim> _held = new(2);

        public bool Any => _held.Count > 0;

        public void Add(DeliveryClaim claim) => _held.Add(claim);

        public void Complete(RelayRun run) => _held.ForEach(c => c.Complete(run));

        public void CompleteIgnored(string reason) => _held.ForEach(c => c.CompleteIgnored(reason));

        /// <summary>A later key found the original: the keys held so far answer the sender's retries with its outcome.</summary>
        public void Settle(DeliveryOutcome original)
        {
            if (original.Run is { } run)
            {
                Complete(run);
            }
            else
            {
                CompleteIgnored(original.IgnoredReason ?? "a duplicate of an earlier delivery");
            }
        }

        public void Dispose() => _held.ForEach(c => c.Dispose());
    }

    private sealed class HandshakeResult(WebhookHandshake handshake) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            var response = httpContext.Response;
            response.StatusCode = handshake.StatusCode;
            foreach (var (name, value) in handshake.Headers)
            {
                response.Headers[name] = value;
            }

            if (handshake.Body is { } body)
            {
                response.ContentType = handshake.ContentType ?? "application/json";
                await response.WriteAsync(body, httpContext.RequestAborted);
            }
        }
    }
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
}
