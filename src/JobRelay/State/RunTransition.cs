namespace JobRelay.State;

/// <summary>
/// One step of the run protocol: the states it leaves and enters, what its writer must hold or have read, and what
/// the write does. The rows are <see cref="RunTransitions.All"/>; every store performs each as one conditional write.
/// </summary>
/// <param name="Name">The transition's name, as the protocol's model names it.</param>
/// <param name="From">The states it may leave; null is Absent (no row under the key).</param>
/// <param name="To">The state it enters; null is Absent (the row is deleted).</param>
internal sealed record RunTransition(string Name, IReadOnlyList<RunState?> From, RunState? To, RunGuard Guard, RunEffects Effects)
{
    /// <summary>The name the protocol gives to no row under the key.</summary>
    public const string Absent = nameof(Absent);

    /// <summary><see cref="From"/> by name, Absent included.</summary>
    public IReadOnlyList<string> FromNames => [.. From.Select(NameOf)];

    /// <summary><see cref="To"/> by name.</summary>
    public string ToName => NameOf(To);

    /// <summary>The states <see cref="From"/> holds, Absent left out: what the conditional write's state condition accepts.</summary>
    public IReadOnlyList<RunState> FromStates => [.. From.OfType<RunState>()];

    /// <summary>Whether the write must reach the disk before its writer acts on it (calls the platform, answers a sender).</summary>
    public bool IsDurable => Effects.HasFlag(RunEffects.Durable);

    /// <summary>A state's name as the protocol writes it: the enum's, or Absent.</summary>
    public static string NameOf(RunState? state) => state?.ToString() ?? Absent;

    /// <summary>
    /// Whether a writer may take this transition from <paramref name="read"/> (its copy of the row, null when there was
    /// none) at <paramref name="now"/>. A lease holder's guard is proven by the write's own condition (the row it last
    /// wrote), so only the state is checked for it.
    /// </summary>
    public bool Allows(RunRecord? read, DateTimeOffset now)
        => From.Contains(read?.State) && Guard switch
        {
            RunGuard.Absent or RunGuard.LeaseHeld => true,
            RunGuard.LeaseExpired => read!.LeaseUntil <= now,
            RunGuard.Due => read!.NextAttemptAt <= now,
            _ => false,
        };

    /// <summary>
    /// The row after this transition: <paramref name="current"/> with the transition's effects, at <paramref name="now"/>.
    /// <paramref name="lease"/> is the lease granted (when it grants one); <paramref name="outcome"/> the fields recorded
    /// (when it records an outcome): a field the outcome leaves null keeps its value, except the reason and the next
    /// attempt, which are the outcome's.
    /// </summary>
    public RunRecord Apply(RunRecord current, DateTimeOffset now, TimeSpan lease = default, RunSettlement? outcome = null)
    {
        ArgumentNullException.ThrowIfNull(current);
        if (To is not { } to || Effects.HasFlag(RunEffects.NewRow))
        {
            throw new InvalidOperationException($"{Name} does not update a row.");
        }

        if (Effects.HasFlag(RunEffects.RecordOutcome) && outcome is null)
        {
            throw new ArgumentNullException(nameof(outcome), $"{Name} records an outcome.");
        }

        var next = current with
        {
            State = to,
            Version = Effects.HasFlag(RunEffects.BumpVersion) ? current.Version + 1 : current.Version,
            LeaseUntil = Effects.HasFlag(RunEffects.GrantLease) ? now + lease : Effects.HasFlag(RunEffects.ClearLease) ? null : current.LeaseUntil,
            Attempts = Effects.HasFlag(RunEffects.CountAttempt) ? current.Attempts + 1 : current.Attempts,
            UpdatedAt = now,
        };
        return outcome is null || !Effects.HasFlag(RunEffects.RecordOutcome)
            ? next
            : next with
            {
                Platform = outcome.Platform ?? current.Platform,
                JobId = outcome.JobId ?? current.JobId,
                JobState = outcome.JobState ?? current.JobState,
                RawStatus = outcome.RawStatus ?? current.RawStatus,
                JobUrl = outcome.JobUrl ?? current.JobUrl,
                Reason = outcome.Reason,
                NextAttemptAt = outcome.NextAttemptAt,
                Deadline = outcome.Deadline ?? current.Deadline,
                Watch = Effects.HasFlag(RunEffects.ArmWatch) && outcome.WatchNextAt is not null ? WatchTransitions.To(WatchTransition.Watch) : current.Watch,
                WatchNextAt = Effects.HasFlag(RunEffects.ArmWatch) ? outcome.WatchNextAt ?? current.WatchNextAt : current.WatchNextAt,
                JobStartedAt = Effects.HasFlag(RunEffects.ArmWatch) ? outcome.JobStartedAt ?? current.JobStartedAt : current.JobStartedAt,
            };
    }

    public override string ToString() => $"{Name}: {string.Join(", ", FromNames)} -> {ToName}";
}

/// <summary>What the writer of a transition must hold, or have read, for its conditional write to be taken.</summary>
internal enum RunGuard
{
    /// <summary>No row under the key: the write is an insert-if-absent.</summary>
    Absent,

    /// <summary>The writer holds the claim: the write is conditional on the row and version it last wrote.</summary>
    LeaseHeld,

    /// <summary>The copy the writer read has a lease that expired; the write is conditional on that copy.</summary>
    LeaseExpired,

    /// <summary>The copy the writer read is due (its next attempt is not after now); the write is conditional on that copy.</summary>
    Due,
}

/// <summary>What a transition's write does besides setting the state.</summary>
[Flags]
internal enum RunEffects
{
    None = 0,

    /// <summary>A new row: a fresh row identity (run id) at version 1.</summary>
    NewRow = 1 << 0,

    /// <summary>The version moves on by one, so every copy read before no longer matches.</summary>
    BumpVersion = 1 << 1,

    /// <summary>The writer gets a lease (a claim's, or a platform call's) from now.</summary>
    GrantLease = 1 << 2,

    /// <summary>The lease ends: the run is settled or waits for the sweep.</summary>
    ClearLease = 1 << 3,

    /// <summary>One more platform call is counted.</summary>
    CountAttempt = 1 << 4,

    /// <summary>The outcome's fields are written: job, status, reason, next attempt and deadline.</summary>
    RecordOutcome = 1 << 5,

    /// <summary>The row is deleted: the key may be claimed again.</summary>
    DeleteRow = 1 << 6,

    /// <summary>The write is on disk before its writer acts on it: an OS crash cannot undo it.</summary>
    Durable = 1 << 7,

    /// <summary>
    /// The job's watch is armed in the same write (<see cref="WatchTransition.Watch"/>): watch state Watching with its
    /// first check, when the outcome names one.
    /// </summary>
    ArmWatch = 1 << 8,
}
