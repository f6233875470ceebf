namespace JobRelay.Scheduling;

/// <summary>
/// The scheduler's heartbeat as readiness, the dashboard and the CLI show it.
/// <see cref="State"/> is <c>ticking</c> (the last tick is recent), <c>starting</c> (no tick yet since this instance
/// started, and none due long enough to be missed), <c>late</c> (no tick for <see cref="SchedulerHeartbeatOptions.MissedTicks"/>
/// intervals) or <c>unscheduled</c> (this host runs no tick: only the last one recorded is shown).
/// </summary>
/// <param name="LastTick">When the last recorded tick began; null when none was ever recorded.</param>
/// <param name="Host">The host that recorded it: <c>functions</c> or <c>serve</c>.</param>
/// <param name="Instance">The instance that recorded it.</param>
/// <param name="Cadence">How often this host ticks: <c>every 00:00:10</c>, or the timer's schedule.</param>
/// <param name="LateAfter">When the heartbeat counts as late if no other tick is recorded.</param>
/// <param name="CheckedAt">When this report was made.</param>
public sealed record SchedulerHeartbeatReport(
    string State,
    DateTimeOffset? LastTick,
    string? Host,
    string? Instance,
    string? Cadence,
    DateTimeOffset? LateAfter,
    DateTimeOffset CheckedAt)
{
    public const string Ticking = "ticking";
    public const string Starting = "starting";
    public const string Late = "late";
    public const string Unscheduled = "unscheduled";
}
