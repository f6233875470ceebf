using JobRelay.Scheduling;
using Microsoft.Azure.Functions.Worker;

namespace JobRelay.Functions;

/// <summary>
/// Ticks the schedule dispatcher. The timer is a singleton across instances (the host holds a blob lease), and
/// <c>UseMonitor</c> keeps <c>ScheduleStatus.Last</c> across restarts, so each window (last, now] is dispatched once.
/// </summary>
public sealed class SchedulerFunction(ScheduleTicker ticker)
{
    [Function("Scheduler")]
    public Task Run(
        [TimerTrigger("%JOBRELAY_TICK%")] TimerInfo timer,
        CancellationToken cancellationToken)
        => ticker.TickFromTimerAsync(timer.ScheduleStatus?.Last, cancellationToken);
}
