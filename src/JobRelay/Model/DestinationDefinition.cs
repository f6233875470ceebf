namespace JobRelay.Model;

/// <summary>What kind of receiver a destination is.</summary>
public enum DestinationKind
{
    /// <summary>Any HTTPS receiver: the event payload itself, signed by Standard Webhooks.</summary>
    Webhook,

    /// <summary>A Slack incoming webhook: a readable message.</summary>
    Slack,

    /// <summary>A Microsoft Teams Workflows webhook: a readable message (an Adaptive Card).</summary>
    Teams,
}

/// <summary>
/// A destination of outbound events, from the catalog's <c>destinations</c>. It names its secrets (the signing secret
/// of a webhook; the URL of a Slack or Teams webhook, which is itself a credential), never their values.
/// </summary>
/// <param name="Url">Where a signed webhook is posted; null for Slack and Teams, whose URL is the secret.</param>
/// <param name="Secret">The Key Vault secret: the signing secret (webhook), or the webhook URL (Slack, Teams).</param>
/// <param name="Timeout">How long one delivery may take before it counts as failed.</param>
/// <param name="Concurrency">How many deliveries to this destination may be under way at once, per instance.</param>
public sealed record DestinationDefinition(string Name, DestinationKind Kind, Uri? Url, string Secret, TimeSpan Timeout, int Concurrency)
{
    /// <summary>The default of <see cref="Timeout"/>.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The default of <see cref="Concurrency"/>.</summary>
    public const int DefaultConcurrency = 4;

    /// <summary>The kind as the catalog writes it.</summary>
    public static string KindName(DestinationKind kind) => kind.ToString().ToLowerInvariant();
}
