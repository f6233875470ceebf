using System.Collections.Concurrent;
using JobRelay.Diagnostics;
using JobRelay.Model;
using JobRelay.Scheduling;
using JobRelay.Tests.Support;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using static JobRelay.Tests.Scheduling.CronScheduleTests;

namespace JobRelay.Tests.Scheduling;

public sealed class ScheduleDispatcherTests : IDisposable
{
    private readonly FakeLogCollector _logs = new();
    private readonly ILoggerFactory _loggerFactory;

    public ScheduleDispatcherTests()
    {
        _loggerFactory = _logs.CreateFactory();
    }

    public void Dispose()
    {
        _loggerFactory.Dispose();
    }

    [Fact]
    public async Task ContiguousWindowsOverADayStartEveryOccurrenceExactlyOnce()
    {
        var dispatcher = CreateDispatcher();
        var triggers = new[]
        {
            Trigger("every-minute", "0 * * * * *", TimeZoneInfo.Utc),
            Trigger("quarter-hourly", "0 */15 * * * *", Prague),
            Trigger("nightly", "0 30 2 * * *", Prague),
            Trigger("every-seven-seconds", "*/7 * * * * *", NewYork),
        };
        var started = new ConcurrentBag<ScheduledOccurrence>();
        var from = Utc("2026-03-29T00:00:00");
        var to = Utc("2026-03-30T00:00:00");

        // Uneven window lengths, so that window ends fall on, between and just after occurrences.
        var lengths = new[] { TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(59), TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(127), TimeSpan.FromMilliseconds(7500) };
        var windows = 0;
        for (var start = from; start < to; windows++)
        {
            var end = start + lengths[windows % lengths.Length];
            end = end < to ? end : to;
            await dispatcher.DispatchAsync(triggers, start, end, Record(started), CancellationToken.None);
            start = end;
        }

        Assert.Equal(started.Count, started.Distinct().Count());
        Assert.Equal(24 * 60, started.Count(o => o.Trigger == "every-minute"));
        Assert.Equal(24 * 4, started.Count(o => o.Trigger == "quarter-hourly"));
        Assert.Equal([Utc("2026-03-29T01:00:00")], started.Where(o => o.Trigger == "nightly").Select(o => o.DueAt));
        Assert.Equal((24 * 60 * 60 / 60) * 9, started.Count(o => o.Trigger == "every-seven-seconds")); // 0,7,...,56 each minute
    }

    [Fact]
    public async Task AnOverlappingWindowDoesNotStartAnOccurrenceAgain()
    {
        var dispatcher = CreateDispatcher();
        var triggers = new[] { Trigger("every-minute", "0 * * * * *", TimeZoneInfo.Utc) };
        var started = new ConcurrentBag<ScheduledOccurrence>();

        var first = await dispatcher.DispatchAsync(triggers, Utc("2026-05-05T10:00:00"), Utc("2026-05-05T10:05:00"), Record(started), CancellationToken.None);
        var second = await dispatcher.DispatchAsync(triggers, Utc("2026-05-05T10:02:30"), Utc("2026-05-05T10:06:00"), Record(started), CancellationToken.None);

        Assert.Equal(5, first.Started);
        Assert.Equal([new ScheduledOccurrence("every-minute", Utc("2026-05-05T10:06:00"))], second.StartedOccurrences);
        Assert.Equal(1, second.Due);
        Assert.Equal(3, second.AlreadyStarted);
        Assert.Equal(6, started.Count);
    }

