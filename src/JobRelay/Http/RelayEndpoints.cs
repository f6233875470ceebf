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
    /// Maps every route under <c>/api</c>, and the dashboard page at <c>/dashboard</c>. The runs, history, catalog,
    /// status and readiness routes require <paramref name="apiKey"/> (named "default") or a named key of
    /// <c>JobRelay:Api:Keys</c> in the <c>x-functions-key</c> header, as function keys do in Azure; hooks and liveness
    /// are open, hooks being authenticated by their own signatures.
    /// </summary>
    public static IEndpointRouteBuilder MapJobRelay(this IEndpointRouteBuilder endpoints, string apiKey)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrEmpty(apiKey);
        var expectedDigest = ApiKeys.Digest(apiKey);
        var api = endpoints.MapGroup("/api");

        // Answers carry run data and job status that change by the second: no browser or proxy may keep one.
        api.AddEndpointFilter(async (context, next) =>
        {
            context.HttpContext.Response.Headers.CacheControl = "no-store";
            return await next(context);
        });
        var guarded = api.MapGroup(string.Empty).WithMetadata(ApiKeyRequired.Instance).AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var keys = http.RequestServices.GetRequiredService<ApiKeys>();
            if (await keys.NameOfAsync(http.Request.Headers[ApiKeyHeader].ToString(), expectedDigest, http.RequestAborted) is not { } name)
            {
                return Problems.For(RelayErrorKind.Unauthorized, $"This route needs the API key in the {ApiKeyHeader} header.", http.Request.Path);
            }

            http.Items[ApiKeys.NameItem] = name;
            return await next(context);
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
        guarded.MapGet("/runs", (HttpRequest request, RelayHttpHandlers handlers, CancellationToken cancellationToken)
            => handlers.ListRunsAsync(request, cancellationToken));
        guarded.MapGet("/runs/{runId}", (HttpRequest request, string runId, RelayHttpHandlers handlers, CancellationToken cancellationToken)
            => handlers.GetRunAsync(request, runId, cancellationToken));
        guarded.MapGet("/triggers/{trigger}/stats", (HttpRequest request, string trigger, RelayHttpHandlers handlers, CancellationToken cancellationToken)
            => handlers.GetTriggerStatsAsync(request, trigger, cancellationToken));
        guarded.MapPost("/runs/{runId}/start-again", (HttpRequest request, string runId, RelayHttpHandlers handlers, CancellationToken cancellationToken)
            => handlers.StartAgainAsync(request, runId, cancellationToken));
        guarded.MapPost("/runs/{runId}/replay", (HttpRequest request, string runId, RelayHttpHandlers handlers, CancellationToken cancellationToken)
            => handlers.ReplayAsync(request, runId, cancellationToken));
        guarded.MapPost("/runs/{runId}/cancel", (HttpRequest request, string runId, RelayHttpHandlers handlers, CancellationToken cancellationToken)
            => handlers.CancelAsync(request, runId, cancellationToken));
        guarded.MapGet("/health/ready", (HttpRequest request, RelayHttpHandlers handlers, CancellationToken cancellationToken)
            => handlers.ReadyAsync(request, cancellationToken));

        // The page and its assets hold no data, so they are open; every call the page makes carries the key.
        endpoints.MapGet("/dashboard", (HttpRequest request) => DashboardPage.Page(request));
        endpoints.MapGet("/dashboard/{asset}", (HttpRequest request, string asset) => DashboardPage.Asset(request, asset));
        return endpoints;
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
