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
using Microsoft.Extensions.Logging;

namespace JobRelay.Chaining;

/// <summary>
/// A job ended on a platform (a Keboola notification, a TheEye outgoing-webhook task), whichever host received it.
/// The event is authenticated by the platform's <c>eventSecret</c> token (header <c>X-JobRelay-Token</c> or query
/// <c>token</c>, since Keboola notifications cannot set headers), and starts every trigger whose <c>after</c> rule
/// the event meets, once per (platform, job, follower) across instances.
/// </summary>
public sealed class ChainProcessor(
    TriggerRunner runner,
    ISecretStore secrets,
    IWebhookVerifierFactory verifiers,
    ILogger<ChainProcessor> logger)
{
    /// <param name="receive">Reads the event's delivery; it is called only once the platform is known to take
    /// job-end events.</param>
    internal async Task<ChainOutcome> ReceiveAsync(string platformName, Func<CancellationToken, Task<WebhookDelivery>> receive, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(receive);
        var catalog = runner.Catalog;
        if (!catalog.Platforms.TryGetValue(platformName, out var platform) || platform.EventSecret is not { } secretName)
        {
            throw new RelayException(RelayErrorKind.NotFound, $"Platform '{platformName}' takes no job-end events: it is not in the catalog or names no eventSecret.");
        }

        var delivery = await receive(cancellationToken);
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

        var payload = RequestBody.ParseObject(delivery.Body);
        var jobEnd = platform.Kind == PlatformKind.Keboola
            ? JobEndEvents.FromKeboola(platform.Name, payload, out var ignoredReason)
            : JobEndEvents.FromTheEye(platform.Name, payload, out ignoredReason);
        if (jobEnd is null)
        {
            ChainLog.Ignored(logger, platform.Name, ignoredReason!);
            return new ChainIgnored(ignoredReason!);
        }

        return await ProcessAsync(jobEnd, cancellationToken);
    }

    /// <summary>Starts every follower of an authenticated job-end event, once each.</summary>
    internal async Task<ChainOutcome> ProcessAsync(JobEndEvent jobEnd, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobEnd);
        var followers = ChainRules.Followers(runner.Catalog, jobEnd);
        if (followers.Count == 0)
        {
            ChainLog.NoFollowers(logger, jobEnd.Platform, jobEnd.JobId, jobEnd.State);
            return new ChainIgnored("no trigger follows this job");
        }

        var parent = await runner.FindRunOfJobAsync(jobEnd.Platform, jobEnd.JobId, cancellationToken);
        var results = new List<FollowerOutcome>(followers.Count);
        foreach (var follower in followers)
        {
            results.Add(new FollowerOutcome(follower.Name, await StartAsync(follower, jobEnd, parent, cancellationToken)));
        }

        return new ChainFollowed(results);
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

/// <summary>What became of one job-end event; a host turns it into its own answer.</summary>
internal abstract record ChainOutcome;

/// <summary>The event starts nothing: it is not a job's end, or no trigger follows the job.</summary>
internal sealed record ChainIgnored(string Reason) : ChainOutcome;

/// <summary>The followers of the job, each with what the store made of its start.</summary>
internal sealed record ChainFollowed(IReadOnlyList<FollowerOutcome> Followers) : ChainOutcome;

/// <summary>One follower's start: first (started, pending, refused) or a duplicate of an earlier delivery of the event.</summary>
internal sealed record FollowerOutcome(string Trigger, RunOutcome Outcome);

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
