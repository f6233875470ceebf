namespace JobRelay.State;

/// <summary>Where a newest-first listing of runs stands: the last run returned, by creation time then run id.</summary>
internal sealed record RunPosition(DateTimeOffset CreatedAt, string RunId);

/// <summary>Which runs a listing returns, newest first. Every filter is optional; the time range is on creation time.</summary>
internal sealed record RunFilter
{
    public string? Trigger { get; init; }

    public string? Platform { get; init; }

    public string? Origin { get; init; }

    public RunState? State { get; init; }

    /// <summary>Runs created at or after this time.</summary>
    public DateTimeOffset? From { get; init; }

    /// <summary>Runs created before this time.</summary>
    public DateTimeOffset? To { get; init; }

    public int Limit { get; init; } = 50;

    /// <summary>Continue after this run (the previous page's <see cref="RunPage.Next"/>).</summary>
    public RunPosition? After { get; init; }
}

/// <summary>One page of runs, newest first, and where the next page starts (null on the last one).</summary>
internal sealed record RunPage(IReadOnlyList<RunRecord> Runs, RunPosition? Next);

/// <summary>An operator's act on a run, as the run's append-only history keeps it.</summary>
/// <param name="By">The name of the API key used, never the key.</param>
internal sealed record RunAction(string RunId, DateTimeOffset At, string Action, string By, string? Detail);

/// <summary>Outcomes that create no run, counted per trigger and hour.</summary>
internal enum CountedOutcome
{
    Duplicate,
    Rejected,
}

/// <summary>How many deliveries of <paramref name="Trigger"/> ended as <paramref name="Outcome"/> within the hour starting at <paramref name="Hour"/>.</summary>
internal sealed record OutcomeCount(string Trigger, CountedOutcome Outcome, DateTimeOffset Hour, long Count);

/// <summary>A trigger's runs over a window: how many are in each state, and each started run's platform start latency.</summary>
internal sealed record RunSummary(IReadOnlyDictionary<RunState, long> States, IReadOnlyList<TimeSpan> StartLatencies, IReadOnlyDictionary<CountedOutcome, long> Counted)
{
    /// <summary>Runs whose job the watch found running past its trigger's maxDuration.</summary>
    public long Overdue { get; init; }
}
