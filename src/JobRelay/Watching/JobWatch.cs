using System.Diagnostics;
using JobRelay.Chaining;
using JobRelay.Diagnostics;
using JobRelay.History;
using JobRelay.Model;
using JobRelay.Platforms;
using JobRelay.Runs;
using JobRelay.State;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobRelay.Watching;

/// <summary>
/// Follows every job JobRelay started to its end, from the same tick as the outbox's sweep (the Functions timer,
/// <c>jobrelay serve</c>'s loop). Each due watch is taken under a lease by one instance, its job's status read once,
/// and the outcome written: the next check, or the end. A job's end goes through the chain processor under the same
/// claim keys as a platform's notification, before the end is written, so a follower starts once whichever of the two
/// sees the end first, and a crash in between only repeats a step the claim keys make idempotent.
/// </summary>
/// <remarks>
/// A tick lists the due watches a batch at a time until none is left. A failed read (5xx, 429, timeout, network, Key
/// Vault down) keeps the watch with backoff; reads run a bounded number at a time, each under its own timeout, and a
/// tick stops taking watches once its time budget is spent, so no job and no start waits behind a slow platform.
/// </remarks>
internal sealed partial class JobWatch : IJobWatch
{
    /// <summary>A tick takes no new watch past this: the rest wait for the next tick.</summary>
    private static readonly TimeSpan TickBudget = TimeSpan.FromSeconds(20);

    private readonly IRelayStore _store;
    private readonly JobPlatforms _platforms;
    private readonly TriggerRunner _runner;
    private readonly ChainProcessor _chains;
    private readonly RunActions _actions;
    private readonly WatchOptions _options;
    private readonly TimeProvider _clock;
    private readonly ILogger<JobWatch> _logger;

    /// <summary>The name a cancel for running past <c>maxDuration</c> is recorded under in the run's history.</summary>
    public const string TimeoutActor = "jobrelay (maxDuration)";

    public JobWatch(IRelayStore store, JobPlatforms platforms, TriggerRunner runner, ChainProcessor chains, RunActions actions, IOptions<WatchOptions> options, TimeProvider clock, ILogger<JobWatch> logger)
    {
        _actions = actions;
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _platforms = platforms;
        _runner = runner;
        _chains = chains;
        _options = options.Value;
        _clock = clock;
        _logger = logger;
    }

    public async Task<WatchReport> CheckDueAsync(CancellationToken cancellationToken)
    {
        var began = _clock.GetTimestamp();
        var now = _clock.GetUtcNow();
        var tally = new int[Enum.GetValues<WatchOutcome>().Length];
        var dueCount = 0;
        var deferred = 0;

        // Batch after batch until no watch is due: a tick that took one batch only would fall behind as soon as more
        // watches come due per tick than a batch holds (10,000 jobs read every minute are 1,667 per 10-second tick).
        // Every batch lists what is due at the tick's start: a checked watch leaves that set (its next check is later
        // than the tick's start, or it ended), and one another instance holds is not listed, so each list returns
        // watches this tick has not seen and no job is read twice in one tick. A batch in which this instance checked
        // none ends the tick, so it never spins on watches it cannot take.
        while (true)
        {
            var due = await _store.ListWatchesDueAsync(now, _options.BatchSize, cancellationToken);
            dueCount += due.Count;
            var checkedBefore = tally.Sum();
            await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = _options.Parallelism, CancellationToken = cancellationToken }, async (run, ct) =>
            {
                if (_clock.GetElapsedTime(began) > TickBudget)
                {
                    Interlocked.Increment(ref deferred);
                    return;
                }

                if (await CheckAsync(run, ct) is { } outcome)
                {
                    Interlocked.Increment(ref tally[(int)outcome]);
                }
            });

