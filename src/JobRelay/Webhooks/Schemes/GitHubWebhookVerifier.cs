using JobRelay.Model;
using JobRelay.Secrets;
using Microsoft.Extensions.Logging;

namespace JobRelay.Webhooks.Schemes;

/// <summary>GitHub: <c>X-Hub-Signature-256: sha256=&lt;hex HMAC-SHA256 of the body&gt;</c>; a <c>ping</c> is answered, not run.</summary>
internal sealed class GitHubWebhookVerifier(ILogger logger) : WebhookVerifier(WebhookScheme.GitHub, logger)
{
    public const string SignatureHeader = "X-Hub-Signature-256";
    public const string DeliveryHeader = "X-GitHub-Delivery";
    public const string EventHeader = "X-GitHub-Event";
    private const string Prefix = "sha256=";

    protected override WebhookVerification VerifyCore(WebhookDelivery delivery, WebhookVerifierSettings settings, IReadOnlyList<SecretValue> secrets)
    {
        var header = delivery.Header(SignatureHeader);
        if (header is null)
        {
            return Missing(SignatureHeader);
        }

        var value = header.AsSpan().Trim();
        if (!value.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
        {
            return Malformed(SignatureHeader, "it does not start with sha256=");
        }

        Span<byte> buffer = stackalloc byte[WebhookCrypto.Sha256Bytes];
        var candidates = new SignatureCandidates(buffer, WebhookCrypto.Sha256Bytes);
        if (!candidates.TryAdd(value[Prefix.Length..], WebhookSignatureEncoding.Hex))
        {
            return Malformed(SignatureHeader, "the signature is not a hex SHA-256 HMAC");
        }

        var secretName = WebhookCrypto.FindMatchingSecret(secrets, WebhookHmacAlgorithm.Sha256, default, delivery.Body.Span, candidates);
        if (secretName is null)
        {
            return Mismatch(SignatureHeader);
        }

        var eventType = delivery.Header(EventHeader);
        return string.Equals(eventType, "ping", StringComparison.Ordinal)
            ? WebhookHandshake.Json("""{"ping":"ok"}""")
            : new WebhookVerified(delivery.Header(DeliveryHeader), eventType, secretName);
    }
}
