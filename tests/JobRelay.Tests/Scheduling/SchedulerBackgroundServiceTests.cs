using JobRelay.Scheduling;
using JobRelay.State;
using JobRelay.State.Sqlite;
using JobRelay.Tests.Support;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using static JobRelay.Tests.Scheduling.CronScheduleTests;
using static JobRelay.Tests.Scheduling.ScheduleDispatcherTests;

namespace JobRelay.Tests.Scheduling;

public class SchedulerBackgroundServiceTests
{
    [Fact]
    public async Task TheLoopTicksEveryIntervalSurvivesAFailingTickAndStopsWithTheHost()
    {
        var logs = new FakeLogCollector();
        using var loggerFactory = logs.CreateFactory();
        var clock = new TimerWatchingClock(Utc("2026-05-05T10:00:00.250"));
        var target = new FakeScheduleTarget(Trigger("every-second", "* * * * * *", TimeZoneInfo.Utc));
        var options = Options.Create(new ScheduleDispatcherOptions());
        var ticker = new ScheduleTicker(
            new ScheduleDispatcher(options, loggerFactory.CreateLogger<ScheduleDispatcher>(), TimeProvider.System),
            target,
            clock,
            options,
            loggerFactory.CreateLogger<ScheduleTicker>());
        var folder = Directory.CreateTempSubdirectory("jobrelay-loop-");
        using var store = new SqliteRelayStore(Path.Combine(folder.FullName, StoreOptions.SqliteFileName), clock, loggerFactory.CreateLogger<SqliteRelayStore>());
        var heartbeat = new SchedulerHeartbeat(
            store,
            Options.Create(new SchedulerHeartbeatOptions { Host = "serve", Interval = TimeSpan.FromSeconds(10) }),
            clock,
            loggerFactory.CreateLogger<SchedulerHeartbeat>());
        using var service = new SchedulerBackgroundService(ticker, heartbeat, clock, options, loggerFactory.CreateLogger<SchedulerBackgroundService>());
        target.FailNextReads(1);

        await service.StartAsync(CancellationToken.None);
        await clock.FirstTimerCreated.WaitAsync(TimeSpan.FromSeconds(10));
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True(await target.NextReadFailedAsync());
        clock.Advance(TimeSpan.FromSeconds(1));
        var first = await target.NextStartAsync();
        var second = await target.NextStartAsync();
        clock.Advance(TimeSpan.FromSeconds(1));
        var third = await target.NextStartAsync();
        await service.StopAsync(CancellationToken.None);

        // The failed tick's second (10:00:01) is covered by the next tick, which starts both occurrences in parallel.
        Assert.Equal([Utc("2026-05-05T10:00:01"), Utc("2026-05-05T10:00:02")], new[] { first.DueAt, second.DueAt }.Order());
        Assert.Equal(Utc("2026-05-05T10:00:03"), third.DueAt);
        Assert.True(service.ExecuteTask!.IsCompletedSuccessfully);
        var failure = Assert.Single(logs.GetSnapshot(), l => l.Id.Id == 1321);
        Assert.Equal(LogLevel.Error, failure.Level);
        Assert.Contains("the catalog could not be read", failure.Exception?.ToString(), StringComparison.Ordinal);
        Assert.Contains(logs.GetSnapshot(), l => l.Id.Id == 1320);
        Assert.Contains(logs.GetSnapshot(), l => l.Id.Id == 1322);

        // Every tick, the failed one too, is offered to the heartbeat; within one sweep interval only the first is written.
        var recorded = await store.FindLastTickAsync(CancellationToken.None);
        Assert.Equal(Utc("2026-05-05T10:00:01.250"), recorded!.At);
        Assert.Equal("serve", recorded.Host);
        Assert.Equal($"{Environment.MachineName}/{Environment.ProcessId}", recorded.Instance);
        store.Dispose();
        folder.Delete(recursive: true);
    }

    /// <summary>A fake clock that says when the service has created its timer, which it does on its own thread after starting.</summary>
    private sealed class TimerWatchingClock(DateTimeOffset start) : FakeTimeProvider(start)
    {
        private readonly TaskCompletionSource _firstTimer = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task FirstTimerCreated => _firstTimer.Task;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = base.CreateTimer(callback, state, dueTime, period);
            _firstTimer.TrySetResult();
            return timer;
        }
    }
}
