using JobRelay.Scheduling;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using static JobRelay.Tests.Scheduling.CronScheduleTests;
using static JobRelay.Tests.Scheduling.ScheduleDispatcherTests;

namespace JobRelay.Tests.Scheduling;

public class ScheduleTickerTests
{
    [Fact]
    public async Task TheFirstTickCoversOneTickIntervalEndingNowAndLaterTicksFollowOnWithoutGaps()
    {
        var clock = new FakeTimeProvider(Utc("2026-05-05T10:00:00.500"));
        var target = new FakeScheduleTarget(Trigger("every-second", "* * * * * *", TimeZoneInfo.Utc));
        var ticker = CreateTicker(clock, target);

        var first = await ticker.TickAsync(null, CancellationToken.None);
        clock.Advance(TimeSpan.FromSeconds(1));
        await ticker.TickAsync(null, CancellationToken.None);
        clock.Advance(TimeSpan.FromSeconds(10));
        await ticker.TickAsync(null, CancellationToken.None);

        Assert.Equal(Utc("2026-05-05T09:59:59.500"), first.FromExclusive);
        Assert.Equal(Utc("2026-05-05T10:00:00.500"), first.ToInclusive);
        Assert.Equal(
            Enumerable.Range(0, 12).Select(s => Utc("2026-05-05T10:00:00").AddSeconds(s)),
            target.Started.Select(o => o.DueAt).Order());
        Assert.Equal(Utc("2026-05-05T10:00:11.500"), ticker.LastTick);
    }

    [Fact]
    public async Task TheLaterOfTheHostsLastTickAndItsOwnStartsTheWindow()
    {
        var clock = new FakeTimeProvider(Utc("2026-05-05T10:01:00.040"));
        var target = new FakeScheduleTarget(Trigger("every-minute", "0 * * * * *", TimeZoneInfo.Utc));
        var ticker = CreateTicker(clock, target, TimeSpan.FromMinutes(1));

        // The timer reports the scheduled time of its last run, a little before that run's real "now".
        await ticker.TickAsync(Utc("2026-05-05T10:00:00"), CancellationToken.None);
        clock.Advance(TimeSpan.FromSeconds(59.99));
        var second = await ticker.TickAsync(Utc("2026-05-05T10:01:00"), CancellationToken.None);

        // Another instance ran the timer meanwhile: its last run wins over this process's memory.
        clock.Advance(TimeSpan.FromMinutes(3));
        var third = await ticker.TickAsync(Utc("2026-05-05T10:04:00"), CancellationToken.None);

        Assert.Equal(Utc("2026-05-05T10:01:00.040"), second.FromExclusive);
        Assert.Equal(Utc("2026-05-05T10:04:00"), third.FromExclusive);
        Assert.Equal(
            [Utc("2026-05-05T10:01:00"), Utc("2026-05-05T10:02:00"), Utc("2026-05-05T10:05:00")],
            target.Started.Select(o => o.DueAt).Order());
    }

    [Fact]
    public async Task TheTimersLastRunIsReadInTheHostsLocalZoneWhenItsKindIsUnspecified()
    {
        var clock = new FakeTimeProvider(Utc("2026-05-05T10:01:00.010"));
        clock.SetLocalTimeZone(Prague);
        var target = new FakeScheduleTarget(Trigger("every-minute", "0 * * * * *", TimeZoneInfo.Utc));
        var ticker = CreateTicker(clock, target, TimeSpan.FromMinutes(1));

        var report = await ticker.TickFromTimerAsync(new DateTime(2026, 5, 5, 11, 58, 0, DateTimeKind.Unspecified), CancellationToken.None);

        Assert.Equal(Utc("2026-05-05T09:58:00"), report.FromExclusive);
        Assert.Equal([Utc("2026-05-05T09:59:00"), Utc("2026-05-05T10:00:00"), Utc("2026-05-05T10:01:00")], target.Started.Select(o => o.DueAt).Order());
    }

    [Fact]
    public async Task ATimerWithoutAStatusYetIsTreatedAsAFirstRun()
    {
        var clock = new FakeTimeProvider(Utc("2026-05-05T10:01:00.010"));
        var target = new FakeScheduleTarget(Trigger("every-minute", "0 * * * * *", TimeZoneInfo.Utc));
        var ticker = CreateTicker(clock, target, TimeSpan.FromMinutes(1));

        var report = await ticker.TickFromTimerAsync(default(DateTime), CancellationToken.None);

        Assert.Equal(Utc("2026-05-05T10:00:00.010"), report.FromExclusive);
        Assert.Equal([Utc("2026-05-05T10:01:00")], target.Started.Select(o => o.DueAt).Order());
    }

    [Fact]
    public async Task AFailedTickIsCoveredByTheNextOne()
    {
        var clock = new FakeTimeProvider(Utc("2026-05-05T10:00:00.500"));
        var target = new FakeScheduleTarget(Trigger("every-second", "* * * * * *", TimeZoneInfo.Utc));
        var ticker = CreateTicker(clock, target);
        target.FailNextReads(1);

        await Assert.ThrowsAsync<InvalidOperationException>(() => ticker.TickAsync(null, CancellationToken.None));
        clock.Advance(TimeSpan.FromSeconds(1));
        await ticker.TickAsync(null, CancellationToken.None);

        Assert.Equal([Utc("2026-05-05T10:00:00"), Utc("2026-05-05T10:00:01")], target.Started.Select(o => o.DueAt).Order());
    }

    [Fact]
    public async Task ACancelledTickDoesNotMoveTheWindowOn()
    {
        var clock = new FakeTimeProvider(Utc("2026-05-05T10:00:00.500"));
        var target = new FakeScheduleTarget(Trigger("every-second", "* * * * * *", TimeZoneInfo.Utc));
        var ticker = CreateTicker(clock, target);
        await ticker.TickAsync(null, CancellationToken.None);
        clock.Advance(TimeSpan.FromSeconds(3));

        var cancelled = await ticker.TickAsync(null, new CancellationToken(canceled: true));
        var resumed = await ticker.TickAsync(null, CancellationToken.None);

        Assert.True(cancelled.Cancelled);
        Assert.Equal(3, cancelled.NotLaunched);
        Assert.Equal(Utc("2026-05-05T10:00:00.500"), resumed.FromExclusive);
        Assert.Equal(4, target.Started.Count);
    }

    [Fact]
    public async Task AHostLastTickNotBeforeNowDispatchesNothing()
    {
        var clock = new FakeTimeProvider(Utc("2026-05-05T10:00:00"));
        var target = new FakeScheduleTarget(Trigger("every-second", "* * * * * *", TimeZoneInfo.Utc));
        var ticker = CreateTicker(clock, target);

        var report = await ticker.TickAsync(Utc("2026-05-05T10:00:05"), CancellationToken.None);

        Assert.Equal(0, report.Due);
        Assert.Empty(target.Started);
    }

    private static ScheduleTicker CreateTicker(TimeProvider clock, IScheduleTarget target, TimeSpan? tickInterval = null)
    {
        var options = Options.Create(new ScheduleDispatcherOptions { TickInterval = tickInterval ?? TimeSpan.FromSeconds(1) });
        var dispatcher = new ScheduleDispatcher(options, NullLogger<ScheduleDispatcher>.Instance, TimeProvider.System);
        return new ScheduleTicker(dispatcher, target, clock, options, NullLogger<ScheduleTicker>.Instance);
    }
}
