namespace JobRelay.Webhooks;

/// <summary>How a sender proves a delivery is its own.</summary>
public enum WebhookScheme
{
    /// <summary><c>X-Hub-Signature-256: sha256=&lt;hex&gt;</c>, HMAC-SHA256 of the body.</summary>
    GitHub,

    /// <summary><c>Stripe-Signature: t=..,v1=..</c>, HMAC-SHA256 of <c>{t}.{body}</c>.</summary>
    Stripe,

    /// <summary><c>X-Slack-Signature: v0=&lt;hex&gt;</c>, HMAC-SHA256 of <c>v0:{ts}:{body}</c>.</summary>
    Slack,

    /// <summary><c>X-Shopify-Hmac-Sha256</c>, base64 HMAC-SHA256 of the body.</summary>
    Shopify,

    /// <summary><c>webhook-id</c>, <c>webhook-timestamp</c>, <c>webhook-signature</c> (standardwebhooks.com).</summary>
    StandardWebhooks,

    /// <summary>Standard Webhooks with <c>svix-</c> headers (<c>webhook-</c> headers also accepted).</summary>
    Svix,

    /// <summary><c>X-Gitlab-Token</c>, a shared token.</summary>
    GitLab,

    /// <summary><c>X-Twilio-Signature</c>, base64 HMAC-SHA1 of the URL and the sorted form fields.</summary>
    Twilio,

    /// <summary>A configurable HMAC of the body in a configurable header.</summary>
    Hmac,

    /// <summary>A shared token in a configurable header.</summary>
    Token,

    /// <summary>Azure Event Grid (Event Grid schema): subscription validation handshake, shared token.</summary>
    EventGrid,

    /// <summary>CloudEvents webhooks: <c>OPTIONS</c> abuse-protection handshake, shared token.</summary>
    CloudEvents,

    /// <summary>Keboola job notifications (unsigned): a shared token in a header or the query.</summary>
    KeboolaNotification,

    /// <summary>TheEye job-end callbacks (unsigned): a shared token in a header or the query.</summary>
    TheEyeJobEnd,
}

/// <summary>The hash behind an HMAC signature.</summary>
public enum WebhookHmacAlgorithm
{
    Sha256,
    Sha1,
}

/// <summary>How a signature is written into its header.</summary>
public enum WebhookSignatureEncoding
{
    Hex,
    Base64,
}

/// <summary>How one trigger's deliveries are verified. Holds no secret: the secrets are passed to each verification.</summary>
/// <param name="Scheme">The sender's scheme.</param>
public sealed record WebhookVerifierSettings(WebhookScheme Scheme)
{
    /// <summary>The header that carries the shared token when none is configured.</summary>
    public const string DefaultTokenHeader = "X-JobRelay-Token";

    /// <summary>The header that carries a generic HMAC signature when none is configured.</summary>
    public const string DefaultSignatureHeader = "X-JobRelay-Signature";

    /// <summary>The query parameter that may carry the shared token for senders that cannot set headers.</summary>
    public const string TokenQueryParameter = "token";

    /// <summary>How far a signed timestamp may be from now, either way.</summary>
    public TimeSpan Tolerance { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The signature or token header, for the schemes where it is configurable (<see cref="WebhookScheme.Hmac"/>, token schemes).</summary>
    public string? Header { get; init; }

    /// <summary>The HMAC hash for <see cref="WebhookScheme.Hmac"/>.</summary>
    public WebhookHmacAlgorithm Algorithm { get; init; } = WebhookHmacAlgorithm.Sha256;

    /// <summary>The signature encoding for <see cref="WebhookScheme.Hmac"/>.</summary>
    public WebhookSignatureEncoding Encoding { get; init; } = WebhookSignatureEncoding.Hex;

    /// <summary>
    /// A prefix before the signature (<c>sha256=</c>) for <see cref="WebhookScheme.Hmac"/>, or before the token
    /// (<c>Bearer </c>) for token schemes; matched without regard to case and required when set.
    /// </summary>
    public string? Prefix { get; init; }

    /// <summary>A header carrying the delivery id, for the schemes that do not define one.</summary>
    public string? DeliveryIdHeader { get; init; }
}
