using System.Diagnostics.CodeAnalysis;
using JobRelay.Model;
using JobRelay.Secrets;

namespace JobRelay.Webhooks;

/// <summary>Verifies deliveries of one <see cref="WebhookScheme"/>. Implementations are stateless and thread-safe.</summary>
public interface IWebhookVerifier
{
    WebhookScheme Scheme { get; }

    /// <summary>
    /// Verifies <paramref name="delivery"/>. It verifies when ANY of <paramref name="secrets"/> matches, so that a
    /// secret can be rotated without refusing deliveries signed with the old one.
    /// </summary>
    WebhookVerification Verify(WebhookDelivery delivery, WebhookVerifierSettings settings, IReadOnlyList<SecretValue> secrets);
}

/// <summary>Finds the verifier of a scheme.</summary>
public interface IWebhookVerifierFactory
{
    /// <summary>The verifier of <paramref name="scheme"/>; every scheme has one.</summary>
    [SuppressMessage("Naming", "CA1716:Identifiers should not match keywords", Justification = "Get is the registry's established lookup name; Visual Basic callers can still call it.")]
    IWebhookVerifier Get(WebhookScheme scheme);
}
