using System.Globalization;
using JobRelay.Model;
using Microsoft.AspNetCore.Http;

namespace JobRelay.Web;

/// <summary>
/// Errors leave the HTTP surface as RFC 9457 problem details with one stable <c>type</c> per kind of failure, so
/// callers can branch on the type rather than on the wording. Only what may pass by itself is a 503 with
/// <c>Retry-After</c> (a platform or the vault out of reach); a secret that does not exist or cannot be used is a
/// configuration error on this side, answered as a 500 without it, so that senders do not retry it for ever.
/// </summary>
public static class Problems
{
    public const string TypePrefix = "urn:jobrelay:problem:";

    /// <summary>The status, type and title a kind of failure is answered with.</summary>
    public static (int Status, string Type, string Title) Describe(RelayErrorKind kind) => kind switch
    {
        RelayErrorKind.InvalidInput => (400, "invalid-input", "The request is not valid"),
        RelayErrorKind.Unauthorized => (401, "unauthorized", "The request is not authenticated"),
        RelayErrorKind.Forbidden => (403, "forbidden", "The request is not allowed"),
        RelayErrorKind.NotFound => (404, "not-found", "Not found"),
        RelayErrorKind.PayloadTooLarge => (413, "payload-too-large", "The request body is too large"),
        RelayErrorKind.UnsupportedMediaType => (415, "unsupported-media-type", "The request body's content type is not accepted"),
        RelayErrorKind.MappingFailed => (422, "mapping-failed", "The request could not be mapped to job parameters"),
        RelayErrorKind.PlatformRejected => (502, "platform-rejected", "The platform refused the job"),
        RelayErrorKind.PlatformAuthenticationFailed => (502, "platform-authentication-failed", "The platform refused JobRelay's credential"),
        RelayErrorKind.InvalidPlatformResponse => (502, "platform-invalid-response", "The platform's answer could not be understood"),
        RelayErrorKind.OutcomeUnknown => (502, "outcome-unknown", "The job may or may not have been started"),
        RelayErrorKind.InFlight => (409, "in-flight", "An identical request is being started"),
        RelayErrorKind.Conflict => (409, "conflict", "The request does not fit the current state"),
        RelayErrorKind.NotSupported => (409, "not-supported", "The platform does not offer this action"),
        RelayErrorKind.PlatformUnavailable => (503, "platform-unavailable", "The platform is unavailable"),
        RelayErrorKind.SecretNotFound => (500, "secret-not-found", "A secret JobRelay needs does not exist"),
        RelayErrorKind.SecretUnusable => (500, "secret-unusable", "A secret JobRelay needs cannot be used"),
        RelayErrorKind.SecretForbidden => (503, "secret-forbidden", "JobRelay may not read a secret it needs"),
        RelayErrorKind.SecretStoreUnavailable => (503, "secret-store-unavailable", "The secret store is unavailable"),
        RelayErrorKind.Timeout => (504, "timeout", "The platform did not answer in time"),
        RelayErrorKind.RequestTimeout => (408, "request-timeout", "The request did not arrive in time"),
        _ => (500, "internal", "Unexpected failure"),
    };

    /// <summary>
    /// The type and title of an error status that no handler chose (routing, the server's own refusals), so that
    /// every error, whoever answers it, has the same shape.
    /// </summary>
    public static (string Type, string Title, string Detail) DescribeStatus(int status) => status switch
    {
        400 => ("invalid-input", "The request is not valid", "The request is malformed."),
        401 => ("unauthorized", "The request is not authenticated", "This route needs credentials."),
        403 => ("forbidden", "The request is not allowed", "This route is not allowed."),
        404 => ("not-found", "Not found", "No route matches this path."),
        405 => ("method-not-allowed", "Method not allowed", "This route does not take this method; the Allow header lists those it takes."),
        408 => ("request-timeout", "The request did not arrive in time", "The request was not received in time."),
        411 => ("length-required", "Length required", "The request body needs a Content-Length or chunked framing."),
        413 => ("payload-too-large", "The request body is too large", "The request body is larger than the limit."),
        414 => ("uri-too-long", "The request URI is too long", "The request target is longer than the limit."),
        415 => ("unsupported-media-type", "The request body's content type is not accepted", "The request body's content type is not accepted."),
        431 => ("headers-too-large", "The request headers are too large", "The request headers are larger than the limit."),
        >= 500 => ("internal", "Unexpected failure", "An unexpected failure occurred; it has been logged. Nothing was started unless a job status says otherwise."),
        _ => ("http-" + status.ToString(CultureInfo.InvariantCulture), "The request failed", "The request failed."),
    };

    /// <summary>The problem answer for an error status found outside the handlers.</summary>
    public static IResult ForStatus(int status, string? instance = null, string? detail = null)
    {
        var (type, title, standardDetail) = DescribeStatus(status);
        return TypedResults.Problem(
            detail: detail ?? standardDetail,
            instance: instance,
            statusCode: status,
            title: title,
            type: TypePrefix + type);
    }

    /// <summary>The problem answer for a failure. Its detail is the exception's message, which never holds a secret.</summary>
    public static IResult For(RelayException exception, string? instance = null)
        => For(exception, instance, null);

    /// <summary>The problem answer for a failure, with members of its own (a batch's per-event outcomes).</summary>
    public static IResult For(RelayException exception, string? instance, IReadOnlyDictionary<string, object?>? members)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var (status, type, title) = Describe(exception.Kind);
        var extensions = members is null ? new Dictionary<string, object?>() : new Dictionary<string, object?>(members);
        if (exception.Platform is not null)
        {
            extensions["platform"] = exception.Platform;
        }

        if (exception.Parameter is not null)
        {
            extensions["parameter"] = exception.Parameter;
        }

        if (exception.PlatformStatusCode is { } platformStatus)
        {
            extensions["platformStatus"] = platformStatus;
        }

        var problem = TypedResults.Problem(
            detail: exception.Message,
            instance: instance,
            statusCode: status,
            title: title,
            type: TypePrefix + type,
            extensions: extensions);
        var retryAfter = exception.RetryAfter ?? (status == 503 ? TimeSpan.FromSeconds(30) : null);
        return retryAfter is { } wait ? new WithRetryAfter(problem, wait) : problem;
    }

    /// <summary>A problem answer for a failure found by the HTTP layer itself.</summary>
    public static IResult For(RelayErrorKind kind, string detail, string? instance = null)
        => For(new RelayException(kind, detail), instance);

    /// <summary>The answer to a failure nobody expected: a 500 whose detail says nothing of the failure itself.</summary>
    public static IResult Internal(string? instance = null)
        => TypedResults.Problem(
            detail: "An unexpected failure occurred; it has been logged. Nothing was started unless a job status says otherwise.",
            instance: instance,
            statusCode: StatusCodes.Status500InternalServerError,
            title: "Unexpected failure",
            type: TypePrefix + "internal");

    private sealed class WithRetryAfter(IResult inner, TimeSpan wait) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
            httpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            return inner.ExecuteAsync(httpContext);
        }
    }
}
