using JobRelay.Model;
using JobRelay.Secrets;
using Microsoft.Extensions.Logging;

namespace JobRelay.Webhooks.Schemes;

/// <summary>Shopify: <c>X-Shopify-Hmac-Sha256: &lt;base64 HMAC-SHA256 of the body&gt;</c>.</summary>
internal sealed class ShopifyWebhookVerifier(ILogger logger) : WebhookVerifier(WebhookScheme.Shopify, logger)
{
    public const string SignatureHeader = "X-Shopify-Hmac-Sha256";
    public const string WebhookIdHeader = "X-Shopify-Webhook-Id";
    public const string EventIdHeader = "X-Shopify-Event-Id";
    public const string TopicHeader = "X-Shopify-Topic";

    protected override WebhookVerification VerifyCore(WebhookDelivery delivery, WebhookVerifierSettings settings, IReadOnlyList<SecretValue> secrets)
    {
        var header = delivery.Header(SignatureHeader);
        if (header is null)
        {
            return Missing(SignatureHeader);
        }

        Span<byte> buffer = stackalloc byte[WebhookCrypto.Sha256Bytes];
        var candidates = new SignatureCandidates(buffer, WebhookCrypto.Sha256Bytes);
        if (!candidates.TryAdd(header, WebhookSignatureEncoding.Base64))
        {
            return Malformed(SignatureHeader, "the signature is not a base64 SHA-256 HMAC");
        }

        var secretName = WebhookCrypto.FindMatchingSecret(secrets, WebhookHmacAlgorithm.Sha256, default, delivery.Body.Span, candidates);
        return secretName is null
            ? Mismatch(SignatureHeader)
            : new WebhookVerified(delivery.Header(WebhookIdHeader) ?? delivery.Header(EventIdHeader), delivery.Header(TopicHeader), secretName);
    }
}
