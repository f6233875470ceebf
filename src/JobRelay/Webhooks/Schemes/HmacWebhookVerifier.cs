using JobRelay.Model;
using JobRelay.Secrets;
using Microsoft.Extensions.Logging;

namespace JobRelay.Webhooks.Schemes;

/// <summary>A generic HMAC of the body: header, hash, encoding and prefix come from the settings.</summary>
internal sealed class HmacWebhookVerifier(ILogger logger) : WebhookVerifier(WebhookScheme.Hmac, logger)
{
    protected override WebhookVerification VerifyCore(WebhookDelivery delivery, WebhookVerifierSettings settings, IReadOnlyList<SecretValue> secrets)
    {
        var headerName = settings.Header ?? WebhookVerifierSettings.DefaultSignatureHeader;
        var header = delivery.Header(headerName);
        if (header is null)
        {
            return Missing(headerName);
        }

        var value = header.AsSpan().Trim();
        if (!string.IsNullOrEmpty(settings.Prefix))
        {
            if (!value.StartsWith(settings.Prefix, StringComparison.OrdinalIgnoreCase))
            {
                return Malformed(headerName, $"it does not start with {settings.Prefix}");
            }

            value = value[settings.Prefix.Length..];
        }

        var macBytes = WebhookCrypto.MacBytes(settings.Algorithm);
        Span<byte> buffer = stackalloc byte[WebhookCrypto.Sha256Bytes];
        var candidates = new SignatureCandidates(buffer[..macBytes], macBytes);
        if (!candidates.TryAdd(value, settings.Encoding))
        {
            return Malformed(headerName, $"the signature is not a {(settings.Encoding == WebhookSignatureEncoding.Hex ? "hex" : "base64")} {(settings.Algorithm == WebhookHmacAlgorithm.Sha1 ? "SHA-1" : "SHA-256")} HMAC");
        }

        var secretName = WebhookCrypto.FindMatchingSecret(secrets, settings.Algorithm, default, delivery.Body.Span, candidates);
        return secretName is null
            ? Mismatch(headerName)
            : new WebhookVerified(settings.DeliveryIdHeader is { } idHeader ? delivery.Header(idHeader) : null, null, secretName);
    }
}
