namespace JobRelay.Model;

/// <summary>What went wrong, in the terms the HTTP surface and the CLI turn into a status and a problem type.</summary>
public enum RelayErrorKind
{
    /// <summary>The caller sent something malformed.</summary>
    InvalidInput,

    /// <summary>The caller is not authenticated (bad or missing signature, key or token).</summary>
    Unauthorized,

    /// <summary>The caller is authenticated but not allowed.</summary>
    Forbidden,

    /// <summary>The named trigger, platform or job does not exist.</summary>
    NotFound,

    /// <summary>A request body over the configured limit.</summary>
    PayloadTooLarge,

    /// <summary>A request body of a content type the route does not take.</summary>
    UnsupportedMediaType,

    /// <summary>An argument could not be mapped into job parameters (a required value is missing or malformed).</summary>
    MappingFailed,

    /// <summary>The platform refused the job or the request (a 4xx, or a job that failed as it was created).</summary>
    PlatformRejected,

    /// <summary>The platform refused the credential, even after the secret was re-read once.</summary>
    PlatformAuthenticationFailed,

    /// <summary>The platform could not be reached or answered 429/5xx after every retry.</summary>
    PlatformUnavailable,

    /// <summary>A read from the platform did not answer within its time budget.</summary>
    Timeout,

    /// <summary>A job-starting request may have reached the platform but no answer came back: the job may or may not exist.</summary>
    OutcomeUnknown,

    /// <summary>An identical request is being started by another caller or instance right now; its outcome is not known yet.</summary>
    InFlight,

    /// <summary>The platform answered with something that cannot be understood.</summary>
    InvalidPlatformResponse,

    /// <summary>The secret does not exist in the store.</summary>
    SecretNotFound,

    /// <summary>The store refused to give the secret to this identity.</summary>
    SecretForbidden,

    /// <summary>The secret store could not be reached.</summary>
    SecretStoreUnavailable,

    /// <summary>The caller did not send the request body in time (it stalled or trickled under the minimum rate).</summary>
    RequestTimeout,

    /// <summary>The secret exists but its value cannot be used (a webhook secret in the wrong form).</summary>
    SecretUnusable,

    /// <summary>What was asked does not fit the state of the thing it is asked of (an operator action on a run).</summary>
    Conflict,

    /// <summary>The platform, as configured, does not offer what was asked (a control of a job it has no API for).</summary>
    NotSupported,
}

/// <summary>
/// The one exception type JobRelay raises for expected failures. Its message is safe to show to a caller:
/// it never contains a secret value, a token or a URL that carries one.
/// </summary>
public sealed class RelayException : Exception
{
    public RelayException(RelayErrorKind kind, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Kind = kind;
    }

    public RelayErrorKind Kind { get; }

    /// <summary>The catalog name of the platform involved, when there is one.</summary>
    public string? Platform { get; init; }

    /// <summary>The request parameter that is not valid, for <see cref="RelayErrorKind.InvalidInput"/>.</summary>
    public string? Parameter { get; init; }

    /// <summary>The HTTP status the platform answered with, when it answered.</summary>
    public int? PlatformStatusCode { get; init; }

    /// <summary>How long the platform (or the store) asked callers to wait before trying again.</summary>
    public TimeSpan? RetryAfter { get; init; }
}
