using System.Buffers;
using System.Security.Cryptography;
using JobRelay.Model;
using JobRelay.Secrets;
using Microsoft.Extensions.Logging;

namespace JobRelay.Webhooks.Schemes;

/// <summary>
/// Standard Webhooks (and Svix, its <c>svix-</c> headers): HMAC-SHA256 of <c>{id}.{timestamp}.{body}</c>, keyed with the
/// base64-decoded part of the secret after <c>whsec_</c>; <c>webhook-signature</c> lists space-separated
/// <c>v1,&lt;base64&gt;</c> entries, any of which may match; entries of other versions are ignored.
/// </summary>
internal sealed class StandardWebhooksVerifier(WebhookScheme scheme, TimeProvider clock, ILogger logger) : WebhookVerifier(scheme, logger)
{
    private const string SecretPrefix = "whsec_";

    protected override WebhookVerification VerifyCore(WebhookDelivery delivery, WebhookVerifierSettings settings, IReadOnlyList<SecretValue> secrets)
    {
        // Svix sends svix- headers, or webhook- headers when white-labelled; Standard Webhooks senders send webhook- headers.
        var prefix = Scheme == WebhookScheme.Svix && delivery.Header("svix-id") is not null ? "svix-" : "webhook-";
        var idHeader = prefix + "id";
        var timestampHeader = prefix + "timestamp";
        var signatureHeader = prefix + "signature";
        var id = delivery.Header(idHeader);
        if (id is null)
        {
            return Missing(idHeader);
        }

        var timestamp = delivery.Header(timestampHeader);
        if (timestamp is null)
        {
            return Missing(timestampHeader);
        }

        var signatures = delivery.Header(signatureHeader);
        if (signatures is null)
        {
            return Missing(signatureHeader);
        }

        if (!WebhookCrypto.TryParseUnixSeconds(timestamp, out var unixSeconds))
        {
            return Malformed(timestampHeader, "it is not a Unix time");
        }

        Span<byte> buffer = stackalloc byte[WebhookCrypto.Sha256Bytes * WebhookCrypto.MaxCandidates];
        var candidates = new SignatureCandidates(buffer, WebhookCrypto.Sha256Bytes);
        var sawV1 = false;
        foreach (var range in signatures.AsSpan().Split(' '))
        {
            var entry = signatures.AsSpan()[range];
            if (entry.StartsWith("v1,", StringComparison.Ordinal))
            {
                sawV1 = true;
                candidates.TryAdd(entry[3..], WebhookSignatureEncoding.Base64);
            }
        }

        if (!sawV1)
        {
            return Malformed(signatureHeader, "it has no v1 signature");
        }

        var match = FindMatchingSecret(secrets, id, timestamp.AsSpan().Trim(), delivery.Body.Span, candidates, out var anyUsable);
        if (!anyUsable)
        {
            return new WebhookRejected(WebhookRejectionReason.NoUsableSecret, "The endpoint cannot verify deliveries at the moment.");
        }

        if (match is null)
        {
            return Mismatch(signatureHeader);
        }

        if (!WebhookCrypto.WithinTolerance(unixSeconds, clock, settings.Tolerance))
        {
            return Stale(timestampHeader, settings.Tolerance);
        }

        return new WebhookVerified(id, JsonPeek.String(delivery.Body.Span, "type"), match);
    }

    private string? FindMatchingSecret(
        IReadOnlyList<SecretValue> secrets,
        ReadOnlySpan<char> id,
        ReadOnlySpan<char> timestamp,
        ReadOnlySpan<byte> body,
        in SignatureCandidates candidates,
        out bool anyUsable)
    {
        anyUsable = false;
        Span<byte> mac = stackalloc byte[WebhookCrypto.Sha256Bytes];
        using var signedPrefix = PooledUtf8.Concat(id, ".", timestamp, ".");
        foreach (var secret in secrets)
        {
            var encoded = secret.Value.AsSpan();
            if (encoded.StartsWith(SecretPrefix, StringComparison.Ordinal))
            {
                encoded = encoded[SecretPrefix.Length..];
            }

            var key = ArrayPool<byte>.Shared.Rent(Math.Max(1, encoded.Length));
            try
            {
                if (!Convert.TryFromBase64Chars(encoded, key, out var keyLength) || keyLength == 0)
                {
                    ReportUnusableSecret(secret, "the part after whsec_ is not base64");
                    continue;
                }

                anyUsable = true;
                WebhookCrypto.Mac(WebhookHmacAlgorithm.Sha256, key.AsSpan(0, keyLength), signedPrefix.Span, body, mac);
                if (candidates.AnyEquals(mac))
                {
                    return secret.Name;
                }
            }
            finally
            {
                CryptographicOperations.ZeroMemory(key);
                ArrayPool<byte>.Shared.Return(key);
            }
        }

        return null;
    }
}
