using JobRelay.Platforms;

namespace JobRelay.State;

/// <summary>
/// What the holder of a watch writes when it is done with one check, in one conditional write: the transition, the
/// next check (when still watching), the status read, the counters, and the overdue mark. The watch's lease is freed.
/// </summary>
internal sealed record WatchUpdate(WatchTransition Transition)
{
    /// <summary>The next status read, for <see cref="WatchTransition.WatchReschedule"/>.</summary>
    public DateTimeOffset? NextAt { get; init; }

    /// <summary>The status read in this check, when the read succeeded.</summary>
    public JobStatus? Status { get; init; }

    /// <summary>When the status was read (or the read failed).</summary>
    public required DateTimeOffset CheckedAt { get; init; }

    public int Checks { get; init; }

    public int Misses { get; init; }

    public int Failures { get; init; }

    /// <summary>Why the watch was lost or abandoned, or what the failed read met.</summary>
    public string? Reason { get; init; }

    /// <summary>When the job ended; written with <see cref="WatchTransition.WatchEnd"/>.</summary>
    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>Set the first time the job is found running past its <c>maxDuration</c>; an earlier mark is kept.</summary>
    public DateTimeOffset? OverdueAt { get; init; }

    /// <summary>The record as it is after this update, from the copy the holder took.</summary>
    public RunRecord Apply(RunRecord taken)
    {
        ArgumentNullException.ThrowIfNull(taken);
        return taken with
        {
            Version = taken.Version + 1,
            Watch = WatchTransitions.To(Transition),
            WatchNextAt = NextAt ?? taken.WatchNextAt,
            WatchLeaseUntil = CheckedAt,
            WatchChecks = Checks,
            WatchMisses = Misses,
            WatchFailures = Failures,
            WatchReason = Reason,
            JobState = Status?.State ?? taken.JobState,
            RawStatus = Status?.RawStatus ?? taken.RawStatus,
            JobUrl = Status?.Url ?? taken.JobUrl,
            JobCheckedAt = Status is null ? taken.JobCheckedAt : CheckedAt,
            JobStartedAt = Status?.StartedAt ?? taken.JobStartedAt,
            JobFinishedAt = FinishedAt ?? taken.JobFinishedAt,
            OverdueAt = taken.OverdueAt ?? OverdueAt,
        };
    }
}
