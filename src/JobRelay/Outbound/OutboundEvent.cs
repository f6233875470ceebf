using System.Text.Json.Nodes;

namespace JobRelay.Outbound;

/// <summary>
/// One outbound event as every destination receives it (the body of a signed webhook; the data of a CloudEvent), in
/// the Standard Webhooks payload shape: <c>type</c>, <c>timestamp</c> and <c>data</c>, and the event's own id, which is
/// also the <c>webhook-id</c> header and stays the same across every retry. It never carries a secret.
/// </summary>
/// <param name="Id">The event's id: one per run and type, so a receiver can de-duplicate retries by it.</param>
/// <param name="Type">The event type: run.accepted, run.pending, job.started, job.succeeded, job.failed, job.cancelled, job.overdue, run.outcome-unknown, run.refused or job.lost.</param>
/// <param name="Timestamp">When the state change it reports was written.</param>
public sealed record OutboundEvent(string Id, string Type, DateTimeOffset Timestamp, OutboundEventData Data);

/// <summary>The run an event reports on, as it stood when the event was written.</summary>
/// <param name="RunId">The relay run.</param>
/// <param name="Trigger">The catalog trigger that started it.</param>
/// <param name="Origin">What started the run: webhook, api, schedule, chain or cli.</param>
/// <param name="State">The run's state: pending, started, outcome-unknown, refused (in-flight while being started).</param>
/// <param name="JobState">The job's state as the platform last reported it: queued, running, succeeded, failed or cancelled.</param>
/// <param name="Reason">Why the run is pending, refused or of unknown outcome, or why its job is lost; never a secret.</param>
/// <param name="ParentRunId">The run whose job's end started this one (chains).</param>
/// <param name="DeliveryKey">What the run was claimed by, as the API shows it (delivery:..., occurrence:..., chain-event:..., request:...).</param>
/// <param name="Arguments">The mapped trigger arguments; arguments are never secrets (those are named, not valued).</param>
/// <param name="Links">Where to see the run.</param>
public sealed record OutboundEventData(
    string RunId,
    string Trigger,
    string Origin,
    string? Platform,
    string? JobId,
    Uri? JobUrl,
    string State,
    string? JobState,
    string? Reason,
    OutboundEventTimes Times,
    string? ParentRunId,
    string DeliveryKey,
    JsonObject Arguments,
    OutboundEventLinks Links);

/// <summary>The times of the run's states, each null until the run reached it.</summary>
/// <param name="Accepted">When the run was claimed.</param>
/// <param name="Updated">When the run's record last changed.</param>
/// <param name="JobStarted">When the job started running, as its platform reported it.</param>
/// <param name="JobFinished">When the job ended.</param>
/// <param name="Overdue">When the job was found running past its trigger's maxDuration.</param>
/// <param name="DurationSeconds">How long the job ran, once it ended.</param>
public sealed record OutboundEventTimes(
    DateTimeOffset Accepted,
    DateTimeOffset Updated,
    DateTimeOffset? JobStarted,
    DateTimeOffset? JobFinished,
    DateTimeOffset? Overdue,
    double? DurationSeconds);

/// <summary>Links of an event's run: its API resource, relative to the host (the job's own page is <c>jobUrl</c>).</summary>
public sealed record OutboundEventLinks(string Run);
