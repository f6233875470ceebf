using JobRelay.Model;
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

}
