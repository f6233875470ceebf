using System.Text;
using JobRelay.Model;
using JobRelay.Secrets;
using Microsoft.Extensions.Logging;

namespace JobRelay.Webhooks.Schemes;

/// <summary>
/// Slack: <c>X-Slack-Signature: v0=&lt;hex&gt;</c> over <c>v0:{X-Slack-Request-Timestamp}:{body}</c>. A signed
/// <c>url_verification</c> is answered by echoing its challenge; an unsigned one is refused like any delivery.
/// </summary>
internal sealed class SlackWebhookVerifier(TimeProvider clock, ILogger logger) : WebhookVerifier(WebhookScheme.Slack, logger)
{
    public const string SignatureHeader = "X-Slack-Signature";
    public const string TimestampHeader = "X-Slack-Request-Timestamp";
    private const string Version = "v0";

    protected override WebhookVerification VerifyCore(WebhookDelivery delivery, WebhookVerifierSettings settings, IReadOnlyList<SecretValue> secrets)
    {
        var signature = delivery.Header(SignatureHeader);
        if (signature is null)
        {
            return Missing(SignatureHeader);
        }

        var timestamp = delivery.Header(TimestampHeader);
        if (timestamp is null)
        {
            return Missing(TimestampHeader);
        }

        if (!WebhookCrypto.TryParseUnixSeconds(timestamp, out var unixSeconds))
        {
            return Malformed(TimestampHeader, "it is not a Unix time");
        }

        var value = signature.AsSpan().Trim();
        if (!value.StartsWith(Version + "=", StringComparison.Ordinal))
        {
            return Malformed(SignatureHeader, "it does not start with v0=");
        }

        Span<byte> buffer = stackalloc byte[WebhookCrypto.Sha256Bytes];
        var candidates = new SignatureCandidates(buffer, WebhookCrypto.Sha256Bytes);
        if (!candidates.TryAdd(value[(Version.Length + 1)..], WebhookSignatureEncoding.Hex))
        {
            return Malformed(SignatureHeader, "the signature is not a hex SHA-256 HMAC");
        }

        string? secretName;
        using (var signedPrefix = PooledUtf8.Concat(Version + ":", timestamp.AsSpan().Trim(), ":"))
        {
            secretName = WebhookCrypto.FindMatchingSecret(secrets, WebhookHmacAlgorithm.Sha256, signedPrefix.Span, delivery.Body.Span, candidates);
        }

        if (secretName is null)
        {
            return Mismatch(SignatureHeader);
        }

        if (!WebhookCrypto.WithinTolerance(unixSeconds, clock, settings.Tolerance))
        {
            return Stale(TimestampHeader, settings.Tolerance);
        }

        return delivery.Form is { } form ? FromForm(form, secretName) : FromJson(delivery.Body.Span, secretName);
    }

    private static WebhookVerification FromJson(ReadOnlySpan<byte> body, string secretName)
    {
        var type = JsonPeek.String(body, "type");
        if (string.Equals(type, "url_verification", StringComparison.Ordinal))
        {
            var challenge = JsonPeek.String(body, "challenge");
            return challenge is null
                ? new WebhookRejected(WebhookRejectionReason.MalformedBody, "The url_verification request has no challenge.")
                : WebhookHandshake.Json(HandshakeJson.Object("challenge", challenge));
        }

        return string.Equals(type, "event_callback", StringComparison.Ordinal)
            ? new WebhookVerified(JsonPeek.String(body, "event_id"), JsonPeek.String(body, "event", "type"), secretName)
            : new WebhookVerified(null, type, secretName);
    }

    private static WebhookVerified FromForm(IReadOnlyList<KeyValuePair<string, string>> form, string secretName)
    {
        string? command = null;
        string? payload = null;
        foreach (var (key, value) in form)
        {
            command ??= key == "command" ? value : null;
            payload ??= key == "payload" ? value : null;
        }

        // Interactivity posts a form whose one field is the JSON payload; slash commands post the command itself.
        var eventType = payload is not null ? JsonPeek.String(Encoding.UTF8.GetBytes(payload), "type") : command;
        return new WebhookVerified(null, eventType, secretName);
    }
}
