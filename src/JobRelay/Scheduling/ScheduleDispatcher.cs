using System.Collections.Concurrent;
using JobRelay.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobRelay.Scheduling;

/// <summary>
/// Starts every occurrence of every trigger's schedule in a window (from, to] once, a bounded number at a time.
/// </summary>
/// <remarks>
/// Contiguous windows neither repeat nor lose an occurrence, since each window is exclusive at its start and inclusive
/// at its end. Overlapping windows do not repeat one either: the dispatcher remembers the occurrences it launched (for
/// twice <see cref="ScheduleDispatcherOptions.MaxCatchUp"/>, at least an hour, and at most
/// <see cref="RememberedCapacity"/> of them). An occurrence counts as started once its start is launched, whether the
/// start then succeeds or throws: a start that may have reached the platform is never sent again.
/// <para>
/// "Once" is the store's rule: each occurrence is claimed under its <c>OccurrenceKey</c>, which holds across instances
/// and restarts. This memory only spares one process the claims it already made when its windows overlap (a timer
/// that fires late, a catch-up), and the Functions timer's singleton lock only spares instances a tick they would
/// lose to the claim anyway; neither is needed for correctness.
/// </para>
/// </remarks>
public sealed class ScheduleDispatcher
{
    /// <summary>The most occurrences remembered against overlapping windows; the oldest are forgotten first.</summary>
    public const int RememberedCapacity = 10_000;

    private static readonly Comparer<ScheduledOccurrence> ByDueAtThenTrigger = Comparer<ScheduledOccurrence>.Create((a, b) =>
    {
        var byTime = a.DueAt.UtcTicks.CompareTo(b.DueAt.UtcTicks);
        return byTime != 0 ? byTime : string.CompareOrdinal(a.Trigger, b.Trigger);
    });

    private readonly Lock _gate = new();
    private readonly HashSet<ScheduledOccurrence> _launched = [];
    private readonly SortedSet<ScheduledOccurrence> _launchedByTime = new(ByDueAtThenTrigger);
    private readonly IOptions<ScheduleDispatcherOptions> _options;
    private readonly ILogger<ScheduleDispatcher> _logger;
    private readonly TimeProvider _clock;
    private DateTimeOffset _latestWindowEnd = DateTimeOffset.MinValue;

    public ScheduleDispatcher(IOptions<ScheduleDispatcherOptions> options, ILogger<ScheduleDispatcher> logger, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentNullException.ThrowIfNull(clock);
        _options = options;
        _logger = logger;
        _clock = clock;
    }

    /// <summary>
    /// Starts each occurrence due in (<paramref name="fromExclusive"/>, <paramref name="toInclusive"/>] through
    /// <paramref name="start"/>, at most <see cref="ScheduleDispatcherOptions.MaxParallelism"/> at once, in due order.
    /// A trigger's occurrences older than <c>toInclusive - MaxCatchUp</c> are collapsed into their latest one. A start
    /// that throws is logged and reported; the others go on. Cancellation stops launching starts, waits for those
    /// running, and returns a report marked <see cref="DispatchReport.Cancelled"/>.
    /// </summary>
    public async Task<DispatchReport> DispatchAsync(
        IReadOnlyList<ScheduledTrigger> triggers,
        DateTimeOffset fromExclusive,
        DateTimeOffset toInclusive,
        Func<ScheduledOccurrence, CancellationToken, Task> start,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(triggers);
        ArgumentNullException.ThrowIfNull(start);
        var from = fromExclusive.ToUniversalTime();
        var to = toInclusive.ToUniversalTime();
        if (to <= from || triggers.Count == 0)
        {
            return DispatchReport.Empty(from, to);
        }

        var options = _options.Value;
        var plan = Plan(triggers, from, to, options.MaxCatchUp);
        var due = plan.Launches.Count + plan.SkippedByCatchUp;
        var alreadyStarted = plan.AlreadyStarted;

        var started = new ConcurrentQueue<ScheduledOccurrence>();
        var failures = new ConcurrentQueue<ScheduleFailure>();
        var running = new List<Task>();
        var cancelled = false;
        using (var slots = new SemaphoreSlim(options.MaxParallelism, options.MaxParallelism))
        {
            foreach (var occurrence in plan.Launches)
            {
                try
                {
                    await slots.WaitAsync(cancellationToken);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    cancelled = true;
                    break;
                }

                if (cancellationToken.IsCancellationRequested)
                {
                    // A slot freed up in the same moment as the cancellation arrived.
                    slots.Release();
                    cancelled = true;
                    break;
                }

                if (!TryClaim(occurrence))
                {
                    // A concurrent dispatch of an overlapping window got to it first.
                    slots.Release();
                    due--;
                    alreadyStarted++;
                    continue;
                }

                running.Add(Task.Run(() => StartOneAsync(occurrence, start, slots, started, failures, cancellationToken), CancellationToken.None));
            }

            await Task.WhenAll(running);
        }

        Forget(to, options.MaxCatchUp);
        var report = new DispatchReport
        {
            FromExclusive = from,
            ToInclusive = to,
            Due = due,
            AlreadyStarted = alreadyStarted,
            SkippedByCatchUp = plan.SkippedByCatchUp,
            Cancelled = cancelled,
            StartedOccurrences = [.. started.Order(ByDueAtThenTrigger)],
            Failures = [.. failures.OrderBy(f => f.DueAt).ThenBy(f => f.Trigger, StringComparer.Ordinal)],
        };

        if (report.Due > 0 || report.AlreadyStarted > 0)
        {
            SchedulingLog.Dispatched(_logger, from, to, report.Due, report.Started, report.Failed, report.SkippedByCatchUp, report.AlreadyStarted);
        }

        if (cancelled)
        {
            SchedulingLog.DispatchCancelled(_logger, from, to, report.NotLaunched);
        }

        return report;
    }

