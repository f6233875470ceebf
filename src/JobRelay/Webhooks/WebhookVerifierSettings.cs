using JobRelay.Model;

namespace JobRelay.Webhooks;

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
