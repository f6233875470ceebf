using JobRelay.Model;
using JobRelay.Platforms;

namespace JobRelay.State;

/// <summary>Where a run stands. The first two are a claim's phases; the others are settled.</summary>
internal enum RunState
{
    /// <summary>Claimed, the platform not yet called: taken over by another claimant once its lease expires.</summary>
    Claimed,

    /// <summary>The platform call may be under way: never resent; found with an expired lease, it becomes <see cref="OutcomeUnknown"/>.</summary>
    Starting,

    /// <summary>The platform provably did not get the start: the sweep sends it again from <see cref="RunRecord.NextAttemptAt"/>.</summary>
    Pending,

    /// <summary>The platform accepted the job.</summary>
    Started,

    /// <summary>The start may have reached the platform, but no answer came back: never resent automatically.</summary>
    OutcomeUnknown,

    /// <summary>The platform refused the job, or the pending start's deadline passed.</summary>
    Refused,

    /// <summary>The delivery was accepted but starts no job (filtered out).</summary>
    Ignored,
}

/// <summary>Each run state as the API, the answers, the logs' tags and the metrics name it: kebab-case, in the enum's order.</summary>
internal static class RunStateNames
{
    private static readonly string[] Names = [.. Enum.GetValues<RunState>().Select(state => state == RunState.OutcomeUnknown ? "outcome-unknown" : state.ToString().ToLowerInvariant())];

    /// <summary>Every state's name, in the enum's order.</summary>
    public static IReadOnlyList<string> All { get; } = Names;

    /// <summary>The state's name; no allocation, so it serves the hot path's metric tags.</summary>
    public static string Of(RunState state) => Names[(int)state];

    /// <summary>The state of that name, or null for a name no state has.</summary>
    public static RunState? Parse(string name) => Array.IndexOf(Names, name) is var index and >= 0 ? (RunState)index : null;
}

/// <summary>One run as the store keeps it: the claim, the run and its outcome in one record.</summary>
/// <remarks>The TheEye per-job secret is kept in the same record but never read back into this type: only
/// <see cref="IRelayStore.FindJobSecretAsync"/> returns it, so no route that answers with a run can leak it.</remarks>
internal sealed record RunRecord
{
    public required ClaimKey Key { get; init; }

    public required string RunId { get; init; }

    public required string Trigger { get; init; }

    /// <summary>What started the run: webhook, api, schedule, chain or cli.</summary>
    public required string Origin { get; init; }

    /// <summary>The run whose job's end started this one (chains).</summary>
    public string? ParentRunId { get; init; }

    /// <summary>
    /// The W3C <c>traceparent</c> of the trace that claimed the run (ids and flags only, never a secret), so that the
    /// runs its job's end starts can link to it.
    /// </summary>
    public string? TraceParent { get; init; }

    /// <summary>The mapped trigger arguments as JSON; arguments never hold secrets (those are named, not valued).</summary>
    public required string Arguments { get; init; }

    public required RunState State { get; init; }

    /// <summary>Bumped by every write: each update is conditional on the version it read.</summary>
    public required long Version { get; init; }

    /// <summary>Until when the holder of a <see cref="RunState.Claimed"/> or <see cref="RunState.Starting"/> claim owns it.</summary>
    public DateTimeOffset? LeaseUntil { get; init; }

    public string? Platform { get; init; }

    public string? JobId { get; init; }

    public JobState? JobState { get; init; }

    public string? RawStatus { get; init; }

    public Uri? JobUrl { get; init; }

    /// <summary>When <see cref="JobState"/> was last read from the platform, if it was after the start.</summary>
    public DateTimeOffset? JobCheckedAt { get; init; }

    /// <summary>Why the run is ignored, refused, pending or of unknown outcome; never a secret.</summary>
    public string? Reason { get; init; }

    /// <summary>How many times the platform was called for this run.</summary>
    public int Attempts { get; init; }

    public DateTimeOffset? NextAttemptAt { get; init; }

