using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace JobRelay.Webhooks.Schemes;

internal static class WebhookSchemesServiceCollectionExtensions
{
    /// <summary>Registers one verifier per scheme, behind <see cref="IWebhookVerifierFactory"/>.</summary>
    public static IServiceCollection AddJobRelayWebhookVerifiers(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IWebhookVerifierFactory, WebhookVerifierFactory>();
        return services;
    }
}
