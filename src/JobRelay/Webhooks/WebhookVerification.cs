using JobRelay.Model;

namespace JobRelay.Webhooks;

/// <summary>Why a delivery was refused. Stable: the HTTP surface, logs and metrics key on these names.</summary>
internal enum WebhookRejectionReason
{
    /// <summary>A header the scheme requires was not sent.</summary>
    MissingHeader,

    /// <summary>A required header was sent but cannot be read (no timestamp, not hex, not base64...).</summary>
    MalformedHeader,

    /// <summary>No signature in the delivery matches the body under any active secret.</summary>
    SignatureMismatch,

    /// <summary>The signed timestamp is further from now than the tolerance, in the past or the future.</summary>
    TimestampOutsideTolerance,

    /// <summary>No token was sent, neither in the header nor (where allowed) in the query.</summary>
    MissingToken,

    /// <summary>The token matches none of the active secrets.</summary>
    TokenMismatch,

    /// <summary>The body does not match the digest the sender signed for it (Twilio <c>bodySHA256</c>).</summary>
    BodyDigestMismatch,

    /// <summary>The body is not what the scheme requires for this kind of request (a handshake without its code).</summary>
    MalformedBody,

    /// <summary>The trigger has no usable secret, so nothing can be verified. A configuration problem on this side.</summary>
    NoUsableSecret,
}

/// <summary>The outcome of verifying one delivery: <see cref="WebhookVerified"/>, <see cref="WebhookRejected"/> or <see cref="WebhookHandshake"/>.</summary>
public abstract record WebhookVerification
{
    private protected WebhookVerification()
    {
    }
}

/// <summary>The delivery is authentic: start the job.</summary>
/// <param name="DeliveryId">The sender's id of this delivery, the same on every retry, when the scheme has one.</param>
/// <param name="EventType">The sender's event type, when the scheme has one.</param>
/// <param name="SecretName">The name of the secret that matched, or null when the trigger needs none; tells when an old secret can be retired.</param>
internal sealed record WebhookVerified(string? DeliveryId, string? EventType, string? SecretName) : WebhookVerification;

/// <summary>The delivery is refused.</summary>
/// <param name="Reason">The stable reason.</param>
/// <param name="Message">Safe to show to the sender: it names headers, never a signature, a token or a secret.</param>
internal sealed record WebhookRejected(WebhookRejectionReason Reason, string Message) : WebhookVerification
{
    /// <summary>
    /// The refusal as the exception the HTTP surface turns into a problem answer. A trigger without a usable secret is
    /// a configuration error on this side, not an outage: it is not answered as unavailable.
    /// </summary>
    public RelayException ToException() => new(
        Reason switch
        {
            WebhookRejectionReason.MalformedBody => RelayErrorKind.InvalidInput,
            WebhookRejectionReason.NoUsableSecret => RelayErrorKind.SecretUnusable,
            _ => RelayErrorKind.Unauthorized,
        },
        Message);
}

/// <summary>
/// The sender is checking the endpoint (a subscription validation, a URL challenge, a ping): answer with exactly
/// this, and start no job.
/// </summary>
/// <param name="StatusCode">The HTTP status to answer with.</param>
/// <param name="Body">The body to answer with, or null for none.</param>
/// <param name="ContentType">The body's content type, when there is a body.</param>
/// <param name="Headers">Headers to add to the answer.</param>
internal sealed record WebhookHandshake(int StatusCode, string? Body, string? ContentType, IReadOnlyDictionary<string, string> Headers) : WebhookVerification
{
    private static readonly Dictionary<string, string> NoHeaders = [];

    /// <summary>A 200 answer with a JSON body.</summary>
    public static WebhookHandshake Json(string json) => new(200, json, "application/json", NoHeaders);

    /// <summary>A 200 answer with headers and no body.</summary>
    public static WebhookHandshake WithHeaders(IReadOnlyDictionary<string, string> headers) => new(200, null, null, headers);
}
