using JobRelay.Model;
using JobRelay.Secrets;
using Microsoft.Extensions.Logging;

namespace JobRelay.Webhooks.Schemes;

/// <summary>
/// CloudEvents over HTTP webhooks (Event Grid with the CloudEvents schema). The abuse-protection handshake is an
/// <c>OPTIONS</c> request with <c>WebHook-Request-Origin</c>, answered with <c>WebHook-Allowed-Origin</c> and, when a
/// rate was requested, <c>WebHook-Allowed-Rate</c>. Events come in binary mode (<c>ce-id</c>, <c>ce-type</c> headers)
/// or structured mode (a JSON event), or as a batch (<c>application/cloudevents-batch+json</c>, an array of
/// structured events). When the trigger has secrets, every request must carry the shared token: in the configured
/// header, <c>Authorization: Bearer</c>, or the <c>token</c> or <c>access_token</c> query parameter.
/// </summary>
internal sealed class CloudEventsWebhookVerifier(ILogger logger) : WebhookVerifier(WebhookScheme.CloudEvents, logger)
{
    public const string RequestOriginHeader = "WebHook-Request-Origin";
    public const string RequestRateHeader = "WebHook-Request-Rate";
    public const string AllowedOriginHeader = "WebHook-Allowed-Origin";
    public const string AllowedRateHeader = "WebHook-Allowed-Rate";

    protected override bool SecretOptional => true;

    protected override WebhookVerification VerifyCore(WebhookDelivery delivery, WebhookVerifierSettings settings, IReadOnlyList<SecretValue> secrets)
    {
        string? secretName = null;
        if (secrets.Count > 0)
        {
            (secretName, var rejection) = SharedToken.Check(delivery, settings, secrets, queryAllowed: true, specForms: true);
            if (rejection is not null)
            {
                return rejection;
            }
        }

        if (delivery.Method == "OPTIONS")
        {
            return Handshake(delivery);
        }

        var body = delivery.Body.Span;
        var id = delivery.Header("ce-id") ?? JsonPeek.String(body, "id");
        var type = delivery.Header("ce-type") ?? JsonPeek.String(body, "type");
        return new WebhookVerified(id, type, secretName);
    }

    private static WebhookVerification Handshake(WebhookDelivery delivery)
    {
        var origin = delivery.Header(RequestOriginHeader)?.Trim();
        if (string.IsNullOrEmpty(origin))
        {
            return Missing(RequestOriginHeader);
        }

        if (origin.Any(char.IsControl))
        {
            return Malformed(RequestOriginHeader, "it contains control characters");
        }

        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            [AllowedOriginHeader] = origin,
            ["Allow"] = "POST, OPTIONS",
        };
        var rate = delivery.Header(RequestRateHeader)?.Trim();
        if (rate is not null)
        {
            headers[AllowedRateHeader] = rate.Length is > 0 and <= 9 && rate.All(char.IsAsciiDigit) ? rate : "*";
        }

        return WebhookHandshake.WithHeaders(headers);
    }
}
