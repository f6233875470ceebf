using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace JobRelay.Http;

/// <summary>Maps the HTTP surface for a host that is not the Functions app (<c>jobrelay serve</c>, tests).</summary>
public static class RelayEndpoints
{
    /// <summary>The header that carries the API key; the same one Azure Functions reads function keys from.</summary>
    public const string ApiKeyHeader = "x-functions-key";

    /// <summary>
    /// Maps every route under <c>/api</c>. The runs, catalog, status and readiness routes require
    /// <paramref name="apiKey"/> in the <c>x-functions-key</c> header, as function keys do in Azure; hooks and
    /// liveness are open, hooks being authenticated by their own signatures.
    /// </summary>
    public static IEndpointRouteBuilder MapJobRelay(this IEndpointRouteBuilder endpoints, string apiKey)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrEmpty(apiKey);
        var expectedDigest = SHA256.HashData(Encoding.UTF8.GetBytes(apiKey));
        var api = endpoints.MapGroup("/api");
        var guarded = api.MapGroup(string.Empty).WithMetadata(ApiKeyRequired.Instance).AddEndpointFilter(async (context, next) =>
        {
            return KeyMatches(context.HttpContext.Request.Headers[ApiKeyHeader].ToString(), expectedDigest)
                ? await next(context)
                : Problems.For(RelayErrorKind.Unauthorized, $"This route needs the API key in the {ApiKeyHeader} header.", context.HttpContext.Request.Path);
        });

