using JobRelay.Runs;
using JobRelay.Scheduling;
using Microsoft.Azure.Functions.Worker;

namespace JobRelay.Functions;

/// <summary>
/// Ticks the schedule dispatcher. The timer is a singleton across instances (the host holds a blob lease), and
/// <c>UseMonitor</c> keeps <c>ScheduleStatus.Last</c> across restarts, so each window (last, now] is dispatched once.
/// The same tick then sweeps the store: pending starts are sent again, abandoned claims settled, old runs deleted.
/// Each tick first records itself in the store, for readiness and the tick alert to see a timer that stopped firing.
/// </summary>
public sealed class SchedulerFunction(ScheduleTicker ticker, RunSweep sweep, SchedulerHeartbeat heartbeat)
{
    /// <summary>The app setting that holds the timer's schedule, as the binding below reads it.</summary>
    internal const string TickSetting = "JOBRELAY_TICK";

    [Function("Scheduler")]
    public async Task Run(
        [TimerTrigger("%JOBRELAY_TICK%")] TimerInfo timer,
        CancellationToken cancellationToken)
    {
        await heartbeat.RecordTickAsync(cancellationToken);
        await ticker.TickFromTimerAsync(timer.ScheduleStatus?.Last, cancellationToken);
        await sweep.SweepAsync(cancellationToken);
    }
}
