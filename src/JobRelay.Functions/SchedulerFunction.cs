using JobRelay.Runs;
using JobRelay.Scheduling;
using Microsoft.Azure.Functions.Worker;

namespace JobRelay.Functions;

/// <summary>
/// Ticks the schedule dispatcher. The timer is a singleton across instances (the host holds a blob lease), and
/// <c>UseMonitor</c> keeps <c>ScheduleStatus.Last</c> across restarts, so each window (last, now] is dispatched once.
/// The same tick then sweeps the store: pending starts are sent again, abandoned claims settled, old runs deleted.
/// </summary>
public sealed class SchedulerFunction(ScheduleTicker ticker, RunSweep sweep)
{
    [Function("Scheduler")]
    public async Task Run(
        [TimerTrigger("%JOBRELAY_TICK%")] TimerInfo timer,
        CancellationToken cancellationToken)
    {
        await ticker.TickFromTimerAsync(timer.ScheduleStatus?.Last, cancellationToken);
        await sweep.SweepAsync(cancellationToken);
    }
}
