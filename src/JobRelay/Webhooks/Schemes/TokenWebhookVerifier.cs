using JobRelay.Model;
using JobRelay.Secrets;
using Microsoft.Extensions.Logging;

namespace JobRelay.Webhooks.Schemes;

/// <summary>
/// Senders that do not sign: a shared token. <see cref="WebhookScheme.Token"/> reads it from a header only;
/// Keboola notifications and TheEye job-end callbacks may also carry it in the <c>token</c> query parameter, because
/// their webhook settings take a URL and nothing else.
/// </summary>
internal sealed class TokenWebhookVerifier(WebhookScheme scheme, ILogger logger) : WebhookVerifier(scheme, logger)
{
    protected override WebhookVerification VerifyCore(WebhookDelivery delivery, WebhookVerifierSettings settings, IReadOnlyList<SecretValue> secrets)
    {
        var (secretName, rejection) = SharedToken.Check(delivery, settings, secrets, queryAllowed: Scheme != WebhookScheme.Token);
        if (rejection is not null)
        {
            return rejection;
        }

        return new WebhookVerified(settings.DeliveryIdHeader is { } idHeader ? delivery.Header(idHeader) : null, null, secretName);
    }
}