    [Fact]
    public async Task ADayOfDowntimeFiresAPerMinuteTriggerOnceForTheMissedPartAndLogsWhatWasSkipped()
    {
        var dispatcher = CreateDispatcher();
        var triggers = new[]
        {
            Trigger("every-minute", "0 * * * * *", TimeZoneInfo.Utc),
            Trigger("nightly", "0 0 2 * * *", TimeZoneInfo.Utc),
        };
        var started = new ConcurrentBag<ScheduledOccurrence>();
        var from = Utc("2026-05-04T12:00:00");
        var to = Utc("2026-05-05T12:00:00");

        var report = await dispatcher.DispatchAsync(triggers, from, to, Record(started), CancellationToken.None);

        var everyMinute = started.Where(o => o.Trigger == "every-minute").Select(o => o.DueAt).Order().ToList();
        Assert.Equal(16, everyMinute.Count); // the latest missed (11:45) and the 15 inside the last 15 minutes
        Assert.Equal(Utc("2026-05-05T11:45:00"), everyMinute[0]);
        Assert.Equal(Utc("2026-05-05T12:00:00"), everyMinute[^1]);
        Assert.Equal([Utc("2026-05-05T02:00:00")], started.Where(o => o.Trigger == "nightly").Select(o => o.DueAt));
        Assert.Equal(1440 + 1, report.Due);
        Assert.Equal(1440 - 16, report.SkippedByCatchUp);
        Assert.Equal(17, report.Started);

        var skippedLine = Assert.Single(_logs.GetSnapshot(), l => l.Id.Id == 1302);
        Assert.Equal(LogLevel.Warning, skippedLine.Level);
        Assert.Contains("every-minute", skippedLine.Message, StringComparison.Ordinal);
        Assert.Contains("1424", skippedLine.Message, StringComparison.Ordinal);
        Assert.Contains("2026-05-04T12:01:00", skippedLine.Message, StringComparison.Ordinal);
        Assert.Contains("2026-05-05T11:44:00", skippedLine.Message, StringComparison.Ordinal);
        Assert.Contains("2026-05-05T11:45:00", skippedLine.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AfterACatchUpAnOverlappingLongWindowStartsNothingOld()
    {
        var dispatcher = CreateDispatcher();
        var triggers = new[] { Trigger("every-minute", "0 * * * * *", TimeZoneInfo.Utc) };
        var started = new ConcurrentBag<ScheduledOccurrence>();
        await dispatcher.DispatchAsync(triggers, Utc("2026-05-04T12:00:00"), Utc("2026-05-05T12:00:00"), Record(started), CancellationToken.None);

        var again = await dispatcher.DispatchAsync(triggers, Utc("2026-05-05T10:00:00"), Utc("2026-05-05T12:01:00"), Record(started), CancellationToken.None);

        Assert.Equal([Utc("2026-05-05T12:01:00")], again.StartedOccurrences.Select(o => o.DueAt));
        Assert.Equal(started.Count, started.Distinct().Count());
    }

    [Fact]
    public async Task NoMoreThanMaxParallelismStartsRunAtOnce()
    {
        const int limit = 3;
        var dispatcher = CreateDispatcher(new ScheduleDispatcherOptions { MaxParallelism = limit });
        var triggers = Enumerable.Range(0, 10).Select(i => Trigger($"t{i}", "0 * * * * *", TimeZoneInfo.Utc)).ToList();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var limitReached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = 0;
        var mostRunning = 0;

        async Task Start(ScheduledOccurrence occurrence, CancellationToken cancellationToken)
        {
            var now = Interlocked.Increment(ref running);
            InterlockedMax(ref mostRunning, now);
            if (now == limit)
            {
                limitReached.TrySetResult();
            }

            await gate.Task.WaitAsync(cancellationToken);
            Interlocked.Decrement(ref running);
        }

        var dispatch = dispatcher.DispatchAsync(triggers, Utc("2026-05-05T10:00:00"), Utc("2026-05-05T10:01:00"), Start, CancellationToken.None);
        await limitReached.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await Task.Delay(50); // room for a start beyond the limit to show up, were it launched
        Assert.Equal(limit, Volatile.Read(ref running));
        Assert.False(dispatch.IsCompleted);

        gate.SetResult();
        var report = await dispatch.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(10, report.Started);
        Assert.Equal(limit, mostRunning);
    }

    [Fact]
    public async Task AThrowingStartDoesNotStopTheOthersAndIsReportedWithItsTrigger()
    {
        var dispatcher = CreateDispatcher(new ScheduleDispatcherOptions { MaxParallelism = 1 });
        var triggers = new[]
        {
            Trigger("a", "0 * * * * *", TimeZoneInfo.Utc),
            Trigger("b-sync", "0 * * * * *", TimeZoneInfo.Utc),
            Trigger("c-async", "0 * * * * *", TimeZoneInfo.Utc),
            Trigger("d", "0 * * * * *", TimeZoneInfo.Utc),
        };
        var started = new ConcurrentBag<ScheduledOccurrence>();

        Task Start(ScheduledOccurrence occurrence, CancellationToken cancellationToken) => occurrence.Trigger switch
        {
            "b-sync" => throw new InvalidOperationException("catalog entry vanished"),
            "c-async" => Task.FromException(new RelayException(RelayErrorKind.PlatformUnavailable, "Platform 'kbc' is unavailable")),
            _ => Record(started)(occurrence, cancellationToken),
        };

        var report = await dispatcher.DispatchAsync(triggers, Utc("2026-05-05T10:00:00"), Utc("2026-05-05T10:02:00"), Start, CancellationToken.None);

        Assert.Equal(8, report.Due);
        Assert.Equal(4, report.Started);
        Assert.Equal(4, report.Failed);
        Assert.Equal(["a", "a", "d", "d"], started.Select(o => o.Trigger).Order());
        Assert.Contains(new ScheduleFailure("b-sync", Utc("2026-05-05T10:01:00"), "catalog entry vanished"), report.Failures);
        Assert.Contains(new ScheduleFailure("c-async", Utc("2026-05-05T10:02:00"), "Platform 'kbc' is unavailable"), report.Failures);
        var errors = _logs.GetSnapshot().Where(l => l.Id.Id == 1301).ToList();
        Assert.Equal(4, errors.Count);
        Assert.All(errors, l => Assert.Equal(LogLevel.Error, l.Level));
        Assert.Contains(errors, l => l.Message.Contains("b-sync", StringComparison.Ordinal) && l.Exception!.ToString().Contains("catalog entry vanished", StringComparison.Ordinal));
    }

    [Fact]
    public async Task CancellationStopsLaunchingAndALaterDispatchStartsOnlyWhatWasLeft()
    {
        var dispatcher = CreateDispatcher(new ScheduleDispatcherOptions { MaxParallelism = 1 });
        var triggers = new[] { Trigger("every-minute", "0 * * * * *", TimeZoneInfo.Utc) };
        var started = new ConcurrentBag<ScheduledOccurrence>();
        using var cts = new CancellationTokenSource();
        var from = Utc("2026-05-05T10:00:00");
        var to = Utc("2026-05-05T10:05:00");

        var cancelled = await dispatcher.DispatchAsync(
            triggers,
            from,
            to,
            async (occurrence, cancellationToken) =>
            {
                await Record(started)(occurrence, cancellationToken);
                await cts.CancelAsync();
            },
            cts.Token);
        var resumed = await dispatcher.DispatchAsync(triggers, from, to, Record(started), CancellationToken.None);

        Assert.True(cancelled.Cancelled);
        Assert.Equal(1, cancelled.Started);
        Assert.Equal(4, cancelled.NotLaunched);
        Assert.Contains(_logs.GetSnapshot(), l => l.Id.Id == 1305);
        Assert.Equal(4, resumed.Started);
        Assert.Equal(1, resumed.AlreadyStarted);
        Assert.Equal(5, started.Distinct().Count());
        Assert.Equal(5, started.Count);
    }

    [Fact]
    public async Task AnEmptyOrReversedWindowStartsNothing()
    {
        var dispatcher = CreateDispatcher();
        var triggers = new[] { Trigger("every-second", "* * * * * *", TimeZoneInfo.Utc) };
        var started = new ConcurrentBag<ScheduledOccurrence>();
        var at = Utc("2026-05-05T10:00:00");

        var empty = await dispatcher.DispatchAsync(triggers, at, at, Record(started), CancellationToken.None);
        var reversed = await dispatcher.DispatchAsync(triggers, at, at.AddMinutes(-1), Record(started), CancellationToken.None);

        Assert.Empty(started);
        Assert.Equal(0, empty.Due);
        Assert.Equal(0, reversed.Due);
    }

    [Fact]
    public async Task ATriggerListedTwiceIsRefused()
    {
        var dispatcher = CreateDispatcher();
        var triggers = new[] { Trigger("x", "0 * * * * *", TimeZoneInfo.Utc), Trigger("x", "0 0 * * * *", TimeZoneInfo.Utc) };

        await Assert.ThrowsAsync<ArgumentException>(() =>
            dispatcher.DispatchAsync(triggers, Utc("2026-05-05T10:00:00"), Utc("2026-05-05T10:01:00"), (_, _) => Task.CompletedTask, CancellationToken.None));
    }

    [Fact]
    public async Task TheLagOfAStartIsMeasuredOnTheInjectedClock()
    {
        var clock = new FakeTimeProvider(Utc("2026-05-05T10:01:07"));
        var dispatcher = new ScheduleDispatcher(Options.Create(new ScheduleDispatcherOptions()), NullLogger<ScheduleDispatcher>.Instance, clock);
        using var lag = new MetricCollector<double>(null, RelayTelemetry.MeterName, "jobrelay.scheduler.lag");

        await dispatcher.DispatchAsync(
            [Trigger("lag-probe-minutely", "0 * * * * *", TimeZoneInfo.Utc)], Utc("2026-05-05T10:00:30"), Utc("2026-05-05T10:01:00"), (_, _) => Task.CompletedTask, CancellationToken.None);

        var measured = Assert.Single(lag.GetMeasurementSnapshot(), m => Equals(m.Tags["jobrelay.trigger"], "lag-probe-minutely"));
        Assert.Equal(7, measured.Value);
    }

    [Fact]
    public async Task TheMemoryOfStartedOccurrencesStaysBounded()
    {
        var dispatcher = new ScheduleDispatcher(
            Options.Create(new ScheduleDispatcherOptions { MaxCatchUp = TimeSpan.FromDays(1) }),
            NullLogger<ScheduleDispatcher>.Instance,
            TimeProvider.System);
        var triggers = new[] { Trigger("every-second", "* * * * * *", TimeZoneInfo.Utc) };
        var from = Utc("2026-05-05T00:00:00");

        // Four hours of per-second occurrences, all within the remembered time span, overflow the capacity.
        for (var hour = 0; hour < 4; hour++)
        {
            await dispatcher.DispatchAsync(triggers, from.AddHours(hour), from.AddHours(hour + 1), (_, _) => Task.CompletedTask, CancellationToken.None);
        }

        var recent = await dispatcher.DispatchAsync(triggers, from.AddHours(4).AddMinutes(-1), from.AddHours(4), (_, _) => Task.CompletedTask, CancellationToken.None);
        var forgotten = await dispatcher.DispatchAsync(triggers, from, from.AddMinutes(1), (_, _) => Task.CompletedTask, CancellationToken.None);

        Assert.Equal(60, recent.AlreadyStarted);
        Assert.Equal(60, forgotten.Started);
    }

    internal static ScheduledTrigger Trigger(string name, string expression, TimeZoneInfo zone) => new(name, new CronSchedule(expression, zone));

    internal static Func<ScheduledOccurrence, CancellationToken, Task> Record(ConcurrentBag<ScheduledOccurrence> started) => (occurrence, _) =>
    {
        started.Add(occurrence);
        return Task.CompletedTask;
    };

    private static void InterlockedMax(ref int target, int value)
    {
        var current = Volatile.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    private ScheduleDispatcher CreateDispatcher(ScheduleDispatcherOptions? options = null)
        => new(Options.Create(options ?? new ScheduleDispatcherOptions()), _loggerFactory.CreateLogger<ScheduleDispatcher>(), TimeProvider.System);
}
