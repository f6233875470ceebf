using JobRelay.Diagnostics;
using JobRelay.Model;
using JobRelay.Scheduling;
using JobRelay.State;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobRelay.Runs;

/// <summary>What one sweep did.</summary>
/// <param name="Started">Pending starts (or abandoned claims) the platform accepted in this sweep.</param>
/// <param name="StillPending">Starts the platform still did not get; they wait for a later sweep.</param>
/// <param name="Refused">Pending starts whose deadline passed, or that the platform refused.</param>
/// <param name="Unknown">Starts settled as of unknown outcome: in flight when their instance stopped.</param>
/// <param name="Purged">Settled runs deleted for being older than the retention window.</param>
public sealed record SweepReport(int Started, int StillPending, int Refused, int Unknown, int Purged);

/// <summary>
/// The outbox's sender and the store's janitor, run by the Functions timer tick and by <c>jobrelay serve</c>'s loop
/// (which then checks the due watches of started jobs, <see cref="IJobWatch"/>):
/// sends each due pending start (taken with a version check, so exactly one instance sends it), starts claims
/// abandoned before their platform call, settles claims abandoned during one as of unknown outcome, and deletes
/// settled runs older than the retention window.
/// </summary>
public sealed class RunSweep
{
    private const int BatchSize = 200;
    private readonly IRelayStore _store;
    private readonly TriggerRunner _runner;
    private readonly StoreOptions _options;
    private readonly TimeProvider _clock;
    private readonly ILogger<RunSweep> _logger;
    private readonly IJobWatch _watch;
    private readonly JobRelay.Outbound.OutboundDispatcher? _outbound;
    private readonly Lock _gate = new();
    private DateTimeOffset _lastPurge = DateTimeOffset.MinValue;

    internal RunSweep(IRelayStore store, TriggerRunner runner, IJobWatch watch, IOptions<StoreOptions> options, TimeProvider clock, ILogger<RunSweep> logger, JobRelay.Outbound.OutboundDispatcher? outbound = null)
    {
        _watch = watch;
        _outbound = outbound;
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _runner = runner;
        _options = options.Value;
        _clock = clock;
        _logger = logger;
    }

    public async Task<SweepReport> SweepAsync(CancellationToken cancellationToken)
    {
        int started = 0, pending = 0, refused = 0, unknown = 0;
        var due = await _store.ListDueAsync(_clock.GetUtcNow(), BatchSize, cancellationToken);
        await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (run, ct) =>
        {
            switch (await SendAsync(run, ct))
            {
                case RunState.Started:
                    Interlocked.Increment(ref started);
                    break;
                case RunState.Pending:
                    Interlocked.Increment(ref pending);
                    break;
                case RunState.Refused:
                    Interlocked.Increment(ref refused);
                    break;
                case RunState.OutcomeUnknown:
                    Interlocked.Increment(ref unknown);
                    break;
            }
        });

        RelayTelemetry.ReportPendingBacklog(pending);
        var purged = await PurgeAsync(cancellationToken);
        var report = new SweepReport(started, pending, refused, unknown, purged);
        if (due.Count > 0 || purged > 0)
        {
            SweepLog.Swept(_logger, due.Count, started, pending, refused, unknown, purged);
        }

        // The same tick follows the started jobs: a failure there is the watch's, and leaves the outbox's work done.
        try
        {
            await _watch.CheckDueAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            SweepLog.WatchFailed(_logger, ex);
        }

        // Then the outbound events, the watch's included: a failure there leaves the starts and the watch done.
        if (_outbound is not null)
        {
            try
            {
                await _outbound.DispatchAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                SweepLog.OutboundFailed(_logger, ex);
            }
        }

