using JobRelay.Model;
using JobRelay.Platforms;
using JobRelay.State;
using JobRelay.Tests.Scheduling;

namespace JobRelay.Tests.State;

/// <summary>
/// A conditional write matches only the row it read: once a key's row is released (or purged) and claimed again, a
/// copy or a lease of the old row, at whatever version, never lands on the new one. Each test drives one interleaving
/// of several claimants and a sweep through the real store, with the clock in hand.
/// </summary>
public abstract class RowIdentityContract
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan CallLease = TimeSpan.FromMinutes(1);

    internal ManualTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));

    /// <summary>A store over the suite's shared state; each call gives a separate instance, as another process would have.</summary>
    internal abstract IRelayStore OpenStore();

    [Fact]
    public async Task AStaleSweepCopyOfAReleasedRowDoesNotTakeOverTheNewRowAtTheSameVersion()
    {
        var key = new DeliveryKey(Trigger(), "evt_1");
        await OpenStore().ClaimAsync(Run(key, "run-1"), Lease, CancellationToken.None);
        Clock.Advance(Lease);
        var slow = OpenStore();
        var second = await slow.ClaimAsync(Run(key, "run-2"), Lease, CancellationToken.None);
        Clock.Advance(Lease);
        var sweep = OpenStore();
        var stale = Assert.Single(await sweep.ListDueAsync(Clock.GetUtcNow(), 10, CancellationToken.None));
        var refused = await slow.BeginStartAsync(second.Lease!, CallLease, CancellationToken.None);
        Assert.True(await slow.ReleaseAsync(refused!, CancellationToken.None));
        var third = OpenStore();
        var claim = await third.ClaimAsync(Run(key, "run-3"), Lease, CancellationToken.None);
        var calling = await third.BeginStartAsync(claim.Lease!, CallLease, CancellationToken.None);

        var hijack = await sweep.TakeDueAsync(stale, Lease, CancellationToken.None);

        Assert.Equal(("run-1", 2L, RunState.Claimed), (stale.RunId, stale.Version, stale.State));
        Assert.Equal(("run-3", ClaimStatus.First), (claim.Run.RunId, claim.Status));
        Assert.NotNull(calling);
        Assert.Null(hijack);
        var current = await OpenStore().FindAsync(key, CancellationToken.None);
        Assert.Equal(("run-3", RunState.Starting), (current!.RunId, current.State));
        Assert.True(await third.SettleAsync(calling, Started("job-3"), CancellationToken.None));
    }

    [Fact]
    public async Task AStaleSweepCopyOfAnExpiredCallDoesNotSettleTheNewRowsCallAsUnknown()
    {
        var key = new DeliveryKey(Trigger(), "evt_1");
        var slow = OpenStore();
        var first = await slow.ClaimAsync(Run(key, "run-1"), Lease, CancellationToken.None);
        var slowCall = await slow.BeginStartAsync(first.Lease!, CallLease, CancellationToken.None);
        Clock.Advance(CallLease);
        var sweep = OpenStore();
        var stale = Assert.Single(await sweep.ListDueAsync(Clock.GetUtcNow(), 10, CancellationToken.None));
        Assert.True(await slow.ReleaseAsync(slowCall!, CancellationToken.None));
        var next = OpenStore();
        var claim = await next.ClaimAsync(Run(key, "run-2"), Lease, CancellationToken.None);
        var calling = await next.BeginStartAsync(claim.Lease!, CallLease, CancellationToken.None);

        var expired = await sweep.ExpireStartAsync(stale, CancellationToken.None);

        Assert.Equal(("run-1", 2L, RunState.Starting), (stale.RunId, stale.Version, stale.State));
        Assert.Null(expired);
        Assert.True(await next.SettleAsync(calling!, Started("job-2"), CancellationToken.None));
        var current = await OpenStore().FindAsync(key, CancellationToken.None);
        Assert.Equal(("run-2", RunState.Started, "job-2"), (current!.RunId, current.State, current.JobId));
    }

    [Fact]
    public async Task ALeaseOfAReleasedRowDoesNotStartTheNewRowAtTheSameVersion()
    {
        var key = new DeliveryKey(Trigger(), "evt_1");
        var stalled = await OpenStore().ClaimAsync(Run(key, "run-1"), Lease, CancellationToken.None);
        Clock.Advance(Lease);
        var other = OpenStore();
        var takeover = await other.ClaimAsync(Run(key, "run-2"), Lease, CancellationToken.None);
        var refused = await other.BeginStartAsync(takeover.Lease!, CallLease, CancellationToken.None);
        Assert.True(await other.ReleaseAsync(refused!, CancellationToken.None));
        var third = OpenStore();
        var claim = await third.ClaimAsync(Run(key, "run-3"), Lease, CancellationToken.None);

        var stray = await OpenStore().BeginStartAsync(stalled.Lease!, CallLease, CancellationToken.None);
        var calling = await third.BeginStartAsync(claim.Lease!, CallLease, CancellationToken.None);

        Assert.Equal(1L, stalled.Lease!.Version);
        Assert.Equal(("run-3", 1L), (claim.Run.RunId, claim.Run.Version));
        Assert.Null(stray);
        Assert.NotNull(calling);
        Assert.Equal(2L, calling.Version);
        var current = await OpenStore().FindAsync(key, CancellationToken.None);
        Assert.Equal(("run-3", RunState.Starting), (current!.RunId, current.State));
    }

    [Fact]
    public async Task ALeaseOfAPurgedRowDoesNotReleaseTheNewRowSoARedeliveryIsNotStartedAgain()
    {
        var key = new DeliveryKey(Trigger(), "evt_1");
        var stalled = OpenStore();
        var first = await stalled.ClaimAsync(Run(key, "run-1"), Lease, CancellationToken.None);
        var stalledCall = await stalled.BeginStartAsync(first.Lease!, CallLease, CancellationToken.None);
        Clock.Advance(CallLease);
        var unknown = await OpenStore().ClaimAsync(Run(key, "run-x"), Lease, CancellationToken.None);
        Clock.Advance(TimeSpan.FromDays(8));
        Assert.True(await OpenStore().PurgeAsync(Clock.GetUtcNow() - TimeSpan.FromDays(7), CancellationToken.None) >= 1);
        var next = OpenStore();
        var claim = await next.ClaimAsync(Run(key, "run-2"), Lease, CancellationToken.None);
        var calling = await next.BeginStartAsync(claim.Lease!, CallLease, CancellationToken.None);

        var strayRelease = await OpenStore().ReleaseAsync(stalledCall!, CancellationToken.None);
        var redelivery = await OpenStore().ClaimAsync(Run(key, "run-4"), Lease, CancellationToken.None);

        Assert.Equal(RunState.OutcomeUnknown, unknown.Run.State);
        Assert.Equal(stalledCall!.Version, calling!.Version);
        Assert.False(strayRelease);
        Assert.Equal((ClaimStatus.InFlight, "run-2"), (redelivery.Status, redelivery.Run.RunId));
    }

    private static RunSettlement Started(string jobId) => RunSettlement.Started("kbc", new JobStatus(jobId, JobState.Queued, "created", false), null);

    /// <summary>A trigger name of the test's own.</summary>
    private static string Trigger() => "t" + Guid.NewGuid().ToString("n")[..12];

    private static NewRun Run(ClaimKey key, string runId) => new(key, runId, key.Scope, "webhook", "{}");
}
