namespace JobRelay.State;

/// <summary>
/// The scheduler's last tick, as the store keeps it: one record per deployment, replaced by every tick, so that any
/// instance (and any readiness probe) can tell whether the timer or loop that drives schedules and the sweep still runs.
/// </summary>
/// <param name="At">When the tick began.</param>
/// <param name="Host">Which host ticked: <c>functions</c> (the timer) or <c>serve</c> (its loops).</param>
/// <param name="Instance">The instance that ticked: the Functions instance id, or machine and process id.</param>
internal sealed record SchedulerTick(DateTimeOffset At, string Host, string Instance);
