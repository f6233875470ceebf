using System.Globalization;
using JobRelay.Diagnostics;
using JobRelay.State;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobRelay.Scheduling;

/// <summary>
/// Records each scheduler tick in the store (one row per deployment, replaced by each tick) and tells from it whether
/// the tick still runs. The tick is the Functions timer and <c>jobrelay serve</c>'s sweep and scheduler loops; a timer
/// that silently stops firing (reported on Flex Consumption after deployments) is seen by every instance's readiness.
/// </summary>
/// <remarks>
/// A host's ticks are written at most once per interval from one process: serve's scheduler loop ticks every second,
/// and the heartbeat needs only to know that some tick ran. Until a tick is due three times over since this process
/// started, its readiness does not fail: a fresh instance, or a deployment whose store holds an old tick, gets the
/// time the first ticks need.
/// </remarks>
public sealed class SchedulerHeartbeat
{
    private readonly IRelayStore _store;
    private readonly TimeProvider _clock;
    private readonly ILogger<SchedulerHeartbeat> _logger;
    private readonly SchedulerHeartbeatOptions _options;
    private readonly TickCadence? _cadence;
    private readonly string _instance;
    private readonly Lock _gate = new();
    private DateTimeOffset? _lastWritten;

    internal SchedulerHeartbeat(IRelayStore store, IOptions<SchedulerHeartbeatOptions> options, TimeProvider clock, ILogger<SchedulerHeartbeat> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _clock = clock;
        _logger = logger;
        _options = options.Value;
        _cadence = _options switch
        {
            { Interval: { } interval } => TickCadence.Every(interval),
            { Schedule: { } schedule } when TickCadence.TryParseSchedule(schedule, clock.LocalTimeZone, out var cadence, out _) => cadence,
            _ => null,
        };
        _instance = Environment.GetEnvironmentVariable("WEBSITE_INSTANCE_ID") is { Length: > 0 } instance
            ? instance
            : string.Create(CultureInfo.InvariantCulture, $"{Environment.MachineName}/{Environment.ProcessId}");
        Started = clock.GetUtcNow();
    }

    /// <summary>When this process's heartbeat began: the start of the grace a fresh instance gets.</summary>
    public DateTimeOffset Started { get; }

    /// <summary>
    /// Records a tick beginning now, unless this process recorded one less than an interval ago. A failed write is
    /// logged and does not stop the tick: the work it drives matters more than its record.
    /// </summary>
    public async Task RecordTickAsync(CancellationToken cancellationToken)
    {
        var now = _clock.GetUtcNow();
        lock (_gate)
        {
            if (_lastWritten is { } last && _options.Interval is { } interval && now - last < interval)
            {
                return;
            }

            _lastWritten = now;
        }

        var host = _options.Host ?? "jobrelay";
        try
        {
            await _store.RecordTickAsync(new SchedulerTick(now, host, _instance), cancellationToken);
            RelayTelemetry.SchedulerTicks.Add(1, new KeyValuePair<string, object?>("jobrelay.host", host));
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            lock (_gate)
            {
                _lastWritten = null;
            }

            HeartbeatLog.TickNotRecorded(_logger, ex.GetType().Name);
        }
    }

    /// <summary>The heartbeat now, from the last tick the store holds.</summary>
    public async Task<SchedulerHeartbeatReport> CheckAsync(CancellationToken cancellationToken)
    {
        var last = await _store.FindLastTickAsync(cancellationToken);
        var now = _clock.GetUtcNow();
        if (_cadence is null)
        {
            return new SchedulerHeartbeatReport(SchedulerHeartbeatReport.Unscheduled, last?.At, last?.Host, last?.Instance, null, null, now);
        }

        var since = last?.At > Started ? last.At : Started;
        var lateAfter = _cadence.Overdue(since, SchedulerHeartbeatOptions.MissedTicks);
        var state = now > lateAfter
            ? SchedulerHeartbeatReport.Late
            : last is not null && now <= _cadence.Overdue(last.At, SchedulerHeartbeatOptions.MissedTicks)
                ? SchedulerHeartbeatReport.Ticking
                : SchedulerHeartbeatReport.Starting;
        return new SchedulerHeartbeatReport(state, last?.At, last?.Host, last?.Instance, _cadence.Description, lateAfter, now);
    }
}

internal static partial class HeartbeatLog
{
    [LoggerMessage(EventId = 1330, Level = LogLevel.Warning, Message = "The scheduler tick could not be recorded in the store ({ExceptionType}); the tick goes on and the next one tries again")]
    public static partial void TickNotRecorded(ILogger logger, string exceptionType);
}

/// <summary>Creates the heartbeat as the host starts, so that a fresh instance's grace is counted from its start rather
/// than from the first request that asks for it.</summary>
internal sealed class SchedulerHeartbeatStart(SchedulerHeartbeat heartbeat) : Microsoft.Extensions.Hosting.IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.FromResult(heartbeat.Started);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
