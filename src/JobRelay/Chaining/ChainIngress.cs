using System.Diagnostics;
using System.Text.Json.Nodes;
using JobRelay.Diagnostics;
using JobRelay.Model;
using JobRelay.Platforms;
using JobRelay.Runs;
using JobRelay.Secrets;
using JobRelay.State;
using JobRelay.Triggers;
using JobRelay.Web;
using JobRelay.Webhooks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobRelay.Chaining;

/// <summary>
/// <c>POST /api/events/{platform}</c>: a job ended on a platform (a Keboola notification, a TheEye outgoing-webhook
/// task). The call is authenticated by the platform's <c>eventSecret</c> token (header <c>X-JobRelay-Token</c> or
/// query <c>token</c>, since Keboola notifications cannot set headers), and starts every trigger whose <c>after</c>
/// rule the event meets, once per (platform, job, follower) across instances.
/// </summary>
public sealed class ChainIngress(
    TriggerRunner runner,
    ISecretStore secrets,
    IWebhookVerifierFactory verifiers,
    IOptions<WebhookOptions> options,
    ILogger<ChainIngress> logger)
{
    public async Task<IResult> HandleAsync(HttpRequest request, string platformName, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var catalog = runner.Catalog;
        if (!catalog.Platforms.TryGetValue(platformName, out var platform) || platform.EventSecret is not { } secretName)
        {
            throw new RelayException(RelayErrorKind.NotFound, $"Platform '{platformName}' takes no job-end events: it is not in the catalog or names no eventSecret.");
        }

        var body = await RequestBody.ReadAsync(request, options.Value.MaxBodyBytes, cancellationToken);
        var delivery = new WebhookDelivery(request.Method, RequestUrl.Of(request, options.Value.PublicBaseUrl),
            request.Headers.Select(h => KeyValuePair.Create(h.Key, h.Value.ToString())), body, request.ContentType);
        var scheme = platform.Kind == PlatformKind.Keboola ? WebhookScheme.KeboolaNotification : WebhookScheme.TheEyeJobEnd;
        var secret = await secrets.GetAsync(secretName, cancellationToken);
        if (verifiers.Get(scheme).Verify(delivery, new WebhookVerifierSettings(scheme), [secret]) is WebhookRejected rejected)
        {
            ChainLog.Rejected(logger, platform.Name, rejected.Reason);
            throw rejected.ToException();
        }

        if (!delivery.IsJson)
        {
            throw new RelayException(RelayErrorKind.UnsupportedMediaType, "A job-end event is a JSON body (Content-Type: application/json).");
        }

        var payload = RequestBody.ParseObject(body);
        var jobEnd = platform.Kind == PlatformKind.Keboola
            ? JobEndEvents.FromKeboola(platform.Name, payload, out var ignoredReason)
            : JobEndEvents.FromTheEye(platform.Name, payload, out ignoredReason);
        if (jobEnd is null)
        {
            ChainLog.Ignored(logger, platform.Name, ignoredReason!);
            return TypedResults.Accepted((string?)null, new JsonObject { ["status"] = "ignored", ["reason"] = ignoredReason });
        }

        var followers = ChainRules.Followers(catalog, jobEnd);
        if (followers.Count == 0)
        {
            ChainLog.NoFollowers(logger, platform.Name, jobEnd.JobId, jobEnd.State);
            return TypedResults.Accepted((string?)null, new JsonObject { ["status"] = "ignored", ["reason"] = "no trigger follows this job" });
        }

        var parent = await runner.FindRunOfJobAsync(jobEnd.Platform, jobEnd.JobId, cancellationToken);
        var results = new JsonArray();
        var started = 0;
        foreach (var follower in followers)
        {
            var outcome = await StartAsync(follower, jobEnd, parent, cancellationToken);
            started += outcome.IsFirst ? 1 : 0;
            results.Add(outcome switch
            {
                { IsFirst: false } => new JsonObject { ["trigger"] = follower.Name, ["status"] = "duplicate", ["runId"] = outcome.Record.RunId },
                { Run: { } run } => JsonSerializerNodes.From(RunResponse.From(run)),
                _ => StoredRunAnswers.Describe(outcome.Record),
            });
        }

        return TypedResults.Accepted((string?)null, new JsonObject { ["status"] = started > 0 ? "started" : "duplicate", ["runs"] = results });
    }

    /// <summary>Starts one follower once per event; a start the platform refused leaves the event to be delivered again.</summary>
    /// <remarks>The follower's span links to the trace that started the parent run: a job's end arrives in a trace
    /// of its own, hours later, and the link is what leads from one to the other.</remarks>
    private async Task<RunOutcome> StartAsync(TriggerDefinition follower, JobEndEvent jobEnd, RunRecord? parent, CancellationToken cancellationToken)
    {
        ActivityLink[]? links = parent?.TraceParent is { } traceParent && ActivityContext.TryParse(traceParent, null, isRemote: true, out var parentTrace)
            ? [new ActivityLink(parentTrace)]
            : null;
        using var activity = RelayTelemetry.Source.StartActivity(ActivityKind.Internal, links: links, name: "chain follower");
        activity?.SetTag("jobrelay.trigger", follower.Name);
        activity?.SetTag("jobrelay.parent_run_id", parent?.RunId);
        var arguments = TriggerJobFactory.MapArguments(follower, new EventValues(jobEnd.Payload));
        var outcome = await runner.StartOnceAsync(
            new ChainEventKey(jobEnd.Platform, jobEnd.JobId, follower.Name), follower.Name, arguments, RunOrigin.Chain, parent?.RunId, queueWhenUnavailable: true, cancellationToken);
        if (outcome is { IsFirst: true, Run: { } run })
        {
            ChainLog.Chained(logger, jobEnd.Platform, jobEnd.JobId, follower.Name, run.JobId);
        }

        return outcome;
    }

    private sealed class EventValues(JsonNode payload) : IValueContext
    {
        public JsonNode? Body => payload;

        public JsonNode? JobEvent => payload;

        public string? Header(string name) => null;

        public string? Query(string name) => null;

        public string? Route(string name) => null;
    }
}

/// <summary>JSON object forms of response records.</summary>
internal static class JsonSerializerNodes
{
    public static JsonObject From(RunResponse run) => new()
    {
        ["runId"] = run.RunId,
        ["trigger"] = run.Trigger,
        ["platform"] = run.Platform,
        ["jobId"] = run.JobId,
        ["status"] = run.Status,
        ["jobUrl"] = run.JobUrl?.ToString(),
    };
}

internal static partial class ChainLog
{
    [LoggerMessage(EventId = 1700, Level = LogLevel.Information, Message = "Job {JobId} on {Platform} ended; started trigger {Trigger} as job {FollowerJobId}")]
    public static partial void Chained(ILogger logger, string platform, string jobId, string trigger, string followerJobId);

    [LoggerMessage(EventId = 1701, Level = LogLevel.Information, Message = "Job {JobId} on {Platform} ended {State}; no trigger follows it")]
    public static partial void NoFollowers(ILogger logger, string platform, string jobId, JobState state);

    [LoggerMessage(EventId = 1702, Level = LogLevel.Information, Message = "Ignored an event from {Platform}: {Reason}")]
    public static partial void Ignored(ILogger logger, string platform, string reason);

    [LoggerMessage(EventId = 1703, Level = LogLevel.Warning, Message = "Refused an event for platform {Platform}: {Reason}")]
    public static partial void Rejected(ILogger logger, string platform, WebhookRejectionReason reason);
}
