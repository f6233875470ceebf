namespace JobRelay.Scheduling;

/// <summary>What the scheduler runs against: the triggers that have schedules, and a way to start one occurrence.</summary>
public interface IScheduleTarget
{
    /// <summary>The scheduled triggers as they are now; read once per tick, so a reloaded catalog takes effect on the
    /// next tick.</summary>
    IReadOnlyList<ScheduledTrigger> GetScheduledTriggers();

    /// <summary>Starts the trigger's job for one occurrence. A throw is logged and counted; it is not retried.</summary>
    Task StartAsync(ScheduledOccurrence occurrence, CancellationToken cancellationToken);
}
