using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobRelay.Scheduling;

/// <summary>
/// The local host's scheduler: ticks <see cref="ScheduleTicker"/> every
/// <see cref="ScheduleDispatcherOptions.TickInterval"/> until the host stops. A failing tick is logged and the loop goes
/// on; ticks that take longer than the interval are not queued up, the next window simply covers the time they took.
/// Each tick is offered to the <see cref="SchedulerHeartbeat"/>, which records at most one per sweep interval.
/// </summary>
internal sealed class SchedulerBackgroundService : BackgroundService
{
    private readonly ScheduleTicker _ticker;
    private readonly SchedulerHeartbeat _heartbeat;
    private readonly TimeProvider _timeProvider;
    private readonly IOptions<ScheduleDispatcherOptions> _options;
    private readonly ILogger<SchedulerBackgroundService> _logger;

    public SchedulerBackgroundService(
        ScheduleTicker ticker,
        SchedulerHeartbeat heartbeat,
        TimeProvider timeProvider,
        IOptions<ScheduleDispatcherOptions> options,
        ILogger<SchedulerBackgroundService> logger)
    {
        ArgumentNullException.ThrowIfNull(ticker);
        ArgumentNullException.ThrowIfNull(heartbeat);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        _ticker = ticker;
        _heartbeat = heartbeat;
        _timeProvider = timeProvider;
        _options = options;
        _logger = logger;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = _options.Value.TickInterval;
        using var timer = new PeriodicTimer(interval, _timeProvider);
        SchedulingLog.LoopStarted(_logger, interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await _heartbeat.RecordTickAsync(stoppingToken);
                    await _ticker.TickAsync(null, stoppingToken);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    break;
                }
#pragma warning disable CA1031 // the loop outlives any one tick's failure
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    SchedulingLog.TickFailed(_logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        SchedulingLog.LoopStopped(_logger);
    }
}
