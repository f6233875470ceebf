using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using JobRelay.History;
using JobRelay.Diagnostics;
using JobRelay.Hosting;
using JobRelay.Model;
using JobRelay.Platforms;
using JobRelay.Runs;
using JobRelay.Scheduling;
using JobRelay.Secrets;
using JobRelay.Triggers;
using JobRelay.Web;
using JobRelay.Webhooks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobRelay.Http;

/// <summary>
/// The HTTP surface, as handlers that take the request and give an <see cref="IResult"/>. The Functions app and
/// <c>jobrelay serve</c> both call exactly these, so the two hosts behave the same.
/// </summary>
public sealed class RelayHttpHandlers(
    TriggerRunner runner,
    CatalogSource catalog,
    WebhookProcessor webhooks,
    JobRelay.Chaining.ChainProcessor chains,
    ISecretStore secrets,
    IOptions<WebhookOptions> webhookOptions,
    ILogger<RelayHttpHandlers> logger,
    RunHistory history,
    RunActions actions,
    TimeProvider clock,
    SchedulerHeartbeat heartbeat)
{
    /// <summary>
    /// <c>POST /api/runs/{runId}/start-again</c> with <c>{"confirm": true}</c>: starts a run of unknown outcome again,
    /// as a new run whose parent it is; the answer warns that the first job may exist.
    /// </summary>
    public Task<IResult> StartAgainAsync(HttpRequest request, string runId, CancellationToken cancellationToken)
        => Guard(request, async () =>
        {
            ArgumentNullException.ThrowIfNull(request);
            var body = RequestBody.ParseOptionalObject(request, await RequestBody.ReadAsync(request, webhookOptions.Value.MaxBodyBytes, cancellationToken));
            var confirmed = body?["confirm"] is JsonValue confirm && confirm.TryGetValue<bool>(out var value) && value;
            var result = await actions.StartAgainAsync(runId, confirmed, ApiKeys.OperatorOf(request), cancellationToken);
            return TypedResults.Accepted(result.Run.Links.Self, new StartAgainAnswer(result.Run, result.Warning ?? RunActions.StartAgainWarning));
        });

    /// <summary><c>POST /api/runs/{runId}/replay</c>: starts the run's trigger again from its stored arguments, as a new run.</summary>
    public Task<IResult> ReplayAsync(HttpRequest request, string runId, CancellationToken cancellationToken)
        => Guard(request, async () =>
        {
            ArgumentNullException.ThrowIfNull(request);
            RequestBody.ParseOptionalObject(request, await RequestBody.ReadAsync(request, webhookOptions.Value.MaxBodyBytes, cancellationToken));
            var result = await actions.ReplayAsync(runId, ApiKeys.OperatorOf(request), cancellationToken);
            return TypedResults.Accepted(result.Run.Links.Self, new RunActionAnswer(result.Run));
        });

    /// <summary><c>POST /api/runs/{runId}/cancel</c>: asks the platform to cancel the run's job (Keboola's kill, TheEye's cancel).</summary>
    public Task<IResult> CancelAsync(HttpRequest request, string runId, CancellationToken cancellationToken)
        => ControlAsync(request, runId, JobControl.Cancel, cancellationToken);

    /// <summary><c>POST /api/runs/{runId}/approve</c>: approves the run's job, a TheEye approval job on hold.</summary>
    public Task<IResult> ApproveAsync(HttpRequest request, string runId, CancellationToken cancellationToken)
        => ControlAsync(request, runId, JobControl.Approve, cancellationToken);

    /// <summary><c>POST /api/runs/{runId}/reject</c>: rejects the run's job, a TheEye approval job on hold.</summary>
    public Task<IResult> RejectAsync(HttpRequest request, string runId, CancellationToken cancellationToken)
        => ControlAsync(request, runId, JobControl.Reject, cancellationToken);

    /// <summary><c>POST /api/runs/{runId}/restart</c>: runs the run's completed TheEye script job once more, with the run's arguments.</summary>
    public Task<IResult> RestartAsync(HttpRequest request, string runId, CancellationToken cancellationToken)
        => ControlAsync(request, runId, JobControl.Restart, cancellationToken);

    /// <summary>
    /// A control of the run's job: 202 with the run once the platform took it; 409 <c>not-supported</c> when the
    /// platform, as configured, does not offer it; the platform's refusal as-is, 403 when it answered 403 and 409
    /// otherwise, with its status in <c>platformStatus</c>.
    /// </summary>
    private Task<IResult> ControlAsync(HttpRequest request, string runId, JobControl control, CancellationToken cancellationToken)
        => Guard(request, async () =>
        {
            ArgumentNullException.ThrowIfNull(request);
            RequestBody.ParseOptionalObject(request, await RequestBody.ReadAsync(request, webhookOptions.Value.MaxBodyBytes, cancellationToken));
            var result = await actions.ControlAsync(runId, control, ApiKeys.OperatorOf(request), cancellationToken);
            return result.Outcome switch
            {
                JobControlOutcome.Applied => TypedResults.Accepted(result.Run.Links.Self, new RunActionAnswer(result.Run)),
                JobControlOutcome.NotSupported notSupported => Problems.For(
                    new RelayException(RelayErrorKind.NotSupported, notSupported.Reason) { Platform = result.Run.Platform }, request.Path),
                JobControlOutcome.Refused refused => Problems.For(
                    new RelayException(refused.PlatformStatusCode == StatusCodes.Status403Forbidden ? RelayErrorKind.Forbidden : RelayErrorKind.Conflict, refused.Reason)
                    {
                        Platform = result.Run.Platform,
                        PlatformStatusCode = refused.PlatformStatusCode,
                    },
                    request.Path),
                _ => Problems.Internal(request.Path),
            };
        });

    /// <summary>The stats window when none is asked for.</summary>
    public static readonly TimeSpan DefaultStatsWindow = TimeSpan.FromHours(24);

    /// <summary><c>GET /api/runs</c>: runs newest first, filtered, a page at a time.</summary>
    public Task<IResult> ListRunsAsync(HttpRequest request, CancellationToken cancellationToken)
        => Guard(request, async () =>
        {
            ArgumentNullException.ThrowIfNull(request);
            var query = RunQuery.Parse(name => request.Query.TryGetValue(name, out var values) ? values.ToString() : null);
            return TypedResults.Ok(await history.ListAsync(query, cancellationToken));
        });

    /// <summary>
    /// <c>GET /api/runs/{runId}</c>: the run with its cause, chain parent, followers and operator history; a run with a
    /// job has the job's status read from its platform now, and cached on the run.
    /// </summary>
    public Task<IResult> GetRunAsync(HttpRequest request, string runId, CancellationToken cancellationToken)
        => Guard(request, async () =>
        {
            var detail = await history.GetAsync(runId, readJobStatus: true, cancellationToken)
                ?? throw new RelayException(RelayErrorKind.NotFound, $"No run '{runId}' is recorded (runs are kept for the retention window only).");
            return TypedResults.Ok(detail);
        });

    /// <summary>The most <c>GET /api/deliveries/failed</c> lists at once.</summary>
    public const int MaxFailedDeliveries = 1000;

    /// <summary><c>GET /api/deliveries/failed?limit=50</c>: deliveries that failed or were dead-lettered, newest first.</summary>
    public Task<IResult> ListFailedDeliveriesAsync(HttpRequest request, CancellationToken cancellationToken)
        => Guard(request, async () =>
        {
            ArgumentNullException.ThrowIfNull(request);
            var limit = 50;
            if (request.Query.TryGetValue("limit", out var values)
                && (!int.TryParse(values.ToString(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxFailedDeliveries))
            {
                throw new RelayException(RelayErrorKind.InvalidInput, $"limit must be a whole number from 1 to {MaxFailedDeliveries}.") { Parameter = "limit" };
            }

            return TypedResults.Ok(new FailedDeliveryList(await history.FailedEventsAsync(limit, cancellationToken)));
        });

    /// <summary><c>GET /api/triggers/{trigger}/stats?window=PT24H</c>: the trigger's outcome counts and start latency.</summary>
    public Task<IResult> GetTriggerStatsAsync(HttpRequest request, string trigger, CancellationToken cancellationToken)
        => Guard(request, async () =>
        {
            ArgumentNullException.ThrowIfNull(request);
            var window = DefaultStatsWindow;
            if (request.Query.TryGetValue("window", out var values) && values.ToString() is { Length: > 0 } text)
            {
                try
                {
                    window = System.Xml.XmlConvert.ToTimeSpan(text);
                }
                catch (Exception ex) when (ex is FormatException or OverflowException)
                {
                    throw new RelayException(RelayErrorKind.InvalidInput, "window must be an ISO 8601 duration longer than zero and at most P31D, such as PT24H.") { Parameter = "window" };
                }
            }

            return TypedResults.Ok(await history.StatsAsync(trigger, window, cancellationToken));
        });

    /// <summary><c>POST /api/hooks/{trigger}</c> (and the <c>OPTIONS</c> handshake): a webhook delivery.</summary>
    /// <remarks>One delivery is one trace: the answer is written after this returns, so its span is parented to the
    /// receive span explicitly rather than through the ambient activity.</remarks>
    public async Task<IResult> HandleHookAsync(HttpRequest request, string trigger, CancellationToken cancellationToken)
    {
        using var activity = RelayTelemetry.Source.StartActivity("webhook receive", ActivityKind.Internal);
        activity?.SetTag("jobrelay.trigger", trigger);
        var result = await Guard(request, () => IngressHttp.WebhookAsync(webhooks, webhookOptions.Value, request, trigger, cancellationToken), anonymous: true);
        return activity is null ? result : new TracedAnswer(result, activity.Context);
    }

    /// <summary><c>POST /api/events/{platform}</c>: a job ended on a platform; starts the triggers chained after it.</summary>
    public Task<IResult> HandleJobEndAsync(HttpRequest request, string platform, CancellationToken cancellationToken)
        => Guard(request, () => IngressHttp.JobEndAsync(chains, webhookOptions.Value, request, platform, cancellationToken), anonymous: true);

    /// <summary>
    /// <c>POST /api/triggers/{trigger}/runs</c>: starts a trigger, with optional argument overrides. By default the
    /// caller waits for the platform's answer; with <c>?mode=queue</c> the run is written pending and the sweep starts
    /// it, and the answer (202, <c>"status": "pending"</c>) points at the run.
    /// </summary>
    public Task<IResult> HandleRunAsync(HttpRequest request, string trigger, CancellationToken cancellationToken)
        => Guard(request, async () =>
        {
            ArgumentNullException.ThrowIfNull(request);
            var queue = ReadRunMode(request);
            var definition = runner.GetTrigger(trigger);
            var body = await RequestBody.ReadAsync(request, webhookOptions.Value.MaxBodyBytes, cancellationToken);
            var overrides = ReadOverrides(RequestBody.ParseOptionalObject(request, body));
            var arguments = TriggerJobFactory.ApplyOverrides(definition, overrides);
            if (queue)
            {
                var queued = await runner.EnqueueAsync(definition.Name, arguments, RunOrigin.Api, cancellationToken);
                return TypedResults.Accepted(RunLocation(request, queued.Trigger, queued.RunId), StoredRunAnswers.Describe(queued));
            }

            var run = await runner.RunAsync(definition.Name, arguments, RunOrigin.Api, cancellationToken);
            return TypedResults.Accepted(StatusLocation(request, run), RunResponse.From(run));
        });

    /// <summary>
    /// <c>GET /api/triggers/{trigger}/runs/{runId}</c>: a run as the store holds it: a started run with its job, or
    /// its state (pending, refused, of unknown outcome) and reason. Never its arguments.
    /// </summary>
    public Task<IResult> GetRunAsync(HttpRequest request, string trigger, string runId, CancellationToken cancellationToken)
        => Guard(request, async () =>
        {
            ArgumentNullException.ThrowIfNull(request);
            var record = await runner.GetOwnRunAsync(trigger, runId, cancellationToken);
            return new RunOutcome(record, IsFirst: false).Run is { } run
                ? TypedResults.Ok(RunResponse.From(run))
                : TypedResults.Ok(StoredRunAnswers.Describe(record));
        });

    /// <summary><c>GET /api/triggers</c>: the triggers and platforms of the catalog, without secret names.</summary>
    public IResult ListTriggers(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return TypedResults.Json(CatalogView.Render(catalog.Catalog, clock.GetUtcNow()));
    }

    /// <summary><c>GET /api/triggers/{trigger}/jobs/{jobId}</c>: the job's current status, read from its platform.</summary>
    public Task<IResult> GetJobStatusAsync(HttpRequest request, string trigger, string jobId, CancellationToken cancellationToken)
        => Guard(request, async () =>
        {
            var definition = runner.GetTrigger(trigger);
            var status = await runner.GetStatusOfOwnJobAsync(definition.Name, jobId, cancellationToken);
            return TypedResults.Ok(JobStatusResponse.From(definition.Name, definition.Platform, status));
        });

    /// <summary><c>GET /api/health</c>: the process answers.</summary>
    public IResult Live(HttpRequest request)
        => TypedResults.Ok(new JsonObject { ["status"] = "live", ["catalog"] = catalog.LoadResult.IsValid ? "valid" : "invalid" });

    /// <summary>
    /// <c>GET /api/health/ready</c>: the catalog is valid, every secret it names can be read, and the scheduler ticks.
    /// Secrets are reported by name and outcome only. Not ready is a 503 problem (type <c>urn:jobrelay:problem:not-ready</c>)
    /// that carries the same <c>catalog</c>, <c>secrets</c> and <c>scheduler</c> members as the ready answer; when no tick
    /// ran for three intervals, its detail names the last tick.
    /// </summary>
    public async Task<IResult> ReadyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        try
        {
            var load = catalog.LoadResult;
            if (load.Catalog is null)
            {
                return NotReady(request, "The trigger catalog is not valid.", new JsonArray([.. load.Errors.Select(e => JsonValue.Create(e.ToString()))]), secrets: null, scheduler: null);
            }

            var tick = CheckHeartbeatAsync(request, cancellationToken);
            var checks = await Task.WhenAll(CatalogSecrets.Names(load.Catalog).Select(name => CheckSecretAsync(request, name, cancellationToken)));
            var (report, scheduler) = await tick;
            var secretOutcomes = new JsonObject(checks.Select(c => KeyValuePair.Create(c.Name, (JsonNode?)c.Outcome)));
            var problems = new List<string>();
            if (checks.Any(c => c.Outcome != "readable"))
            {
                var unreadable = checks.Where(c => c.Outcome != "readable").Select(c => $"'{c.Name}' ({c.Outcome})");
                problems.Add($"Secrets that cannot be read: {string.Join(", ", unreadable)}.");
            }

            if (report?.State == SchedulerHeartbeatReport.Late)
            {
                problems.Add(LateDetail(report));
            }

            return problems.Count == 0
                ? TypedResults.Json(new JsonObject { ["status"] = "ready", ["catalog"] = "valid", ["secrets"] = secretOutcomes, ["scheduler"] = scheduler })
                : NotReady(request, string.Join(" ", problems), JsonValue.Create("valid"), secretOutcomes, scheduler);
        }
        catch (OperationCanceledException) when (request.HttpContext.RequestAborted.IsCancellationRequested)
        {
            return TypedResults.StatusCode(499);
        }
        catch (Exception ex)
        {
            HttpLog.UnexpectedFailure(logger, request.Path, ex.GetType().Name);
            return Problems.Internal(request.Path);
        }
    }

    /// <summary><c>GET /api/health/scheduler</c>: the scheduler's last tick, and whether it is late (the dashboard shows it).</summary>
    public Task<IResult> GetSchedulerHeartbeatAsync(HttpRequest request, CancellationToken cancellationToken)
        => Guard(request, async () => TypedResults.Ok(await heartbeat.CheckAsync(cancellationToken)));

    /// <summary>The heartbeat for readiness; a store that cannot be read is reported in the member, not as late.</summary>
    private async Task<(SchedulerHeartbeatReport? Report, JsonNode Member)> CheckHeartbeatAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        try
        {
            var report = await heartbeat.CheckAsync(cancellationToken);
            var member = new JsonObject
            {
                ["state"] = report.State,
                ["lastTick"] = report.LastTick,
                ["host"] = report.Host,
                ["instance"] = report.Instance,
                ["cadence"] = report.Cadence,
                ["lateAfter"] = report.LateAfter,
            };
            return (report, member);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            HttpLog.UnexpectedFailure(logger, request.Path, ex.GetType().Name);
            return (null, new JsonObject { ["state"] = "unknown" });
        }
    }

    private static string LateDetail(SchedulerHeartbeatReport report)
    {
        var missed = SchedulerHeartbeatOptions.MissedTicks;
        return report.LastTick is { } last
            ? string.Create(CultureInfo.InvariantCulture, $"The scheduler has not ticked since {last:O} (host {report.Host}, instance {report.Instance}): {missed} ticks ({report.Cadence}) were due by {report.LateAfter:O}. The timer or loop that drives schedules and the sweep has stopped.")
            : string.Create(CultureInfo.InvariantCulture, $"The scheduler has never ticked: {missed} ticks ({report.Cadence}) were due by {report.LateAfter:O}. The timer or loop that drives schedules and the sweep does not run.");
    }

    private async Task<(string Name, string Outcome)> CheckSecretAsync(HttpRequest request, string name, CancellationToken cancellationToken)
    {
        try
        {
            await secrets.GetAsync(name, cancellationToken);
            return (name, "readable");
        }
        catch (RelayException ex)
        {
            return (name, Problems.Describe(ex.Kind).Type);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            HttpLog.UnexpectedFailure(logger, request.Path, ex.GetType().Name);
            return (name, "internal");
        }
    }

    private static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult NotReady(HttpRequest request, string detail, JsonNode catalogState, JsonObject? secrets, JsonNode? scheduler)
    {
        var extensions = new Dictionary<string, object?> { ["catalog"] = catalogState };
        if (secrets is not null)
        {
            extensions["secrets"] = secrets;
        }

        if (scheduler is not null)
        {
            extensions["scheduler"] = scheduler;
        }

        return TypedResults.Problem(
            detail: detail,
            instance: request.Path,
            statusCode: StatusCodes.Status503ServiceUnavailable,
            title: "JobRelay is not ready",
            type: Problems.TypePrefix + "not-ready",
            extensions: extensions);
    }

    private static JsonObject? ReadOverrides(JsonObject? body)
    {
        if (body is null)
        {
            return null;
        }

        var unknown = body.Select(p => p.Key).Where(k => k != "arguments").ToList();
        if (unknown.Count > 0)
        {
            throw new RelayException(RelayErrorKind.InvalidInput, $"Unknown field(s) {string.Join(", ", unknown.Select(u => $"'{u}'"))}: the body takes only \"arguments\": {{\"name\": value}}.");
        }

        return body["arguments"] switch
        {
            null => null,
            JsonObject arguments => arguments,
            _ => throw new RelayException(RelayErrorKind.InvalidInput, "\"arguments\" must be a JSON object of argument names to values."),
        };
    }

    /// <summary>Whether the caller asked to queue the run (<c>?mode=queue</c>) rather than wait (<c>?mode=wait</c>, the default).</summary>
    private static bool ReadRunMode(HttpRequest request)
    {
        var modes = request.Query["mode"];
        return modes.Count switch
        {
            0 => false,
            1 when string.Equals(modes[0], "wait", StringComparison.Ordinal) => false,
            1 when string.Equals(modes[0], "queue", StringComparison.Ordinal) => true,
            _ => throw new RelayException(RelayErrorKind.InvalidInput, "The query parameter 'mode' must be 'wait' or 'queue', once."),
        };
    }

    private static string RunLocation(HttpRequest request, string trigger, string runId)
    {
        var prefix = request.PathBase.HasValue ? request.PathBase.Value : string.Empty;
        return string.Create(CultureInfo.InvariantCulture, $"{prefix}/api/triggers/{Uri.EscapeDataString(trigger)}/runs/{Uri.EscapeDataString(runId)}");
    }

    private static string StatusLocation(HttpRequest request, RelayRun run)
    {
        var prefix = request.PathBase.HasValue ? request.PathBase.Value : string.Empty;
        return string.Create(CultureInfo.InvariantCulture, $"{prefix}/api/triggers/{Uri.EscapeDataString(run.Trigger)}/jobs/{Uri.EscapeDataString(run.JobId)}");
    }

    private const string ConfigurationFailureDetail = "JobRelay could not read a secret it needs to take this request. The cause is in its log; nothing was started.";

    /// <param name="anonymous">
    /// The route answers callers who hold no API key (webhooks, job-end events): a failure of JobRelay's own secrets is
    /// answered without its detail, which names secrets and settings, and the detail goes to the log.
    /// </param>
    private async Task<IResult> Guard(HttpRequest request, Func<Task<IResult>> handle, bool anonymous = false)
    {
        try
        {
            return await handle();
        }
        catch (RelayException ex) when (anonymous && ex.Kind is RelayErrorKind.SecretNotFound or RelayErrorKind.SecretUnusable or RelayErrorKind.SecretForbidden or RelayErrorKind.SecretStoreUnavailable)
        {
            HttpLog.SecretFailureHidden(logger, request.Path, ex.Kind, ex.Message);
            return Problems.For(new RelayException(ex.Kind, ConfigurationFailureDetail) { RetryAfter = ex.RetryAfter }, request.Path);
        }
        catch (RelayException ex)
        {
            return Problems.For(ex, request.Path);
        }
        catch (BadHttpRequestException ex)
        {
            return Problems.For(RequestBody.FromServer(ex, webhookOptions.Value.MaxBodyBytes), request.Path);
        }
        catch (OperationCanceledException) when (request.HttpContext.RequestAborted.IsCancellationRequested)
        {
            return TypedResults.StatusCode(499);
        }
        catch (Exception ex)
        {
            HttpLog.UnexpectedFailure(logger, request.Path, ex.GetType().Name);
            return Problems.Internal(request.Path);
        }
    }
}

/// <summary>Writes an answer inside its own span, a child of the span that received the request.</summary>
internal sealed class TracedAnswer(IResult answer, ActivityContext parent) : IResult
{
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        using var activity = RelayTelemetry.Source.StartActivity("webhook answer", ActivityKind.Internal, parent);
        await answer.ExecuteAsync(httpContext);
        activity?.SetTag("http.response.status_code", httpContext.Response.StatusCode);
    }
}

internal static partial class HttpLog
{
    [LoggerMessage(EventId = 1601, Level = LogLevel.Error, Message = "{Path} was answered {Kind} without the detail, as its caller holds no API key: {Detail}")]
    public static partial void SecretFailureHidden(ILogger logger, string path, RelayErrorKind kind, string detail);

    [LoggerMessage(EventId = 1600, Level = LogLevel.Error, Message = "Unexpected {ExceptionType} while handling {Path}")]
    public static partial void UnexpectedFailure(ILogger logger, string path, string exceptionType);
}