            if (due.Count < _options.BatchSize || deferred > 0 || tally.Sum() == checkedBefore)
            {
                break;
            }
        }

        var report = new WatchReport(
            dueCount,
            tally.Sum(),
            tally[(int)WatchOutcome.Ended],
            tally[(int)WatchOutcome.Running],
            tally[(int)WatchOutcome.Failed],
            tally[(int)WatchOutcome.Lost],
            tally[(int)WatchOutcome.Abandoned],
            deferred);
        if (dueCount > 0)
        {
            Checked(_logger, report.Due, report.Checked, report.Ended, report.Running, report.Failed, report.Lost, report.Abandoned, report.Deferred);
        }

        return report;
    }

    /// <summary>Takes one due watch and checks it; null when another instance took it first.</summary>
    internal async Task<WatchOutcome?> CheckAsync(RunRecord run, CancellationToken cancellationToken)
    {
        if (run is not { Platform: { } platformName, JobId: { } jobId })
        {
            return null;
        }

        var lease = await _store.TakeWatchAsync(run, _options.Lease, cancellationToken);
        if (lease is null)
        {
            return null;
        }

        using var activity = RelayTelemetry.Source.StartActivity("job watch", ActivityKind.Internal);
        activity?.SetTag("jobrelay.trigger", run.Trigger);
        activity?.SetTag("jobrelay.run_id", run.RunId);
        activity?.SetTag("jobrelay.platform", platformName);
        activity?.SetTag("jobrelay.job_id", jobId);
        var trigger = _runner.Catalog.Triggers.GetValueOrDefault(run.Trigger);
        var (status, failure) = await ReadAsync(platformName, jobId, cancellationToken);
        var now = _clock.GetUtcNow();
        var checks = run.WatchChecks + 1;
        var startedAt = run.UpdatedAt;
        var pastHorizon = now - startedAt >= _options.Horizon;
        WatchUpdate update;
        WatchOutcome outcome;
        if (status is { IsFinal: true })
        {
            if (await FollowAsync(run, status, trigger, cancellationToken) is { } chainFailure)
            {
                (update, outcome) = Failed(run, trigger, now, checks, chainFailure, retryAfter: null, pastHorizon);
            }
            else
            {
                update = new WatchUpdate(WatchTransition.WatchEnd) { Status = status, CheckedAt = now, Checks = checks, FinishedAt = status.FinishedAt ?? now };
                outcome = WatchOutcome.Ended;
            }
        }
        else if (status is not null)
        {
            var overdue = IsOverdue(run, trigger, now) ? now : (DateTimeOffset?)null;
            if (overdue is not null)
            {
                Overdue(_logger, run.Trigger, run.RunId, platformName, jobId, trigger!.MaxDuration!.Value);
                RelayTelemetry.JobsOverdue.Add(1, new TagList { { "jobrelay.trigger", run.Trigger }, { "jobrelay.platform", platformName } });
                activity?.SetTag("jobrelay.overdue", true);
                if (trigger.OnTimeout == TimeoutAction.Cancel)
                {
                    // Before the overdue mark is written: a crash in between cancels again, which is harmless.
                    status = await CancelAsync(run, status, cancellationToken);
                }
            }

            (update, outcome) = pastHorizon
                ? (new WatchUpdate(WatchTransition.WatchAbandon) { Status = status, CheckedAt = now, Checks = checks, OverdueAt = overdue, Reason = Abandoned(status.RawStatus) }, WatchOutcome.Abandoned)
                : (new WatchUpdate(WatchTransition.WatchReschedule)
                {
                    Status = status,
                    CheckedAt = now,
                    Checks = checks,
                    OverdueAt = overdue,
                    NextAt = WatchSchedule.Next(now, checks, trigger, _options),
                }, WatchOutcome.Running);
        }
        else if (failure is { Kind: RelayErrorKind.NotFound or RelayErrorKind.InvalidInput })
        {
            // A platform's 404 may be a moment's inconsistency: the job is lost only after repeated ones. A job that
            // cannot be read at all (no credential for it, an id the platform cannot take) is lost at once.
            var misses = run.WatchMisses + 1;
            var lost = failure.PlatformStatusCode is null || misses >= _options.LostAfter;
            (update, outcome) = lost
                ? (new WatchUpdate(WatchTransition.WatchLost) { CheckedAt = now, Checks = checks, Misses = misses, Reason = failure.Message }, WatchOutcome.Lost)
                : pastHorizon
                    ? (new WatchUpdate(WatchTransition.WatchAbandon) { CheckedAt = now, Checks = checks, Misses = misses, Reason = Abandoned(failure.Message) }, WatchOutcome.Abandoned)
                    : (new WatchUpdate(WatchTransition.WatchReschedule)
                    {
                        CheckedAt = now,
                        Checks = checks,
                        Misses = misses,
                        Failures = run.WatchFailures,
                        Reason = failure.Message,
                        NextAt = WatchSchedule.AfterFailure(now, misses, trigger, _options, failure.RetryAfter),
                    }, WatchOutcome.Failed);
        }
        else
        {
            (update, outcome) = Failed(run, trigger, now, checks, failure!, failure!.RetryAfter, pastHorizon);
        }

        activity?.SetTag("jobrelay.watch.outcome", Name(outcome));
        var written = await _store.UpdateWatchAsync(lease, update, CancellationToken.None);
        if (!written)
        {
            // Another instance took the watch over (this one was too slow): it checks the job again.
            LeaseLost(_logger, run.Trigger, run.RunId);
            return null;
        }

        Report(run, platformName, jobId, update, outcome);
        return outcome;
    }

    private async Task<(JobStatus? Status, RelayException? Failure)> ReadAsync(string platformName, string jobId, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_options.ReadTimeout, _clock);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            return (await _platforms.Get(platformName).GetJobStatusAsync(jobId, linked.Token), null);
        }
        catch (RelayException ex)
        {
            return (null, ex);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, new RelayException(RelayErrorKind.Timeout, $"The status read of job {jobId} on platform '{platformName}' took longer than {_options.ReadTimeout}.") { Platform = platformName });
        }
