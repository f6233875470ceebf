using JobRelay.Model;
using JobRelay.Secrets;
using Microsoft.Extensions.Logging;

namespace JobRelay.Webhooks.Schemes;

/// <summary>
/// Stripe: <c>Stripe-Signature: t=&lt;unix&gt;,v1=&lt;hex&gt;[,v1=..]</c>, HMAC-SHA256 of <c>{t}.{body}</c> keyed with the UTF-8
/// bytes of the whole <c>whsec_...</c> secret. Any v1 may match (Stripe signs with every active secret during a roll);
/// other schemes (<c>v0</c>) are ignored.
/// </summary>
internal sealed class StripeWebhookVerifier(TimeProvider clock, ILogger logger) : WebhookVerifier(WebhookScheme.Stripe, logger)
{
    public const string SignatureHeader = "Stripe-Signature";

    protected override WebhookVerification VerifyCore(WebhookDelivery delivery, WebhookVerifierSettings settings, IReadOnlyList<SecretValue> secrets)
    {
        var header = delivery.Header(SignatureHeader);
        if (header is null)
        {
            return Missing(SignatureHeader);
        }

        ReadOnlySpan<char> timestamp = default;
        var sawV1 = false;
        Span<byte> buffer = stackalloc byte[WebhookCrypto.Sha256Bytes * WebhookCrypto.MaxCandidates];
        var candidates = new SignatureCandidates(buffer, WebhookCrypto.Sha256Bytes);
        foreach (var range in header.AsSpan().Split(','))
        {
            var item = header.AsSpan()[range].Trim();
            var equals = item.IndexOf('=');
            if (equals <= 0)
            {
                continue;
            }

            var key = item[..equals];
            var value = item[(equals + 1)..];
            if (key.SequenceEqual("t") && timestamp.IsEmpty)
            {
                timestamp = value;
            }
            else if (key.SequenceEqual("v1"))
            {
                sawV1 = true;
                candidates.TryAdd(value, WebhookSignatureEncoding.Hex);
            }
        }

        if (timestamp.IsEmpty)
        {
            return Malformed(SignatureHeader, "it has no t= timestamp");
        }

        if (!WebhookCrypto.TryParseUnixSeconds(timestamp, out var unixSeconds))
        {
            return Malformed(SignatureHeader, "its t= timestamp is not a Unix time");
        }

        if (!sawV1)
        {
            return Malformed(SignatureHeader, "it has no v1= signature");
        }

        string? secretName;
        using (var signedPrefix = PooledUtf8.Concat(timestamp, "."))
        {
            secretName = WebhookCrypto.FindMatchingSecret(secrets, WebhookHmacAlgorithm.Sha256, signedPrefix.Span, delivery.Body.Span, candidates);
        }

        if (secretName is null)
        {
            return Mismatch(SignatureHeader);
        }

        if (!WebhookCrypto.WithinTolerance(unixSeconds, clock, settings.Tolerance))
        {
            return Stale(SignatureHeader, settings.Tolerance);
        }

        var body = delivery.Body.Span;
        return new WebhookVerified(JsonPeek.String(body, "id"), JsonPeek.String(body, "type"), secretName);
    }
}
