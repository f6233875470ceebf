using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobRelay.Scheduling;

/// <summary>
/// The one entry point both hosts call on each tick: dispatches the window (last tick, now] of every scheduled trigger
/// through <see cref="IScheduleTarget"/>.
/// </summary>
/// <remarks>
/// The window starts at the later of the host's last tick (the Functions timer's <c>ScheduleStatus.Last</c>) and the
/// ticker's own last completed tick in this process; with neither, as on the first tick of the local host, it is one
/// <see cref="ScheduleDispatcherOptions.TickInterval"/> long, so nothing due before the process started is fired.
/// A tick that fails or is cancelled does not advance the ticker's last tick: the next tick covers its window again,
/// and the dispatcher does not repeat what it already launched.
/// </remarks>
public sealed class ScheduleTicker
{
    private readonly ScheduleDispatcher _dispatcher;
    private readonly IScheduleTarget _target;
    private readonly TimeProvider _timeProvider;
    private readonly IOptions<ScheduleDispatcherOptions> _options;
    private readonly ILogger<ScheduleTicker> _logger;
    private readonly Lock _gate = new();
    private DateTimeOffset? _lastTick;

    public ScheduleTicker(
        ScheduleDispatcher dispatcher,
        IScheduleTarget target,
        TimeProvider timeProvider,
        IOptions<ScheduleDispatcherOptions> options,
        ILogger<ScheduleTicker> logger)
    {
        ArgumentNullException.ThrowIfNull(dispatcher);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        _dispatcher = dispatcher;
        _target = target;
        _timeProvider = timeProvider;
        _options = options;
        _logger = logger;
    }

    /// <summary>Where the next window starts when the host passes no last tick: the end of the last tick that completed
    /// in this process, or, until one has, the start of the first window.</summary>
    public DateTimeOffset? LastTick
    {
        get
        {
            lock (_gate)
            {
                return _lastTick;
            }
        }
    }

    /// <summary>Dispatches (<paramref name="lastTick"/>, now]; see the type's remarks for how the start is chosen.</summary>
    public async Task<DispatchReport> TickAsync(DateTimeOffset? lastTick, CancellationToken cancellationToken)
    {
        var now = _timeProvider.GetUtcNow().ToUniversalTime();
        var own = LastTick;
        var from = (lastTick?.ToUniversalTime(), own) switch
        {
            ({ } host, { } mine) => host > mine ? host : mine,
            ({ } host, null) => host,
            (null, { } mine) => mine,
            _ => now - _options.Value.TickInterval,
        };

        if (now <= from)
        {
            SchedulingLog.EmptyWindow(_logger, now, from);
            return DispatchReport.Empty(from, now);
        }

        lock (_gate)
        {
            // Until a tick completes, a failed first tick's window is kept for the next one to cover.
            _lastTick ??= from;
        }

        var triggers = _target.GetScheduledTriggers();
        var report = await _dispatcher.DispatchAsync(triggers, from, now, _target.StartAsync, cancellationToken);
        if (!report.Cancelled)
        {
            lock (_gate)
            {
                if (now > _lastTick)
                {
                    _lastTick = now;
                }
            }
        }

        return report;
    }

    /// <summary>
    /// <see cref="TickAsync"/> for the Functions timer, whose <c>ScheduleStatus.Last</c> is a <see cref="DateTime"/>:
    /// UTC or local kinds are converted as marked, an unspecified kind is read in the host's local zone (UTC on Azure
    /// unless <c>WEBSITE_TIME_ZONE</c> says otherwise), and the default value (no status yet) counts as no last tick.
    /// </summary>
    public Task<DispatchReport> TickFromTimerAsync(DateTime? lastScheduled, CancellationToken cancellationToken)
    {
        DateTimeOffset? lastTick = lastScheduled switch
        {
            null => null,
            { } last when last == default => null,
            { Kind: DateTimeKind.Utc } last => new DateTimeOffset(last),
            { Kind: DateTimeKind.Local } last => new DateTimeOffset(last.ToUniversalTime()),
            { } last => new DateTimeOffset(last, _timeProvider.LocalTimeZone.GetUtcOffset(last)),
        };
        return TickAsync(lastTick, cancellationToken);
    }
}
