namespace JobRelay.State;

/// <summary>
/// Where JobRelay's follow-through of a started job stands: a run that reached <see cref="RunState.Started"/> carries a
/// watch until the platform reports the job's end (or the job is lost, or the watch gives up).
/// </summary>
internal enum WatchState
{
    /// <summary>No watch: the run did not start a job (or was stored before watches existed).</summary>
    None,

    /// <summary>The job runs as far as JobRelay knows: a tick reads its status at <see cref="RunRecord.WatchNextAt"/>.</summary>
    Watching,

    /// <summary>The platform reported the job's end, and the chains that follow it were started.</summary>
    Ended,

    /// <summary>The platform no longer knows the job: it answered 404 to repeated reads.</summary>
    Lost,

    /// <summary>The job reached no end within the watch's horizon.</summary>
    Abandoned,
}

/// <summary>The watch's transitions, as the shared protocol names them.</summary>
internal enum WatchTransition
{
    /// <summary>None → Watching, written in the same write as the start (armed with a first check time).</summary>
    Watch,

    /// <summary>Watching → Watching: a tick takes a due watch whose lease is free or expired (compare-and-set).</summary>
    WatchTake,

    /// <summary>Watching → Watching: the lease holder writes the next check time (job not final, or the read failed).</summary>
    WatchReschedule,

    /// <summary>Watching → Ended: the job is final, and the chain processor has started its followers.</summary>
    WatchEnd,

    /// <summary>Watching → Lost: the platform answered 404 to repeated reads.</summary>
    WatchLost,

    /// <summary>Watching → Abandoned: no final state within the horizon.</summary>
    WatchAbandon,
}

/// <summary>The watch's rows of the run protocol: from which watch state each transition moves, and to which.</summary>
internal static class WatchTransitions
{
    /// <summary>Every watch transition with its source and target, in the protocol's order.</summary>
    public static IReadOnlyList<(WatchTransition Transition, WatchState From, WatchState To)> Rows { get; } =
    [
        (WatchTransition.Watch, WatchState.None, WatchState.Watching),
        (WatchTransition.WatchTake, WatchState.Watching, WatchState.Watching),
        (WatchTransition.WatchReschedule, WatchState.Watching, WatchState.Watching),
        (WatchTransition.WatchEnd, WatchState.Watching, WatchState.Ended),
        (WatchTransition.WatchLost, WatchState.Watching, WatchState.Lost),
        (WatchTransition.WatchAbandon, WatchState.Watching, WatchState.Abandoned),
    ];

    /// <summary>The watch state <paramref name="transition"/> leads to.</summary>
    public static WatchState To(WatchTransition transition) => Rows[(int)transition].To;

    /// <summary>The watch state <paramref name="transition"/> starts from: the state its compare-and-set requires.</summary>
    public static WatchState From(WatchTransition transition) => Rows[(int)transition].From;

    /// <summary>Whether the watch, once in <paramref name="state"/>, is settled: no transition leaves it.</summary>
    public static bool IsSettled(WatchState state) => state is WatchState.Ended or WatchState.Lost or WatchState.Abandoned;

    /// <summary>Each watch state as the API names it: lower case.</summary>
    public static string Name(WatchState state) => state.ToString().ToLowerInvariant();
}