        return report;
    }

    /// <summary>Acts on one due run; returns the state it was left in, or null when another instance had it.</summary>
    private async Task<RunState?> SendAsync(RunRecord run, CancellationToken cancellationToken)
    {
        if (run.State == RunState.Starting)
        {
            return (await _store.ExpireStartAsync(run, cancellationToken))?.State;
        }

        var lease = await _store.TakeDueAsync(run, _options.ClaimLease, cancellationToken);
        if (lease is null)
        {
            return null;
        }

        var taken = run with { State = RunState.Claimed, Version = lease.Version, ETag = lease.ETag };
        if (run.Deadline is { } deadline && deadline <= _clock.GetUtcNow())
        {
            SweepLog.DeadlinePassed(_logger, run.Trigger, run.RunId, run.Attempts, run.Reason ?? "unavailable");
            await _store.SettleAsync(lease, RunSettlement.Refused($"the platform stayed unavailable until the deadline: {run.Reason}"), CancellationToken.None);
            return RunState.Refused;
        }

        try
        {
            var outcome = await _runner.StartClaimedAsync(lease, taken, queueWhenUnavailable: true, cancellationToken);
            return outcome.Record.State;
        }
        catch (RelayException ex)
        {
            SweepLog.NotStarted(_logger, run.Trigger, run.RunId, ex.Kind, ex.Message);
            return ex.Kind is RelayErrorKind.OutcomeUnknown or RelayErrorKind.InvalidPlatformResponse ? RunState.OutcomeUnknown : RunState.Refused;
        }
    }

    private async Task<int> PurgeAsync(CancellationToken cancellationToken)
    {
        var now = _clock.GetUtcNow();
        lock (_gate)
        {
            // A purge scans the store: once an hour per instance is plenty for a window of days.
            if (now - _lastPurge < TimeSpan.FromHours(1))
            {
                return 0;
            }

            _lastPurge = now;
        }

        return await _store.PurgeAsync(now - _options.Retention, cancellationToken);
    }
}

/// <summary>
/// <c>jobrelay serve</c>'s sweep loop: every <see cref="StoreOptions.SweepInterval"/> from the host's start until it
/// stops, each iteration a scheduler tick recorded by the <see cref="SchedulerHeartbeat"/>. A host that never finishes
/// starting (its address is taken, say) never sweeps: it would be disposed, store and all, under a sweep in flight.
/// </summary>
internal sealed class RunSweepService(RunSweep sweep, SchedulerHeartbeat heartbeat, IOptions<StoreOptions> options, TimeProvider clock, IHostApplicationLifetime lifetime, ILogger<RunSweepService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!await StartedAsync(stoppingToken))
        {
            return;
        }

        using var timer = new PeriodicTimer(options.Value.SweepInterval, clock);
        try
        {
            do
            {
                try
                {
                    await heartbeat.RecordTickAsync(stoppingToken);
                    await sweep.SweepAsync(stoppingToken);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    break;
                }
#pragma warning disable CA1031 // the loop outlives any one sweep's failure (a store briefly unreachable, for one)
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    SweepLog.SweepFailed(logger, ex);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Waits until the host has started; false when it stops first.</summary>
    private async Task<bool> StartedAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var onStarted = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        using var onStopping = stoppingToken.Register(() => started.TrySetCanceled(stoppingToken));
        try
        {
            await started.Task;
            return true;
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return false;
        }
    }
}

internal static partial class SweepLog
{
    [LoggerMessage(EventId = 1050, Level = LogLevel.Information, Message = "Swept {Due} due runs: {Started} started, {Pending} still pending, {Refused} refused, {Unknown} of unknown outcome; {Purged} old runs deleted")]
    public static partial void Swept(ILogger logger, int due, int started, int pending, int refused, int unknown, int purged);

    [LoggerMessage(EventId = 1051, Level = LogLevel.Error, Message = "Run {RunId} for trigger {Trigger} is refused: the platform stayed unavailable until its deadline ({Attempts} attempts): {Reason}")]
    public static partial void DeadlinePassed(ILogger logger, string trigger, string runId, int attempts, string reason);

    [LoggerMessage(EventId = 1052, Level = LogLevel.Error, Message = "The sweep could not start run {RunId} for trigger {Trigger}: {Kind}: {Reason}")]
    public static partial void NotStarted(ILogger logger, string trigger, string runId, RelayErrorKind kind, string reason);

    [LoggerMessage(EventId = 1053, Level = LogLevel.Error, Message = "A sweep of the state store failed; the next one tries again")]
    public static partial void SweepFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1054, Level = LogLevel.Error, Message = "The watch of started jobs failed in this tick; the next one tries again")]
    public static partial void WatchFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1055, Level = LogLevel.Error, Message = "Sending the outbound events failed in this tick; the next one tries again")]
    public static partial void OutboundFailed(ILogger logger, Exception exception);
}
