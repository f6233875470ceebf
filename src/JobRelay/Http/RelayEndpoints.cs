using System.Security.Cryptography;
using System.Text;
using JobRelay.Model;
using JobRelay.Web;
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
            => handlers.HandleHookAsync(request, trigger, cancellationToken));
        api.MapPost("/events/{platform}", (HttpRequest request, string platform, RelayHttpHandlers handlers, CancellationToken cancellationToken)
            => handlers.HandleJobEndAsync(request, platform, cancellationToken));
        api.MapGet("/health", (HttpRequest request, RelayHttpHandlers handlers) => handlers.Live(request));
        guarded.MapPost("/triggers/{trigger}/runs", (HttpRequest request, string trigger, RelayHttpHandlers handlers, CancellationToken cancellationToken)
            => handlers.HandleRunAsync(request, trigger, cancellationToken));
        guarded.MapGet("/triggers/{trigger}/runs/{runId}", (HttpRequest request, string trigger, string runId, RelayHttpHandlers handlers, CancellationToken cancellationToken)
            => handlers.GetRunAsync(request, trigger, runId, cancellationToken));
        guarded.MapGet("/triggers", (HttpRequest request, RelayHttpHandlers handlers) => handlers.ListTriggers(request));
        guarded.MapGet("/triggers/{trigger}/jobs/{jobId}", (HttpRequest request, string trigger, string jobId, RelayHttpHandlers handlers, CancellationToken cancellationToken)
            => handlers.GetJobStatusAsync(request, trigger, jobId, cancellationToken));
        guarded.MapGet("/health/ready", (HttpRequest request, RelayHttpHandlers handlers, CancellationToken cancellationToken)
            => handlers.ReadyAsync(request, cancellationToken));
        return endpoints;
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
internal sealed class ApiKeyRequired
{
    private ApiKeyRequired()
    {
    }

    public static ApiKeyRequired Instance { get; } = new();
}
