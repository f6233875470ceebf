using System.Collections.Frozen;
using JobRelay.Model;
using JobRelay.Webhooks;
using Microsoft.Extensions.Logging;

namespace JobRelay.Webhooks.Schemes;

/// <summary>One verifier per <see cref="WebhookScheme"/>, built once.</summary>
internal sealed class WebhookVerifierFactory : IWebhookVerifierFactory
{
    private readonly FrozenDictionary<WebhookScheme, IWebhookVerifier> _verifiers;

    public WebhookVerifierFactory(TimeProvider clock, ILogger<WebhookVerifierFactory> logger)
    {
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(logger);
        IWebhookVerifier[] verifiers =
        [
            new GitHubWebhookVerifier(logger),
            new StripeWebhookVerifier(clock, logger),
            new SlackWebhookVerifier(clock, logger),
            new ShopifyWebhookVerifier(logger),
            new StandardWebhooksVerifier(WebhookScheme.StandardWebhooks, clock, logger),
            new StandardWebhooksVerifier(WebhookScheme.Svix, clock, logger),
            new GitLabWebhookVerifier(logger),
            new TwilioWebhookVerifier(logger),
            new HmacWebhookVerifier(logger),
            new TokenWebhookVerifier(WebhookScheme.Token, logger),
            new EventGridWebhookVerifier(logger),
            new CloudEventsWebhookVerifier(logger),
            new TokenWebhookVerifier(WebhookScheme.KeboolaNotification, logger),
            new TokenWebhookVerifier(WebhookScheme.TheEyeJobEnd, logger),
        ];
        _verifiers = verifiers.ToFrozenDictionary(v => v.Scheme);
    }

    public IWebhookVerifier Get(WebhookScheme scheme) =>
        _verifiers.TryGetValue(scheme, out var verifier)
            ? verifier
            : throw new ArgumentOutOfRangeException(nameof(scheme), scheme, "No verifier for this webhook scheme.");
}
