using System.Security.Cryptography;
using System.Text;
using JobRelay.Model;
using JobRelay.Secrets;
using Microsoft.Extensions.Logging;

namespace JobRelay.Webhooks.Schemes;

/// <summary>
/// Twilio: <c>X-Twilio-Signature</c> is the base64 HMAC-SHA1, keyed with the auth token, of the full URL followed,
/// for form posts, by every form field sorted by name, each written as name then value. A JSON body is not in the
/// signed string: Twilio adds <c>bodySHA256</c> (hex SHA-256 of the body) to the signed URL instead, and that digest
/// must match the body.
/// </summary>
internal sealed class TwilioWebhookVerifier(ILogger logger) : WebhookVerifier(WebhookScheme.Twilio, logger)
{
    public const string SignatureHeader = "X-Twilio-Signature";
    public const string IdempotencyHeader = "I-Twilio-Idempotency-Token";
    public const string BodyDigestParameter = "bodySHA256";

    protected override WebhookVerification VerifyCore(WebhookDelivery delivery, WebhookVerifierSettings settings, IReadOnlyList<SecretValue> secrets)
    {
        var header = delivery.Header(SignatureHeader);
        if (header is null)
        {
            return Missing(SignatureHeader);
        }

        Span<byte> buffer = stackalloc byte[WebhookCrypto.Sha1Bytes];
        var candidates = new SignatureCandidates(buffer, WebhookCrypto.Sha1Bytes);
        if (!candidates.TryAdd(header, WebhookSignatureEncoding.Base64))
        {
            return Malformed(SignatureHeader, "the signature is not a base64 SHA-1 HMAC");
        }

        string? bodyDigest = null;
        if (delivery.IsJson)
        {
            bodyDigest = delivery.QueryValue(BodyDigestParameter);
            if (bodyDigest is null)
            {
                return new WebhookRejected(WebhookRejectionReason.BodyDigestMismatch, $"A JSON delivery must carry the {BodyDigestParameter} query parameter.");
            }
        }

        string? secretName = null;
        foreach (var url in SignedUrls(delivery.Url))
        {
            using var signed = new PooledUtf8(SignedString(url, delivery));
            secretName = WebhookCrypto.FindMatchingSecret(secrets, WebhookHmacAlgorithm.Sha1, default, signed.Span, candidates);
            if (secretName is not null)
            {
                break;
            }
        }

        if (secretName is null)
        {
            return Mismatch(SignatureHeader);
        }

        if (bodyDigest is not null && !BodyMatches(delivery.Body.Span, bodyDigest))
        {
            return new WebhookRejected(WebhookRejectionReason.BodyDigestMismatch, $"The body does not match its signed {BodyDigestParameter}.");
        }

        return new WebhookVerified(delivery.Header(IdempotencyHeader), null, secretName);
    }

    private static string SignedString(string url, WebhookDelivery delivery)
    {
        if (delivery.Form is not { Count: > 0 } form || delivery.Method != "POST")
        {
            return url;
        }

        var fields = form.ToArray();
        Array.Sort(fields, static (a, b) =>
        {
            var byName = string.CompareOrdinal(a.Key, b.Key);
            return byName != 0 ? byName : string.CompareOrdinal(a.Value, b.Value);
        });
        var builder = new StringBuilder(url);
        foreach (var (name, value) in fields)
        {
            builder.Append(name).Append(value);
        }

        return builder.ToString();
    }

    /// <summary>
    /// The URL as received and, when it used the scheme's default port, the same URL with that port written out or
    /// left out: Twilio's own validators try both, because what it signs depends on how the webhook URL was entered.
    /// </summary>
    private static IEnumerable<string> SignedUrls(Uri url)
    {
        var original = url.OriginalString;
        yield return original;
        if (!url.IsDefaultPort)
        {
            yield break;
        }

        var authorityStart = original.IndexOf("://", StringComparison.Ordinal) + 3;
        var authorityEnd = original.IndexOfAny(['/', '?', '#'], authorityStart);
        if (authorityEnd < 0)
        {
            authorityEnd = original.Length;
        }

        var authority = original[authorityStart..authorityEnd];
        var portSuffix = ":" + url.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var alternative = authority.EndsWith(portSuffix, StringComparison.Ordinal)
            ? authority[..^portSuffix.Length]
            : authority + portSuffix;
        yield return string.Concat(original.AsSpan(0, authorityStart), alternative, original.AsSpan(authorityEnd));
    }

    private static bool BodyMatches(ReadOnlySpan<byte> body, string hexDigest)
    {
        Span<byte> computed = stackalloc byte[WebhookCrypto.Sha256Bytes];
        Span<byte> presented = stackalloc byte[WebhookCrypto.Sha256Bytes];
        SHA256.HashData(body, computed);
        return WebhookCrypto.TryDecode(hexDigest, WebhookSignatureEncoding.Hex, presented, out var written)
            && WebhookCrypto.MacEquals(computed, presented[..written]);
    }
}
