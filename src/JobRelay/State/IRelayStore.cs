using JobRelay.Platforms;

namespace JobRelay.State;

/// <summary>
/// JobRelay's durable state, shared by every instance: one record per claim key, holding the claim, its run and the
/// run's outcome. Every write is conditional (insert-if-absent, or an update at the version last read), so across
/// instances and crashes each key starts at most one run.
/// </summary>
/// <remarks>
/// The rule for every claim: the claim is written before the platform is called, and <see cref="BeginStartAsync"/>
/// is written right before the call. A claim abandoned before that can be taken over once its lease expires; one
/// whose platform call may have happened is never handed to another claimant: when its lease expires it settles as
/// <see cref="RunState.OutcomeUnknown"/>.
/// </remarks>
internal interface IRelayStore
{
    /// <summary>
    /// Claims <paramref name="run"/>'s key for <paramref name="lease"/>. First: the run is recorded as
    /// <see cref="RunState.Claimed"/> (or an abandoned claim was taken over). Otherwise the run found is in flight or
    /// settled; a <see cref="RunState.Starting"/> run past its lease is settled as unknown on the way.
    /// </summary>
    Task<ClaimResult> ClaimAsync(NewRun run, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>
    /// Marks the run as calling the platform, for at most <paramref name="callLease"/>. Null when the lease was lost
    /// (another claimant took the key over): the caller must not call the platform.
    /// </summary>
    Task<RunLease?> BeginStartAsync(RunLease lease, TimeSpan callLease, CancellationToken cancellationToken);

    /// <summary>Writes the run's outcome (and the TheEye job secret) in one write. False when the lease was lost.</summary>
    Task<bool> SettleAsync(RunLease lease, RunSettlement settlement, CancellationToken cancellationToken);

    /// <summary>Gives a claim up when the platform provably did not get its start: the key may be claimed again at once.</summary>
    Task<bool> ReleaseAsync(RunLease lease, CancellationToken cancellationToken);

    /// <summary>The run recorded under <paramref name="key"/>, if any.</summary>
    Task<RunRecord?> FindAsync(ClaimKey key, CancellationToken cancellationToken);

    /// <summary>The run of that run id, if any.</summary>
    Task<RunRecord?> FindRunAsync(string runId, CancellationToken cancellationToken);

    /// <summary>The run that started <paramref name="jobId"/> on <paramref name="platform"/>, if JobRelay started it.</summary>
    Task<RunRecord?> FindRunByJobAsync(string platform, string jobId, CancellationToken cancellationToken);

    /// <summary>The per-job secret TheEye gave when it started <paramref name="jobId"/> on <paramref name="platform"/>.</summary>
    Task<string?> FindJobSecretAsync(string platform, string jobId, CancellationToken cancellationToken);

    /// <summary>
    /// Runs the sweep has to act on at <paramref name="now"/>: pending starts that are due, and claims whose lease has
    /// expired. At most <paramref name="max"/>, the oldest due first.
    /// </summary>
    Task<IReadOnlyList<RunRecord>> ListDueAsync(DateTimeOffset now, int max, CancellationToken cancellationToken);

    /// <summary>
    /// Takes a due run found by <see cref="ListDueAsync"/> at the version read: a pending start or an abandoned claim
    /// becomes this instance's <see cref="RunState.Claimed"/> claim. Null when another instance got it first, or it is
    /// no longer due.
    /// </summary>
    Task<RunLease?> TakeDueAsync(RunRecord due, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>Settles a <see cref="RunState.Starting"/> run whose lease expired as of unknown outcome, at the version read.</summary>
    Task<RunRecord?> ExpireStartAsync(RunRecord starting, CancellationToken cancellationToken);

    /// <summary>Deletes settled runs last written before <paramref name="before"/>; returns how many.</summary>
    Task<int> PurgeAsync(DateTimeOffset before, CancellationToken cancellationToken);

    /// <summary>Runs matching <paramref name="filter"/>, newest first (creation time, then run id), one page at a time.</summary>
    Task<RunPage> ListRunsAsync(RunFilter filter, CancellationToken cancellationToken);

    /// <summary>The runs whose parent is <paramref name="parentRunId"/> (chain followers), oldest first.</summary>
    Task<IReadOnlyList<RunRecord>> ListFollowersAsync(string parentRunId, CancellationToken cancellationToken);

    /// <summary>
    /// Caches the latest job status read from the platform on the run, without touching its version or lease: it is
    /// a view of the platform, not a step of the claim. False when the run is unknown or has no job.
    /// </summary>
    Task<bool> SaveJobStatusAsync(string runId, JobStatus status, DateTimeOffset checkedAt, CancellationToken cancellationToken);

    /// <summary>
    /// Watches due at <paramref name="now"/> (<see cref="WatchState.Watching"/>, next check passed, lease free or
    /// expired), at most <paramref name="max"/>, the longest due first.
    /// </summary>
    Task<IReadOnlyList<RunRecord>> ListWatchesDueAsync(DateTimeOffset now, int max, CancellationToken cancellationToken);

    /// <summary>
    /// Takes a due watch found by <see cref="ListWatchesDueAsync"/> at the version read (<see cref="WatchTransition.WatchTake"/>),
    /// with a watch lease of <paramref name="lease"/>. Null when another instance took it first or it is no longer due.
    /// </summary>
    Task<RunLease?> TakeWatchAsync(RunRecord due, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>
    /// Writes the outcome of one check of a watch this instance holds, and frees its lease. False when the lease was
    /// lost (another instance took the watch over).
    /// </summary>
    Task<bool> UpdateWatchAsync(RunLease lease, WatchUpdate update, CancellationToken cancellationToken);

    /// <summary>Appends an operator action to its run's history; the history is never rewritten.</summary>
    Task AppendActionAsync(RunAction action, CancellationToken cancellationToken);

    /// <summary>The run's operator actions, oldest first.</summary>
    Task<IReadOnlyList<RunAction>> ListActionsAsync(string runId, CancellationToken cancellationToken);

    /// <summary>Adds counts of outcomes that create no run to their trigger's hourly totals.</summary>
    Task AddOutcomeCountsAsync(IReadOnlyCollection<OutcomeCount> counts, CancellationToken cancellationToken);

    /// <summary>
    /// The trigger's runs created in [<paramref name="from"/>, <paramref name="to"/>) by state, their start latencies,
    /// and the counted outcomes of the hours that start in that range.
    /// </summary>
    Task<RunSummary> SummarizeAsync(string trigger, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken);

    /// <summary>Records the scheduler's tick in one unconditional write, replacing the one before: the last writer wins.</summary>
    Task RecordTickAsync(SchedulerTick tick, CancellationToken cancellationToken);

    /// <summary>The last tick recorded, or null when no tick ever was.</summary>
    Task<SchedulerTick?> FindLastTickAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Outbound deliveries a tick may take at <paramref name="now"/> (<see cref="DeliveryTransitions.MayTake"/>): pending,
    /// due, lease free or expired, and the head of their run's line to their subscription. At most <paramref name="max"/>, the longest due first.
    /// </summary>
    Task<IReadOnlyList<OutboxDelivery>> ListDeliveriesDueAsync(DateTimeOffset now, int max, CancellationToken cancellationToken);

    /// <summary>Takes a due delivery at the version read (<see cref="DeliveryTransition.DeliveryTake"/>) with a lease; null when another instance took it first.</summary>
    Task<DeliveryLease?> TakeDeliveryAsync(OutboxDelivery due, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>Writes the outcome of one attempt of a delivery this instance holds and frees its lease; false when the lease was lost.</summary>
    Task<bool> UpdateDeliveryAsync(DeliveryLease lease, DeliveryUpdate update, CancellationToken cancellationToken);

    /// <summary>The run's deliveries, in the order of its events, then by subscription.</summary>
    Task<IReadOnlyList<OutboxDelivery>> ListDeliveriesAsync(string runId, CancellationToken cancellationToken);

    /// <summary>Marks a subscription disabled (its destination answered 410 Gone), for every instance; the first mark stays.</summary>
    Task DisableSubscriptionAsync(string subscription, string reason, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>The subscriptions marked disabled.</summary>
    Task<IReadOnlyCollection<string>> ListDisabledSubscriptionsAsync(CancellationToken cancellationToken);

    /// <summary>Deliveries that failed at least once and are not delivered (pending again, or dead-lettered), newest first.</summary>
    Task<IReadOnlyList<OutboxDelivery>> ListFailedDeliveriesAsync(int max, CancellationToken cancellationToken);
}
