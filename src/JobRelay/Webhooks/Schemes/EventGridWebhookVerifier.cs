using System.Text.Json;
using JobRelay.Model;
using JobRelay.Secrets;
using Microsoft.Extensions.Logging;

namespace JobRelay.Webhooks.Schemes;

/// <summary>
/// Azure Event Grid, Event Grid schema. <c>aeg-event-type: SubscriptionValidation</c> is answered with 200 and
/// <c>{"validationResponse": data.validationCode}</c>; notifications start jobs. When the trigger has secrets, every
/// request (the validation too) must carry the shared token in the header or the <c>token</c> query parameter of
/// the subscription's endpoint URL, so nobody else can subscribe their topic to this endpoint.
/// </summary>
internal sealed class EventGridWebhookVerifier(ILogger logger) : WebhookVerifier(WebhookScheme.EventGrid, logger)
{
    public const string EventTypeHeader = "aeg-event-type";

    protected override bool SecretOptional => true;

    protected override WebhookVerification VerifyCore(WebhookDelivery delivery, WebhookVerifierSettings settings, IReadOnlyList<SecretValue> secrets)
    {
        string? secretName = null;
        if (secrets.Count > 0)
        {
            (secretName, var rejection) = SharedToken.Check(delivery, settings, secrets, queryAllowed: true);
            if (rejection is not null)
            {
                return rejection;
            }
        }

        var (id, eventType, validationCode) = ReadSingleEvent(delivery.Body.Span);
        if (string.Equals(delivery.Header(EventTypeHeader), "SubscriptionValidation", StringComparison.OrdinalIgnoreCase))
        {
            return validationCode is null
                ? new WebhookRejected(WebhookRejectionReason.MalformedBody, "The subscription validation event has no data.validationCode.")
                : WebhookHandshake.Json(HandshakeJson.Object("validationResponse", validationCode));
        }

        return new WebhookVerified(id, eventType, secretName);
    }

    /// <summary>The id, type and validation code of the only event in the body; nulls for a batch or a body that is not an event array.</summary>
    private static (string? Id, string? EventType, string? ValidationCode) ReadSingleEvent(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            var element = root.ValueKind switch
            {
                JsonValueKind.Array when root.GetArrayLength() == 1 => root[0],
                JsonValueKind.Object => root,
                _ => default,
            };
            if (element.ValueKind != JsonValueKind.Object)
            {
                return default;
            }

            string? validationCode = null;
            if (element.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object
                && data.TryGetProperty("validationCode", out var code) && code.ValueKind == JsonValueKind.String)
            {
                validationCode = code.GetString();
            }

            return (StringOf(element, "id"), StringOf(element, "eventType"), validationCode);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return default;
        }
    }

    private static string? StringOf(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