        api.MapMethods("/hooks/{trigger}", ["POST", "OPTIONS"], (HttpRequest request, string trigger, RelayHttpHandlers handlers, CancellationToken cancellationToken)
            => handlers.HandleHookAsync(request, trigger, cancellationToken))
            .WithName("ReceiveWebhook")
            .WithTags("Webhooks")
            .WithSummary("Receives a webhook delivery for a trigger and starts its job once.")
            .WithDescription("Authenticated by the trigger's own webhook scheme (signature or token), not by the API key. OPTIONS answers the sender's handshake. A duplicate delivery gets the original's outcome with 200.")
            .Produces<RunResponse>(StatusCodes.Status202Accepted)
            .Produces<RunResponse>(StatusCodes.Status200OK)
            .WithProblems(StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized, StatusCodes.Status403Forbidden, StatusCodes.Status404NotFound, StatusCodes.Status409Conflict, StatusCodes.Status413PayloadTooLarge, StatusCodes.Status415UnsupportedMediaType, StatusCodes.Status422UnprocessableEntity, StatusCodes.Status502BadGateway, StatusCodes.Status503ServiceUnavailable);
        api.MapPost("/events/{platform}", (HttpRequest request, string platform, RelayHttpHandlers handlers, CancellationToken cancellationToken)
            => handlers.HandleJobEndAsync(request, platform, cancellationToken))
            .WithName("ReceiveJobEnd")
            .WithTags("Webhooks")
            .WithSummary("Receives a platform's job-end event and starts the triggers chained after that job.")
            .WithDescription("Authenticated by the platform's event token, not by the API key.")
            .Produces(StatusCodes.Status202Accepted)
            .Produces(StatusCodes.Status200OK)
            .WithProblems(StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized, StatusCodes.Status404NotFound, StatusCodes.Status502BadGateway, StatusCodes.Status503ServiceUnavailable);
        api.MapGet("/health", (HttpRequest request, RelayHttpHandlers handlers) => handlers.Live(request))
            .WithName("GetLiveness")
            .WithTags("Health")
            .WithSummary("Answers while the process runs, with whether the catalog is valid.")
            .Produces(StatusCodes.Status200OK)
            .WithProblems();
        guarded.MapPost("/triggers/{trigger}/runs", (HttpRequest request, string trigger, RelayHttpHandlers handlers, CancellationToken cancellationToken)
            => handlers.HandleRunAsync(request, trigger, cancellationToken))
            .WithName("StartRun")
            .WithTags("Runs")
            .WithSummary("Starts a trigger's job now, with optional argument overrides.")
            .WithDescription("The body, when present, is {\"arguments\": {\"name\": value}}.")
            .Produces<RunResponse>(StatusCodes.Status202Accepted)
            .WithProblems(StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized, StatusCodes.Status403Forbidden, StatusCodes.Status404NotFound, StatusCodes.Status409Conflict, StatusCodes.Status413PayloadTooLarge, StatusCodes.Status415UnsupportedMediaType, StatusCodes.Status422UnprocessableEntity, StatusCodes.Status502BadGateway, StatusCodes.Status503ServiceUnavailable, StatusCodes.Status504GatewayTimeout);
        guarded.MapGet("/triggers", (HttpRequest request, RelayHttpHandlers handlers) => handlers.ListTriggers(request))
            .WithName("ListTriggers")
            .WithTags("Catalog")
            .WithSummary("Lists the catalog's triggers and platforms, without secret names.")
            .Produces(StatusCodes.Status200OK)
            .WithProblems(StatusCodes.Status401Unauthorized);
        guarded.MapGet("/triggers/{trigger}/jobs/{jobId}", (HttpRequest request, string trigger, string jobId, RelayHttpHandlers handlers, CancellationToken cancellationToken)
            => handlers.GetJobStatusAsync(request, trigger, jobId, cancellationToken))
            .WithName("GetJobStatus")
            .WithTags("Runs")
            .WithSummary("Reads the current status of a job the trigger started, from its platform.")
            .Produces<JobStatusResponse>(StatusCodes.Status200OK)
            .WithProblems(StatusCodes.Status401Unauthorized, StatusCodes.Status404NotFound, StatusCodes.Status502BadGateway, StatusCodes.Status503ServiceUnavailable, StatusCodes.Status504GatewayTimeout);
        guarded.MapGet("/health/ready", (HttpRequest request, RelayHttpHandlers handlers, CancellationToken cancellationToken)
            => handlers.ReadyAsync(request, cancellationToken))
            .WithName("GetReadiness")
            .WithTags("Health")
            .WithSummary("Checks that the catalog is valid and that every secret it names can be read.")
            .WithDescription("Secrets are reported by name and outcome only. Not ready is a 503 problem of type urn:jobrelay:problem:not-ready.")
            .Produces(StatusCodes.Status200OK)
            .WithProblems(StatusCodes.Status401Unauthorized, StatusCodes.Status503ServiceUnavailable);
        return endpoints;
    }

    /// <summary>
    /// Declares the problem answers a route can give: every error is an RFC 9457 problem whose <c>type</c> is a
    /// <c>urn:jobrelay:problem:*</c> name (see <see cref="Problems"/>).
    /// </summary>
    public static RouteHandlerBuilder WithProblems(this RouteHandlerBuilder builder, params int[] statuses)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(statuses);
        foreach (var status in statuses)
        {
            builder.ProducesProblem(status);
        }

        return builder.ProducesProblem(StatusCodes.Status500InternalServerError);
    }

    /// <summary>
    /// Compares digests of equal length in constant time, so that neither the key's length nor its first differing
    /// byte shows in how long a refusal takes.
    /// </summary>
    private static bool KeyMatches(string presented, byte[] expectedDigest)
    {
        Span<byte> presentedDigest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(presented), presentedDigest);
        return CryptographicOperations.FixedTimeEquals(presentedDigest, expectedDigest);
    }
}

/// <summary>
/// Marks an endpoint that only answers callers presenting the API key: the routes that are function-level
/// (<c>AuthorizationLevel.Function</c>) in the Functions app.
/// </summary>
public sealed class ApiKeyRequired
{
    private ApiKeyRequired()
    {
    }

    public static ApiKeyRequired Instance { get; } = new();
}
