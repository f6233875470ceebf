namespace JobRelay.Scheduling;

/// <summary>What one dispatch of a window did.</summary>
public sealed record DispatchReport
{
    /// <summary>The window's exclusive start.</summary>
    public required DateTimeOffset FromExclusive { get; init; }

    /// <summary>The window's inclusive end.</summary>
    public required DateTimeOffset ToInclusive { get; init; }

    /// <summary>Occurrences in the window that had not been started by an earlier dispatch, including those the
    /// catch-up cap skipped.</summary>
    public int Due { get; init; }

    /// <summary>Occurrences in the window that an earlier, overlapping window had already started.</summary>
    public int AlreadyStarted { get; init; }

    /// <summary>Missed occurrences older than the catch-up cap that were not started.</summary>
    public int SkippedByCatchUp { get; init; }

    /// <summary>Whether cancellation stopped the dispatch before every due occurrence was launched.</summary>
    public bool Cancelled { get; init; }

    /// <summary>The occurrences whose start completed, by due time.</summary>
    public IReadOnlyList<ScheduledOccurrence> StartedOccurrences { get; init; } = [];

    /// <summary>The occurrences whose start threw, by due time.</summary>
    public IReadOnlyList<ScheduleFailure> Failures { get; init; } = [];

    public int Started => StartedOccurrences.Count;

    public int Failed => Failures.Count;

    /// <summary>Due occurrences never launched because the dispatch was cancelled.</summary>
    public int NotLaunched => Due - SkippedByCatchUp - Started - Failed;

    /// <summary>A report for a window with nothing in it.</summary>
    public static DispatchReport Empty(DateTimeOffset fromExclusive, DateTimeOffset toInclusive)
        => new() { FromExclusive = fromExclusive, ToInclusive = toInclusive };
}
