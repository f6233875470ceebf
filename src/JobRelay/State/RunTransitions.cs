namespace JobRelay.State;

/// <summary>
/// The run protocol as one table: every way a run record may change, and the decisions that pick a row. Pure and
/// store-neutral: the stores perform the conditional writes it names, the model of the protocol (spec/) is checked
/// against <see cref="All"/>, and nothing here reads a clock or a store.
/// </summary>
/// <remarks>
/// A record is keyed by its claim key. Every conditional write matches the key, the row it read (its run id: a
/// released and re-inserted row is a new row) and the version; a Table Storage ETag proves all three at once.
/// </remarks>
internal static class RunTransitions
{
    private const RunEffects Settles = RunEffects.BumpVersion | RunEffects.ClearLease | RunEffects.RecordOutcome;

    /// <summary>A claimant inserts the first record of a key with a lease.</summary>
    public static RunTransition Claim { get; } = new(nameof(Claim), [null], RunState.Claimed, RunGuard.Absent, RunEffects.NewRow | RunEffects.GrantLease);

    /// <summary>A claimant that knows the key starts no job (filtered) inserts it settled.</summary>
    public static RunTransition ClaimIgnored { get; } = new(nameof(ClaimIgnored), [null], RunState.Ignored, RunGuard.Absent, RunEffects.NewRow);

    /// <summary>A claimant or the sweep takes over a claim whose holder let the lease expire before calling the platform.</summary>
    public static RunTransition TakeOver { get; } = new(nameof(TakeOver), [RunState.Claimed], RunState.Claimed, RunGuard.LeaseExpired, RunEffects.BumpVersion | RunEffects.GrantLease);

    /// <summary>The sweep takes a pending start that is due.</summary>
    public static RunTransition TakePending { get; } = new(nameof(TakePending), [RunState.Pending], RunState.Claimed, RunGuard.Due, RunEffects.BumpVersion | RunEffects.GrantLease);

    /// <summary>The lease holder marks the platform call, right before it; on disk before the call is made.</summary>
    public static RunTransition BeginStart { get; } = new(nameof(BeginStart), [RunState.Claimed], RunState.Starting, RunGuard.LeaseHeld,
        RunEffects.BumpVersion | RunEffects.GrantLease | RunEffects.CountAttempt | RunEffects.Durable);

    /// <summary>The platform accepted the job (also one that ended at once): its id and status are recorded.</summary>
    /// <remarks>The same write arms the job's watch (<see cref="WatchTransition.Watch"/>): no started job goes unfollowed.</remarks>
    public static RunTransition Start { get; } = new(nameof(Start), [RunState.Starting], RunState.Started, RunGuard.LeaseHeld, Settles | RunEffects.ArmWatch);

    /// <summary>
    /// The platform provably did not get the start (it is down, or its secret could not be read before the call), or
    /// the caller queued the run: the sweep sends it later. On disk before the sender is told it is pending.
    /// </summary>
    public static RunTransition KeepPending { get; } = new(nameof(KeepPending), [RunState.Claimed, RunState.Starting], RunState.Pending, RunGuard.LeaseHeld, Settles | RunEffects.Durable);

    /// <summary>The platform refused the job and no sender will send it again, or a pending start's deadline passed.</summary>
    public static RunTransition Refuse { get; } = new(nameof(Refuse), [RunState.Claimed, RunState.Starting], RunState.Refused, RunGuard.LeaseHeld, Settles);

    /// <summary>The start may have reached the platform but no answer came back: never sent again.</summary>
    public static RunTransition Unknown { get; } = new(nameof(Unknown), [RunState.Starting], RunState.OutcomeUnknown, RunGuard.LeaseHeld, Settles);

    /// <summary>The platform refused the job and the sender, waiting, may send it again: the key is freed.</summary>
    public static RunTransition Release { get; } = new(nameof(Release), [RunState.Claimed, RunState.Starting], null, RunGuard.LeaseHeld, RunEffects.DeleteRow);

    /// <summary>Anyone settles a platform call whose lease expired as of unknown outcome: it may have reached the platform.</summary>
    public static RunTransition ExpireStart { get; } = new(nameof(ExpireStart), [RunState.Starting], RunState.OutcomeUnknown, RunGuard.LeaseExpired, Settles);

    /// <summary>Every transition, in the protocol's order.</summary>
    public static IReadOnlyList<RunTransition> All { get; } =
        [Claim, ClaimIgnored, TakeOver, TakePending, BeginStart, Start, KeepPending, Refuse, Unknown, Release, ExpireStart];

    /// <summary>
    /// The watch's rows, on a <see cref="RunState.Started"/> run: from which watch state each of its transitions moves,
    /// and to which (<see cref="WatchTransitions"/> holds them and their guards).
    /// </summary>
    public static IReadOnlyList<(WatchTransition Transition, WatchState From, WatchState To)> Watch => WatchTransitions.Rows;

    /// <summary>What <see cref="ExpireStart"/> records.</summary>
    public static RunSettlement ExpiredStart { get; } = RunSettlement.OutcomeUnknown(
        "the instance starting this job stopped before the platform's answer was recorded; check the platform before starting it again");

    /// <summary>The transition that inserts <paramref name="run"/>'s first record.</summary>
    public static RunTransition First(NewRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        return run.IgnoredReason is null ? Claim : ClaimIgnored;
    }

    /// <summary>What a claimant does about the record it found under its key (null: none) at <paramref name="now"/>.</summary>
    public static ClaimStep OnClaim(RunRecord? found, DateTimeOffset now) => found switch
    {
        null => ClaimStep.Insert,
        _ when TakeOver.Allows(found, now) => ClaimStep.TakeOver,
        _ when ExpireStart.Allows(found, now) => ClaimStep.ExpireStart,
        { IsSettled: false } => ClaimStep.InFlight,
        _ => ClaimStep.Settled,
    };

    /// <summary>
    /// What the sweep does with a record it listed as due: take a due pending start or an abandoned claim, settle an
    /// expired platform call as unknown; null when the copy is not due (any more).
    /// </summary>
    public static RunTransition? OnDue(RunRecord due, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(due);
        return TakePending.Allows(due, now) ? TakePending
            : TakeOver.Allows(due, now) ? TakeOver
            : ExpireStart.Allows(due, now) ? ExpireStart
            : null;
    }

    /// <summary>The transition a lease holder's settlement takes; Claimed, Starting and Ignored are not settlements.</summary>
    public static RunTransition OnSettle(RunSettlement settlement)
    {
        ArgumentNullException.ThrowIfNull(settlement);
        return settlement.State switch
        {
            RunState.Started => Start,
            RunState.Pending => KeepPending,
            RunState.Refused => Refuse,
            RunState.OutcomeUnknown => Unknown,
            _ => throw new ArgumentException($"A settlement ends a claim as started, pending, refused or of unknown outcome, not {settlement.State}.", nameof(settlement)),
        };
    }
}

/// <summary>What a claimant does about the record it found under its key.</summary>
internal enum ClaimStep
{
    /// <summary>No record: <see cref="RunTransitions.Claim"/> (or <see cref="RunTransitions.ClaimIgnored"/>) inserts one.</summary>
    Insert,

    /// <summary>A claim abandoned before its platform call: <see cref="RunTransitions.TakeOver"/>.</summary>
    TakeOver,

    /// <summary>A platform call whose lease expired: <see cref="RunTransitions.ExpireStart"/>, then answer with it.</summary>
    ExpireStart,

    /// <summary>Another claimant holds the key and has not settled yet.</summary>
    InFlight,

    /// <summary>The key's run is settled (or pending): answer with it.</summary>
    Settled,
}