    /// <summary>After this, a pending start is refused instead of sent again.</summary>
    public DateTimeOffset? Deadline { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public required DateTimeOffset UpdatedAt { get; init; }

    /// <summary>The store's own concurrency token (a Table Storage ETag), when it has one besides <see cref="Version"/>.</summary>
    public string? ETag { get; init; }

    /// <summary>Where the follow-through of the run's job stands; <see cref="WatchState.None"/> before the start.</summary>
    public WatchState Watch { get; init; }

    /// <summary>When a tick reads the watched job's status next.</summary>
    public DateTimeOffset? WatchNextAt { get; init; }

    /// <summary>Until when the instance that took the watch owns it; free once past.</summary>
    public DateTimeOffset? WatchLeaseUntil { get; init; }

    /// <summary>How many status reads the watch made.</summary>
    public int WatchChecks { get; init; }

    /// <summary>404 answers in a row: the job is lost once they reach <see cref="WatchOptions.LostAfter"/>.</summary>
    public int WatchMisses { get; init; }

    /// <summary>Failed reads in a row (5xx, 429, timeout, network, secret store): the backoff grows with them.</summary>
    public int WatchFailures { get; init; }

    /// <summary>Why the watch is lost or abandoned, or what its last failed read met; never a secret.</summary>
    public string? WatchReason { get; init; }

    /// <summary>When the job started running, as its platform reported it.</summary>
    public DateTimeOffset? JobStartedAt { get; init; }

    /// <summary>When the job ended, as its platform reported it (or as the watch saw it, when the platform gave no time).</summary>
    public DateTimeOffset? JobFinishedAt { get; init; }

    /// <summary>When the watch found the job running past its trigger's <c>maxDuration</c>.</summary>
    public DateTimeOffset? OverdueAt { get; init; }

    /// <summary>
    /// Whether the store's lookup rows for this run (by run id, in the listing, under its parent) may be missing, so
    /// that the next writer must write them first: a Table Storage record written before those rows were.
    /// </summary>
    public bool IndexPending { get; init; }

    public bool IsSettled => State is not (RunState.Claimed or RunState.Starting);
}

/// <summary>A new run, as a claimant proposes it: written only if its key is not claimed yet.</summary>
internal sealed record NewRun(ClaimKey Key, string RunId, string Trigger, string Origin, string Arguments)
{
    public string? ParentRunId { get; init; }

    public string? TraceParent { get; init; }

    /// <summary>Set when the claimant already knows the key starts no job: the run is written settled as ignored.</summary>
    public string? IgnoredReason { get; init; }

    /// <summary>The first version of this run's record, as every store writes it: claimed under a lease, or settled as ignored.</summary>
    public RunRecord ToClaimedRecord(DateTimeOffset now, TimeSpan lease) => new()
    {
        Key = Key,
        RunId = RunId,
        Trigger = Trigger,
        Origin = Origin,
        ParentRunId = ParentRunId,
        TraceParent = TraceParent,
        Arguments = Arguments,
        State = IgnoredReason is null ? RunState.Claimed : RunState.Ignored,
        Reason = IgnoredReason,
        Version = 1,
        LeaseUntil = IgnoredReason is null ? now + lease : null,
        CreatedAt = now,
        UpdatedAt = now,
    };
}

/// <summary>The right to write a run, proven by the version of the record the holder last wrote.</summary>
internal sealed record RunLease(ClaimKey Key, string RunId, long Version)
{
    /// <summary>The store's own concurrency token for the version, when it has one.</summary>
    public string? ETag { get; init; }
}

/// <summary>What a claim found: the first claim (with its lease), one in flight elsewhere, or a settled run.</summary>
internal sealed record ClaimResult(ClaimStatus Status, RunRecord Run, RunLease? Lease)
{
    public static ClaimResult First(RunRecord run) => new(ClaimStatus.First, run, run.IsSettled ? null : new RunLease(run.Key, run.RunId, run.Version) { ETag = run.ETag });
}

internal enum ClaimStatus
{
    /// <summary>This claimant holds the key: it calls the platform, then settles or releases.</summary>
    First,

    /// <summary>Another claimant holds the key and has not settled yet.</summary>
    InFlight,

    /// <summary>The key's run is settled (or pending): answer with it.</summary>
    Settled,
}

/// <summary>How a run ends (or waits): the outcome and everything written with it, in one conditional write.</summary>
internal sealed record RunSettlement(RunState State)
{
    public string? Platform { get; init; }

    public string? JobId { get; init; }

    public JobState? JobState { get; init; }

    public string? RawStatus { get; init; }

    public Uri? JobUrl { get; init; }

    /// <summary>TheEye's per-job secret, kept for status reads; never returned with a run.</summary>
    public string? JobSecret { get; init; }

    public string? Reason { get; init; }

    public DateTimeOffset? NextAttemptAt { get; init; }

    public DateTimeOffset? Deadline { get; init; }

    /// <summary>Arms the run's watch in the same write (<see cref="WatchTransition.Watch"/>): its first status read.</summary>
    public DateTimeOffset? WatchNextAt { get; init; }

    /// <summary>When the job started running, as the platform's answer to the start reported it.</summary>
    public DateTimeOffset? JobStartedAt { get; init; }

    public static RunSettlement Started(string platform, JobStatus status, string? jobSecret)
    {
        ArgumentNullException.ThrowIfNull(status);
        return new(RunState.Started)
        {
            Platform = platform,
            JobId = status.JobId,
            JobState = status.State,
            RawStatus = status.RawStatus,
            JobUrl = status.Url,
            JobSecret = jobSecret,
            JobStartedAt = status.StartedAt,
        };
    }

    public static RunSettlement Refused(string reason) => new(RunState.Refused) { Reason = reason };

    public static RunSettlement OutcomeUnknown(string reason) => new(RunState.OutcomeUnknown) { Reason = reason };

    public static RunSettlement Pending(string reason, DateTimeOffset nextAttemptAt, DateTimeOffset deadline)
        => new(RunState.Pending) { Reason = reason, NextAttemptAt = nextAttemptAt, Deadline = deadline };
}
