using JobRelay.History;
using JobRelay.Model;
using JobRelay.Scheduling;
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

    private const string ControlDescription =
        "Recorded in the run's history with the API key's name. A platform without this control, as configured, answers 409 urn:jobrelay:problem:not-supported saying why; "
        + "a refusal by the platform is answered with its words and its status in platformStatus (403 for its 403, else 409).";

    private static readonly int[] ControlProblems =
    [
        StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized, StatusCodes.Status403Forbidden, StatusCodes.Status404NotFound,
        StatusCodes.Status409Conflict, StatusCodes.Status502BadGateway, StatusCodes.Status503ServiceUnavailable, StatusCodes.Status504GatewayTimeout,
    ];

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
        guarded.MapGet("/triggers/{trigger}/runs/{runId}", (HttpRequest request, string trigger, string runId, RelayHttpHandlers handlers, CancellationToken cancellationToken)
            => handlers.GetRunAsync(request, trigger, runId, cancellationToken))
            .WithName("GetTriggerRun")
            .WithTags("Runs")
            .WithSummary("Shows one run of the trigger as stored: where a queued run's Location points.")
            .Produces(StatusCodes.Status200OK)
            .WithProblems(StatusCodes.Status401Unauthorized, StatusCodes.Status404NotFound);
        guarded.MapGet("/runs", (HttpRequest request, RelayHttpHandlers handlers, CancellationToken cancellationToken)
            => handlers.ListRunsAsync(request, cancellationToken))
            .WithName("ListRuns")
            .WithTags("History")
            .WithSummary("Lists runs newest first, filtered by trigger, platform, origin, state and time, a page at a time.")
            .WithDescription("Query: trigger, platform, origin, state, from, to (ISO 8601), limit (1-200, default 50), cursor (the previous page's next).")
            .Produces<RunList>(StatusCodes.Status200OK)
            .WithProblems(StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized);
        guarded.MapGet("/runs/{runId}", (HttpRequest request, string runId, RelayHttpHandlers handlers, CancellationToken cancellationToken)
            => handlers.GetRunAsync(request, runId, cancellationToken))
            .WithName("GetRun")
            .WithTags("History")
            .WithSummary("Shows a run with its cause, chain parent, followers and operator history; a job's status is read from its platform.")
            .Produces<RunDetail>(StatusCodes.Status200OK)
            .WithProblems(StatusCodes.Status401Unauthorized, StatusCodes.Status404NotFound);
        guarded.MapGet("/deliveries/failed", (HttpRequest request, RelayHttpHandlers handlers, CancellationToken cancellationToken)
            => handlers.ListFailedDeliveriesAsync(request, cancellationToken))
            .WithName("ListFailedDeliveries")
            .WithTags("History")
            .WithSummary("Lists the outbound deliveries that failed or were dead-lettered, newest first, with their attempts.")
            .WithDescription("Query: limit (1-1000, default 50). Each delivery names its event, subscription and destination, never a secret.")
            .Produces<FailedDeliveryList>(StatusCodes.Status200OK)
            .WithProblems(StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized);
        guarded.MapGet("/triggers/{trigger}/stats", (HttpRequest request, string trigger, RelayHttpHandlers handlers, CancellationToken cancellationToken)
            => handlers.GetTriggerStatsAsync(request, trigger, cancellationToken))
            .WithName("GetTriggerStats")
            .WithTags("History")
            .WithSummary("Counts a trigger's outcomes over a window (window=PT24H by default) with its start latency p50/p95.")
            .Produces<TriggerStats>(StatusCodes.Status200OK)
            .WithProblems(StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized, StatusCodes.Status404NotFound);
        guarded.MapPost("/runs/{runId}/start-again", (HttpRequest request, string runId, RelayHttpHandlers handlers, CancellationToken cancellationToken)
            => handlers.StartAgainAsync(request, runId, cancellationToken))
            .WithName("StartRunAgain")
            .WithTags("Operator actions")
            .WithSummary("Starts a run of unknown outcome again, as a new run; needs {\"confirm\": true}, because the first job may exist.")
            .Produces(StatusCodes.Status202Accepted)
            .WithProblems(StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized, StatusCodes.Status404NotFound, StatusCodes.Status409Conflict, StatusCodes.Status502BadGateway, StatusCodes.Status503ServiceUnavailable);
        guarded.MapPost("/runs/{runId}/replay", (HttpRequest request, string runId, RelayHttpHandlers handlers, CancellationToken cancellationToken)
            => handlers.ReplayAsync(request, runId, cancellationToken))
            .WithName("ReplayRun")
            .WithTags("Operator actions")
            .WithSummary("Starts the run's trigger again from its stored, non-secret arguments, as a new run.")
            .Produces(StatusCodes.Status202Accepted)
            .WithProblems(StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized, StatusCodes.Status404NotFound, StatusCodes.Status409Conflict, StatusCodes.Status502BadGateway, StatusCodes.Status503ServiceUnavailable);
        guarded.MapPost("/runs/{runId}/cancel", (HttpRequest request, string runId, RelayHttpHandlers handlers, CancellationToken cancellationToken)
            => handlers.CancelAsync(request, runId, cancellationToken))
            .WithName("CancelRun")
            .WithTags("Operator actions")
            .WithSummary("Asks the platform to cancel the run's job: Keboola's job kill, TheEye's cancel (with the platform's access token).")
            .WithDescription(ControlDescription + " A TheEye task set not cancellable answers 403 with TheEye's words.")
            .Produces(StatusCodes.Status202Accepted)
            .WithProblems(ControlProblems);
        guarded.MapPost("/runs/{runId}/approve", (HttpRequest request, string runId, RelayHttpHandlers handlers, CancellationToken cancellationToken)
            => handlers.ApproveAsync(request, runId, cancellationToken))
            .WithName("ApproveRun")
            .WithTags("Operator actions")
            .WithSummary("Approves the run's job: a TheEye approval job on hold (with the platform's access token).")
            .WithDescription(ControlDescription + " TheEye answers 403 when the token's user is not an approver, 409 once the job is no longer on hold.")
            .Produces(StatusCodes.Status202Accepted)
            .WithProblems(ControlProblems);
        guarded.MapPost("/runs/{runId}/reject", (HttpRequest request, string runId, RelayHttpHandlers handlers, CancellationToken cancellationToken)
            => handlers.RejectAsync(request, runId, cancellationToken))
            .WithName("RejectRun")
            .WithTags("Operator actions")
            .WithSummary("Rejects the run's job: a TheEye approval job on hold (with the platform's access token).")
            .WithDescription(ControlDescription + " TheEye answers 403 when the token's user is not an approver, 409 once the job is no longer on hold.")
            .Produces(StatusCodes.Status202Accepted)
            .WithProblems(ControlProblems);
        guarded.MapPost("/runs/{runId}/restart", (HttpRequest request, string runId, RelayHttpHandlers handlers, CancellationToken cancellationToken)
            => handlers.RestartAsync(request, runId, cancellationToken))
            .WithName("RestartRun")
            .WithTags("Operator actions")
            .WithSummary("Runs the run's completed TheEye script job once more, as the same job, with the run's stored arguments.")
            .WithDescription(ControlDescription + " Only completed script and Node.js jobs are restarted.")
            .Produces(StatusCodes.Status202Accepted)
            .WithProblems(ControlProblems);
        guarded.MapGet("/health/ready", (HttpRequest request, RelayHttpHandlers handlers, CancellationToken cancellationToken)
            => handlers.ReadyAsync(request, cancellationToken))
            .WithName("GetReadiness")
            .WithTags("Health")
            .WithSummary("Checks that the catalog is valid, that every secret it names can be read, and that the scheduler ticks.")
            .WithDescription("Secrets are reported by name and outcome only; the scheduler member shows the last tick. Not ready is a 503 problem of type urn:jobrelay:problem:not-ready; when no scheduler tick ran for three intervals, its detail names the last tick.")
            .Produces(StatusCodes.Status200OK)
            .WithProblems(StatusCodes.Status401Unauthorized, StatusCodes.Status503ServiceUnavailable);
        guarded.MapGet("/health/scheduler", (HttpRequest request, RelayHttpHandlers handlers, CancellationToken cancellationToken)
            => handlers.GetSchedulerHeartbeatAsync(request, cancellationToken))
            .WithName("GetSchedulerHeartbeat")
            .WithTags("Health")
            .WithSummary("Shows the scheduler's last tick (when, which host and instance) and whether it is late.")
            .WithDescription("state is ticking, starting (no tick yet since this instance started), late (no tick for three intervals: readiness fails) or unscheduled (this host runs no tick).")
            .Produces<SchedulerHeartbeatReport>(StatusCodes.Status200OK)
            .WithProblems(StatusCodes.Status401Unauthorized);

        // The page and its assets hold no data, so they are open; every call the page makes carries the key.
        endpoints.MapGet("/dashboard", (HttpRequest request) => DashboardPage.Page(request)).ExcludeFromDescription();
        endpoints.MapGet("/dashboard/{asset}", (HttpRequest request, string asset) => DashboardPage.Asset(request, asset)).ExcludeFromDescription();
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