#pragma warning disable CA1031 // a read's unexpected failure is one watch's failed check, never the tick's
        catch (Exception ex) when (ex is not OutOfMemoryException)
#pragma warning restore CA1031
        {
            // Only the exception's type: its text might carry what a request carried.
            return (null, new RelayException(RelayErrorKind.PlatformUnavailable, $"The status read of job {jobId} on platform '{platformName}' failed ({ex.GetType().Name}).") { Platform = platformName });
        }
    }

    /// <summary>Starts the job's followers through the chain processor; returns why that must be tried again, or null when done.</summary>
    private async Task<RelayException?> FollowAsync(RunRecord run, JobStatus status, Model.TriggerDefinition? trigger, CancellationToken cancellationToken)
    {
        var jobEnd = WatchedJobEnd.From(run, status, trigger, _runner.Catalog);
        try
        {
            await _chains.ProcessAsync(jobEnd, cancellationToken);
            return null;
        }
        catch (RelayException ex) when (ex.Kind is RelayErrorKind.InFlight or RelayErrorKind.SecretStoreUnavailable)
        {
            // Another instance is starting a follower right now, or its token cannot be read yet: look again later.
            return ex;
        }
        catch (RelayException ex)
        {
            // The follower's start was decided (refused, of unknown outcome): the run records it; the end is the end.
            ChainFailed(_logger, run.Platform!, run.JobId!, ex.Kind, ex.Message);
            return null;
        }
        catch (Exception ex) when (ex is not (OperationCanceledException or OutOfMemoryException))
        {
            // The store could not record a follower: the end is seen again at the next check, and the claim keys keep
            // the followers already started from starting twice.
            ChainFailed(_logger, run.Platform!, run.JobId!, RelayErrorKind.PlatformUnavailable, ex.GetType().Name);
            return new RelayException(RelayErrorKind.PlatformUnavailable, $"The followers of job {run.JobId} could not be recorded ({ex.GetType().Name}).");
        }
    }

    /// <summary>Cancels a job past its maxDuration, recorded in the run's history; the status read after it, or as it was.</summary>
    private async Task<JobStatus> CancelAsync(RunRecord run, JobStatus status, CancellationToken cancellationToken)
    {
        try
        {
            var (cancelled, outcome) = await _actions.ControlJobAsync(run, JobControl.Cancel, TimeoutActor, cancellationToken, saveStatus: false);
            switch (outcome)
            {
                case JobControlOutcome.Applied:
                    return status with { State = cancelled.JobState ?? status.State, RawStatus = cancelled.RawStatus ?? status.RawStatus };
                case JobControlOutcome.NotSupported notSupported:
                    CancelFailed(_logger, run.Trigger, run.RunId, run.Platform!, run.JobId!, "not supported", notSupported.Reason);
                    return status;
                case JobControlOutcome.Refused refused:
                    CancelFailed(_logger, run.Trigger, run.RunId, run.Platform!, run.JobId!, "refused", refused.Reason);
                    return status;
                default:
                    return status;
            }
        }
        catch (RelayException ex)
        {
            // The failure is in the run's history; the job stays overdue and watched.
            CancelFailed(_logger, run.Trigger, run.RunId, run.Platform!, run.JobId!, ex.Kind.ToString(), ex.Message);
            return status;
        }
    }

    private (WatchUpdate Update, WatchOutcome Outcome) Failed(RunRecord run, Model.TriggerDefinition? trigger, DateTimeOffset now, int checks, RelayException failure, TimeSpan? retryAfter, bool pastHorizon)
    {
        var failures = run.WatchFailures + 1;
        ReadFailed(_logger, run.Trigger, run.RunId, run.Platform!, run.JobId!, failures, failure.Kind, failure.Message);
        return pastHorizon
            ? (new WatchUpdate(WatchTransition.WatchAbandon) { CheckedAt = now, Checks = checks, Failures = failures, Misses = run.WatchMisses, Reason = Abandoned(failure.Message) }, WatchOutcome.Abandoned)
            : (new WatchUpdate(WatchTransition.WatchReschedule)
            {
                CheckedAt = now,
                Checks = checks,
                Failures = failures,
                Reason = failure.Message,
                NextAt = WatchSchedule.AfterFailure(now, failures, trigger, _options, retryAfter),
            }, WatchOutcome.Failed);
    }

    private static bool IsOverdue(RunRecord run, Model.TriggerDefinition? trigger, DateTimeOffset now)
        => run.OverdueAt is null && trigger?.MaxDuration is { } max && now - run.UpdatedAt >= max;

    private string Abandoned(string last) => $"no final state within {_options.Horizon.TotalDays:0.##} days of the start; last seen: {last}";

    private void Report(RunRecord run, string platform, string jobId, WatchUpdate update, WatchOutcome outcome)
    {
        RelayTelemetry.WatchChecks.Add(1, new TagList { { "jobrelay.platform", platform }, { "jobrelay.outcome", Name(outcome) } });
        switch (outcome)
        {
            case WatchOutcome.Ended:
                var state = update.Status!.State;
                var duration = update.FinishedAt - (update.Status.StartedAt ?? run.JobStartedAt ?? run.UpdatedAt);
                RelayTelemetry.JobEnds.Add(1, new TagList { { "jobrelay.trigger", run.Trigger }, { "jobrelay.platform", platform }, { "jobrelay.job.state", state.ToString().ToLowerInvariant() } });
                if (duration is { } d && d >= TimeSpan.Zero)
                {
                    RelayTelemetry.JobDuration.Record(d.TotalSeconds, new TagList { { "jobrelay.trigger", run.Trigger }, { "jobrelay.platform", platform } });
                }

                Ended(_logger, run.Trigger, run.RunId, platform, jobId, state, update.Status.RawStatus);
                break;
            case WatchOutcome.Lost:
                Lost(_logger, run.Trigger, run.RunId, platform, jobId, update.Reason!);
                break;
            case WatchOutcome.Abandoned:
                AbandonedLog(_logger, run.Trigger, run.RunId, platform, jobId, update.Reason!);
                break;
        }
    }

    private static string Name(WatchOutcome outcome) => outcome.ToString().ToLowerInvariant();

    [LoggerMessage(EventId = 2100, Level = LogLevel.Information, Message = "Watched {Due} due jobs: {Checked} checked, {Ended} ended, {Running} running, {Failed} reads failed, {Lost} lost, {Abandoned} abandoned, {Deferred} left for the next tick")]
    private static partial void Checked(ILogger logger, int due, int @checked, int ended, int running, int failed, int lost, int abandoned, int deferred);

    [LoggerMessage(EventId = 2101, Level = LogLevel.Information, Message = "Job {JobId} on {Platform} of run {RunId} (trigger {Trigger}) ended {State} ({RawStatus})")]
    private static partial void Ended(ILogger logger, string trigger, string runId, string platform, string jobId, JobState state, string rawStatus);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Warning, Message = "The status read of job {JobId} on {Platform} of run {RunId} (trigger {Trigger}) failed ({Failures} in a row); the watch reads it again later: {Kind}: {Reason}")]
    private static partial void ReadFailed(ILogger logger, string trigger, string runId, string platform, string jobId, int failures, RelayErrorKind kind, string reason);

    [LoggerMessage(EventId = 2103, Level = LogLevel.Warning, Message = "Job {JobId} on {Platform} of run {RunId} (trigger {Trigger}) is lost: {Reason}")]
    private static partial void Lost(ILogger logger, string trigger, string runId, string platform, string jobId, string reason);

    [LoggerMessage(EventId = 2104, Level = LogLevel.Warning, Message = "Job {JobId} on {Platform} of run {RunId} (trigger {Trigger}) is no longer watched: {Reason}")]
    private static partial void AbandonedLog(ILogger logger, string trigger, string runId, string platform, string jobId, string reason);

    [LoggerMessage(EventId = 2105, Level = LogLevel.Warning, Message = "Job {JobId} on {Platform} of run {RunId} (trigger {Trigger}) runs past its maxDuration of {MaxDuration}")]
    private static partial void Overdue(ILogger logger, string trigger, string runId, string platform, string jobId, TimeSpan maxDuration);

    [LoggerMessage(EventId = 2106, Level = LogLevel.Information, Message = "Another instance took over the watch of run {RunId} (trigger {Trigger}) before this check was written")]
    private static partial void LeaseLost(ILogger logger, string trigger, string runId);

    [LoggerMessage(EventId = 2108, Level = LogLevel.Warning, Message = "Job {JobId} on {Platform} of run {RunId} (trigger {Trigger}) ran past its maxDuration but could not be cancelled: {Kind}: {Reason}")]
    private static partial void CancelFailed(ILogger logger, string trigger, string runId, string platform, string jobId, string kind, string reason);

    [LoggerMessage(EventId = 2107, Level = LogLevel.Warning, Message = "A follower of job {JobId} on {Platform} did not start: {Kind}: {Reason}")]
    private static partial void ChainFailed(ILogger logger, string platform, string jobId, RelayErrorKind kind, string reason);
}

/// <summary>What one check of a watch found.</summary>
internal enum WatchOutcome
{
    Running,
    Ended,
    Failed,
    Lost,
    Abandoned,
}
