using JobRelay.Model;

namespace JobRelay.Triggers;

/// <summary>The names the catalog gives the webhook schemes.</summary>
internal static class WebhookSchemes
{
    private static readonly Dictionary<string, WebhookScheme> ByName = new(StringComparer.Ordinal)
    {
        ["github"] = WebhookScheme.GitHub,
        ["stripe"] = WebhookScheme.Stripe,
        ["slack"] = WebhookScheme.Slack,
        ["shopify"] = WebhookScheme.Shopify,
        ["standardWebhooks"] = WebhookScheme.StandardWebhooks,
        ["svix"] = WebhookScheme.Svix,
        ["gitlab"] = WebhookScheme.GitLab,
        ["twilio"] = WebhookScheme.Twilio,
        ["hmac"] = WebhookScheme.Hmac,
        ["token"] = WebhookScheme.Token,
        ["eventGrid"] = WebhookScheme.EventGrid,
        ["cloudEvents"] = WebhookScheme.CloudEvents,
        ["keboolaNotification"] = WebhookScheme.KeboolaNotification,
        ["theeyeJobEnd"] = WebhookScheme.TheEyeJobEnd,
    };

    /// <summary>Every scheme name, in the order the catalog documents them.</summary>
    public static IReadOnlyCollection<string> Names => ByName.Keys;

    /// <summary>Whether a delivery of this scheme may be keyed by the digest of its signed content (the replay rule).</summary>
    public static bool DigestApplies(WebhookScheme scheme) => scheme is WebhookScheme.GitHub or WebhookScheme.Shopify or WebhookScheme.GitLab
        or WebhookScheme.Twilio or WebhookScheme.Hmac or WebhookScheme.Token;

    /// <summary>Whether the catalog may turn the digest off: only for shared-token schemes, which sign nothing.</summary>
    public static bool DigestMayBeTurnedOff(WebhookScheme scheme) => scheme is WebhookScheme.GitLab or WebhookScheme.Token;

    public static bool TryParse(string name, out WebhookScheme scheme) => ByName.TryGetValue(name, out scheme);

    /// <summary>The catalog name of a scheme.</summary>
    public static string NameOf(WebhookScheme scheme) => ByName.First(p => p.Value == scheme).Key;
}