    private async Task StartOneAsync(
        ScheduledOccurrence occurrence,
        Func<ScheduledOccurrence, CancellationToken, Task> start,
        SemaphoreSlim slots,
        ConcurrentQueue<ScheduledOccurrence> started,
        ConcurrentQueue<ScheduleFailure> failures,
        CancellationToken cancellationToken)
    {
        try
        {
            RelayTelemetry.SchedulerLag.Record(
                Math.Max(0, (_clock.GetUtcNow() - occurrence.DueAt).TotalSeconds),
                new KeyValuePair<string, object?>("jobrelay.trigger", occurrence.Trigger));
            await start(occurrence, cancellationToken);
            started.Enqueue(occurrence);
            SchedulingLog.Started(_logger, occurrence.Trigger, occurrence.DueAt);
        }
#pragma warning disable CA1031 // one trigger's failure, whatever it is, must not stop the others
        catch (Exception ex)
#pragma warning restore CA1031
        {
            failures.Enqueue(new ScheduleFailure(occurrence.Trigger, occurrence.DueAt, ex.Message));
            SchedulingLog.StartFailed(_logger, ex, occurrence.Trigger, occurrence.DueAt);
        }
        finally
        {
            slots.Release();
        }
    }

    private DispatchPlan Plan(IReadOnlyList<ScheduledTrigger> triggers, DateTimeOffset from, DateTimeOffset to, TimeSpan maxCatchUp)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var launches = new List<ScheduledOccurrence>();
        var alreadyStarted = 0;
        var skippedByCatchUp = 0;
        var catchUpBefore = to - maxCatchUp;
        foreach (var trigger in triggers)
        {
            ArgumentNullException.ThrowIfNull(trigger, nameof(triggers));
            if (!names.Add(trigger.Name))
            {
                throw new ArgumentException($"Trigger '{trigger.Name}' is listed twice.", nameof(triggers));
            }

            var missed = new MissedOccurrences();
            lock (_gate)
            {
                foreach (var dueAt in trigger.Schedule.GetOccurrences(from, to))
                {
                    var occurrence = new ScheduledOccurrence(trigger.Name, dueAt);
                    var launched = _launched.Contains(occurrence);
                    if (dueAt <= catchUpBefore)
                    {
                        missed.Add(occurrence, launched);
                    }

                    if (launched)
                    {
                        alreadyStarted++;
                    }
                    else if (dueAt > catchUpBefore)
                    {
                        launches.Add(occurrence);
                    }
                }
            }

            if (missed.NotLaunched == 0)
            {
                continue;
            }

            if (missed.LatestWasLaunched)
            {
                skippedByCatchUp += missed.NotLaunched;
                SchedulingLog.CatchUpSkippedAfterEarlierStart(
                    _logger, trigger.Name, missed.NotLaunched, missed.FirstNotLaunched!.DueAt, missed.LatestNotLaunched!.DueAt, maxCatchUp, to);
            }
            else
            {
                launches.Add(missed.LatestNotLaunched!);
                skippedByCatchUp += missed.NotLaunched - 1;
                if (missed.NotLaunched > 1)
                {
                    SchedulingLog.CatchUpSkipped(
                        _logger, trigger.Name, missed.NotLaunched - 1, missed.FirstNotLaunched!.DueAt, missed.SecondLatestNotLaunched!.DueAt, maxCatchUp, to, missed.LatestNotLaunched!.DueAt);
                }
            }
        }

        launches.Sort(ByDueAtThenTrigger);
        return new DispatchPlan(launches, alreadyStarted, skippedByCatchUp);
    }

    private bool TryClaim(ScheduledOccurrence occurrence)
    {
        lock (_gate)
        {
            if (!_launched.Add(occurrence))
            {
                return false;
            }

            _launchedByTime.Add(occurrence);
            return true;
        }
    }

    private void Forget(DateTimeOffset windowEnd, TimeSpan maxCatchUp)
    {
        var rememberFor = maxCatchUp * 2 > TimeSpan.FromHours(1) ? maxCatchUp * 2 : TimeSpan.FromHours(1);
        lock (_gate)
        {
            if (windowEnd > _latestWindowEnd)
            {
                _latestWindowEnd = windowEnd;
            }

            var forgetBefore = _latestWindowEnd - rememberFor;
            while (_launchedByTime.Count > 0 && (_launchedByTime.Count > RememberedCapacity || _launchedByTime.Min!.DueAt < forgetBefore))
            {
                var oldest = _launchedByTime.Min!;
                _launchedByTime.Remove(oldest);
                _launched.Remove(oldest);
            }
        }
    }

    private sealed record DispatchPlan(List<ScheduledOccurrence> Launches, int AlreadyStarted, int SkippedByCatchUp);

    /// <summary>A trigger's occurrences older than the catch-up cap, kept as counts and the few that matter.</summary>
    private sealed class MissedOccurrences
    {
        public int NotLaunched { get; private set; }

        public ScheduledOccurrence? FirstNotLaunched { get; private set; }

        public ScheduledOccurrence? LatestNotLaunched { get; private set; }

        public ScheduledOccurrence? SecondLatestNotLaunched { get; private set; }

        /// <summary>Whether the latest missed occurrence was started by an earlier window.</summary>
        public bool LatestWasLaunched { get; private set; }

        public void Add(ScheduledOccurrence occurrence, bool launched)
        {
            LatestWasLaunched = launched;
            if (launched)
            {
                return;
            }

            NotLaunched++;
            FirstNotLaunched ??= occurrence;
            SecondLatestNotLaunched = LatestNotLaunched;
            LatestNotLaunched = occurrence;
        }
    }
}
