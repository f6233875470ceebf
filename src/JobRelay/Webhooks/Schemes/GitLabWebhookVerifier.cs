using JobRelay.Model;
using JobRelay.Secrets;
using Microsoft.Extensions.Logging;

namespace JobRelay.Webhooks.Schemes;

/// <summary>GitLab (classic secret token): <c>X-Gitlab-Token</c> equals a secret. GitLab's signing tokens use <see cref="WebhookScheme.StandardWebhooks"/>.</summary>
internal sealed class GitLabWebhookVerifier(ILogger logger) : WebhookVerifier(WebhookScheme.GitLab, logger)
{
    public const string TokenHeader = "X-Gitlab-Token";
    public const string EventHeader = "X-Gitlab-Event";
    public const string EventUuidHeader = "X-Gitlab-Event-UUID";
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    protected override WebhookVerification VerifyCore(WebhookDelivery delivery, WebhookVerifierSettings settings, IReadOnlyList<SecretValue> secrets)
    {
        var token = delivery.Header(TokenHeader);
        if (string.IsNullOrEmpty(token))
        {
            return Missing(TokenHeader);
        }

        foreach (var secret in secrets)
        {
            if (WebhookCrypto.TokenEquals(token, secret.Value))
            {
                // Idempotency-Key stays the same across GitLab's retries of one delivery; older GitLab sends only the event UUID.
                var deliveryId = delivery.Header(IdempotencyKeyHeader) ?? delivery.Header(EventUuidHeader);
                return new WebhookVerified(deliveryId, delivery.Header(EventHeader), secret.Name);
            }
        }

        return new WebhookRejected(WebhookRejectionReason.TokenMismatch, $"The token in the {TokenHeader} header does not match.");
    }
}
