using Microsoft.Extensions.Logging;

namespace JobRelay.Webhooks;

/// <summary>Webhook log lines (EventIds 1500–1599). They name schemes, headers, reasons and secret names; never a value.</summary>
internal static partial class WebhookLog
{
    [LoggerMessage(EventId = 1500, Level = LogLevel.Debug, Message = "Webhook delivery verified by scheme {Scheme} with secret {SecretName}; delivery {DeliveryId}, event {EventType}")]
    public static partial void Verified(ILogger logger, WebhookScheme scheme, string? secretName, string? deliveryId, string? eventType);

    [LoggerMessage(EventId = 1501, Level = LogLevel.Information, Message = "Webhook delivery rejected by scheme {Scheme}: {Reason}")]
    public static partial void Rejected(ILogger logger, WebhookScheme scheme, WebhookRejectionReason reason);

    [LoggerMessage(EventId = 1502, Level = LogLevel.Information, Message = "Webhook handshake answered for scheme {Scheme} with HTTP {StatusCode}")]
    public static partial void Handshake(ILogger logger, WebhookScheme scheme, int statusCode);

    [LoggerMessage(EventId = 1503, Level = LogLevel.Error, Message = "Secret {SecretName} cannot be used by webhook scheme {Scheme}: {Problem}")]
    public static partial void UnusableSecret(ILogger logger, string secretName, WebhookScheme scheme, string problem);

    [LoggerMessage(EventId = 1504, Level = LogLevel.Warning, Message = "Webhook delivery for scheme {Scheme} accepted without authentication: the trigger has no secret")]
    public static partial void Unauthenticated(ILogger logger, WebhookScheme scheme);

    [LoggerMessage(EventId = 1520, Level = LogLevel.Information, Message = "Duplicate delivery {DeliveryId} of trigger {Trigger} answered with the original outcome")]
    public static partial void Duplicate(ILogger logger, string trigger, string deliveryId);

    [LoggerMessage(EventId = 1521, Level = LogLevel.Debug, Message = "Duplicate delivery {DeliveryId} of trigger {Trigger} waits for the original, still in flight")]
    public static partial void WaitingForOriginal(ILogger logger, string trigger, string deliveryId);

    [LoggerMessage(EventId = 1522, Level = LogLevel.Information, Message = "Delivery {DeliveryId} of trigger {Trigger} was abandoned; a retry may start it again")]
    public static partial void Abandoned(ILogger logger, string trigger, string deliveryId);

    [LoggerMessage(EventId = 1523, Level = LogLevel.Warning, Message = "The delivery ledger is full ({Capacity} entries): the oldest delivery {DeliveryId} of trigger {Trigger} was forgotten before its retention ended")]
    public static partial void Evicted(ILogger logger, int capacity, string trigger, string deliveryId);
}
