using System.Collections.Concurrent;
using JobRelay.Model;
using JobRelay.Platforms;
using JobRelay.State;
using Microsoft.Extensions.Time.Testing;

namespace JobRelay.Tests.State;

/// <summary>
/// The guarantees every <see cref="IRelayStore"/> makes, run against each implementation: the first claim wins, a
/// duplicate gets the original outcome, an abandoned claim is taken over after its lease, a claim whose platform call
/// may have happened never is, and each pending start goes to exactly one taker.
/// </summary>
public abstract class RelayStoreContract
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    internal FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));

    /// <summary>A store over the suite's shared state; each call gives a separate instance, as another process would have.</summary>
    internal abstract IRelayStore OpenStore();

    [Fact]
    public async Task TheFirstClaimWinsAndADuplicateGetsTheSettledOutcome()
    {
        var store = OpenStore();
        var key = new DeliveryKey(Trigger(), "evt_1");

        var first = await store.ClaimAsync(Run(key, "run-a"), Lease, CancellationToken.None);
        var calling = await store.BeginStartAsync(first.Lease!, TimeSpan.FromMinutes(1), CancellationToken.None);
        var settled = await store.SettleAsync(calling!, RunSettlement.Started("kbc", new JobStatus("job-7", JobState.Queued, "created", false) { Url = new Uri("https://jobs.example/7") }, null), CancellationToken.None);
        var duplicate = await store.ClaimAsync(Run(key, "run-b"), Lease, CancellationToken.None);

        Assert.Equal(ClaimStatus.First, first.Status);
        Assert.Equal(RunState.Claimed, first.Run.State);
        Assert.True(settled);
        Assert.Equal(ClaimStatus.Settled, duplicate.Status);
        Assert.Null(duplicate.Lease);
        Assert.Equal("run-a", duplicate.Run.RunId);
        Assert.Equal(RunState.Started, duplicate.Run.State);
        Assert.Equal("kbc", duplicate.Run.Platform);
        Assert.Equal("job-7", duplicate.Run.JobId);
        Assert.Equal(JobState.Queued, duplicate.Run.JobState);
        Assert.Equal("created", duplicate.Run.RawStatus);
        Assert.Equal(new Uri("https://jobs.example/7"), duplicate.Run.JobUrl);
        Assert.Equal(1, duplicate.Run.Attempts);
        Assert.Equal("""{"sha":"abc"}""", duplicate.Run.Arguments);
        Assert.Equal("webhook", duplicate.Run.Origin);
    }

    [Fact]
    public async Task AClaimInFlightIsReportedAsSuchToEveryOtherClaimant()
    {
        var key = new DeliveryKey(Trigger(), "evt_1");
        var first = await OpenStore().ClaimAsync(Run(key, "run-a"), Lease, CancellationToken.None);

        var second = await OpenStore().ClaimAsync(Run(key, "run-b"), Lease, CancellationToken.None);

        Assert.Equal(ClaimStatus.First, first.Status);
        Assert.Equal(ClaimStatus.InFlight, second.Status);
        Assert.Equal("run-a", second.Run.RunId);
        Assert.Null(second.Lease);
    }

    [Fact]
    public async Task ConcurrentClaimsFromManyTasksAndTwoStoreInstancesYieldExactlyOneFirst()
    {
        var stores = new[] { OpenStore(), OpenStore() };
        var trigger = Trigger();
        var results = new ConcurrentBag<(string Key, ClaimStatus Status)>();

        await Parallel.ForEachAsync(Enumerable.Range(0, 200), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, ct) =>
        {
            var key = new DeliveryKey(trigger, $"evt_{i % 20}");
            var claim = await stores[i % 2].ClaimAsync(Run(key, $"run-{i}"), Lease, ct);
            results.Add((key.DeliveryId, claim.Status));
        });

        Assert.Equal(200, results.Count);
        Assert.All(results.GroupBy(r => r.Key), g => Assert.Single(g, r => r.Status == ClaimStatus.First));
        Assert.Equal(20, results.Count(r => r.Status == ClaimStatus.First));
    }

    [Fact]
    public async Task AClaimAbandonedBeforeThePlatformCallIsTakenOverOnlyAfterItsLeaseExpires()
    {
        var store = OpenStore();
        var key = new DeliveryKey(Trigger(), "evt_1");
        var abandoned = await store.ClaimAsync(Run(key, "run-a"), Lease, CancellationToken.None);

        Clock.Advance(Lease - TimeSpan.FromSeconds(1));
        var tooEarly = await OpenStore().ClaimAsync(Run(key, "run-b"), Lease, CancellationToken.None);
        Clock.Advance(TimeSpan.FromSeconds(1));
        var takeover = await OpenStore().ClaimAsync(Run(key, "run-b"), Lease, CancellationToken.None);

        Assert.Equal(ClaimStatus.InFlight, tooEarly.Status);
        Assert.Equal(ClaimStatus.First, takeover.Status);
        Assert.Equal("run-a", takeover.Run.RunId);
        Assert.Null(await store.BeginStartAsync(abandoned.Lease!, Lease, CancellationToken.None));
        Assert.False(await store.SettleAsync(abandoned.Lease!, RunSettlement.Refused("late"), CancellationToken.None));
        Assert.NotNull(await store.BeginStartAsync(takeover.Lease!, Lease, CancellationToken.None));
    }

    [Fact]
    public async Task AClaimWhosePlatformCallMayHaveHappenedIsNeverTakenOverButSettlesAsUnknownWhenItsLeaseExpires()
    {
        var store = OpenStore();
        var key = new DeliveryKey(Trigger(), "evt_1");
        var claim = await store.ClaimAsync(Run(key, "run-a"), Lease, CancellationToken.None);
        var calling = await store.BeginStartAsync(claim.Lease!, TimeSpan.FromMinutes(5), CancellationToken.None);

        Clock.Advance(Lease * 2);
        var during = await OpenStore().ClaimAsync(Run(key, "run-b"), Lease, CancellationToken.None);
        Clock.Advance(TimeSpan.FromMinutes(5));
        var after = await OpenStore().ClaimAsync(Run(key, "run-b"), Lease, CancellationToken.None);
        var again = await OpenStore().ClaimAsync(Run(key, "run-c"), Lease, CancellationToken.None);

        Assert.Equal(ClaimStatus.InFlight, during.Status);
        Assert.Equal(ClaimStatus.Settled, after.Status);
        Assert.Equal(RunState.OutcomeUnknown, after.Run.State);
        Assert.Equal("run-a", after.Run.RunId);
        Assert.Equal(ClaimStatus.Settled, again.Status);
        Assert.Equal(RunState.OutcomeUnknown, again.Run.State);
        Assert.False(await store.SettleAsync(calling!, RunSettlement.Started("kbc", new JobStatus("job-1", JobState.Queued, "created", false), null), CancellationToken.None));
        Assert.Empty(await store.ListDueAsync(Clock.GetUtcNow() + TimeSpan.FromDays(1), 10, CancellationToken.None));
    }

    [Fact]
    public async Task AReleasedClaimCanBeClaimedAgainAtOnce()
    {
        var store = OpenStore();
        var key = new ChainEventKey("kbc", "job-9", Trigger());
        var claim = await store.ClaimAsync(Run(key, "run-a"), Lease, CancellationToken.None);
        var calling = await store.BeginStartAsync(claim.Lease!, Lease, CancellationToken.None);

        Assert.True(await store.ReleaseAsync(calling!, CancellationToken.None));
        var retry = await store.ClaimAsync(Run(key, "run-b"), Lease, CancellationToken.None);

        Assert.Equal(ClaimStatus.First, retry.Status);
        Assert.Equal("run-b", retry.Run.RunId);
        Assert.Null(await store.FindRunAsync("run-a", CancellationToken.None));
    }

    [Fact]
    public async Task AnIgnoredDeliveryIsSettledByItsClaimAndItsDuplicatesAreToldWhy()
    {
        var store = OpenStore();
        var key = new DeliveryKey(Trigger(), "evt_1");

        var first = await store.ClaimAsync(Run(key, "run-a") with { IgnoredReason = "event type ping is not subscribed" }, Lease, CancellationToken.None);
        var duplicate = await store.ClaimAsync(Run(key, "run-b"), Lease, CancellationToken.None);

        Assert.Equal(ClaimStatus.First, first.Status);
        Assert.Null(first.Lease);
        Assert.Equal(ClaimStatus.Settled, duplicate.Status);
        Assert.Equal(RunState.Ignored, duplicate.Run.State);
        Assert.Equal("event type ping is not subscribed", duplicate.Run.Reason);
    }

    [Fact]
    public async Task TheEyeJobSecretsAreKeptWithTheirRunAndFoundByJobOnly()
    {
        var key = new DeliveryKey(Trigger(), "evt_1");
        var store = OpenStore();
        var claim = await store.ClaimAsync(Run(key, "run-a") with { ParentRunId = "run-parent" }, Lease, CancellationToken.None);
        var calling = await store.BeginStartAsync(claim.Lease!, Lease, CancellationToken.None);
        await store.SettleAsync(calling!, RunSettlement.Started("eye", new JobStatus("64f0001", JobState.Running, "ready/in_progress", false), "job-secret-77"), CancellationToken.None);

        var reopened = OpenStore();
        var run = await reopened.FindRunAsync("run-a", CancellationToken.None);

        Assert.Equal("job-secret-77", await reopened.FindJobSecretAsync("eye", "64f0001", CancellationToken.None));
        Assert.Null(await reopened.FindJobSecretAsync("other", "64f0001", CancellationToken.None));
        Assert.NotNull(run);
        Assert.Equal(key, run.Key);
        Assert.Equal("run-parent", run.ParentRunId);
        Assert.DoesNotContain("job-secret-77", run.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AStartedRunIsFoundByItsPlatformAndJobAndNoOtherJobFindsIt()
    {
        var key = new DeliveryKey(Trigger(), "evt_job");
        var store = OpenStore();
        var claim = await store.ClaimAsync(Run(key, "run-job"), Lease, CancellationToken.None);
        var calling = await store.BeginStartAsync(claim.Lease!, Lease, CancellationToken.None);
        await store.SettleAsync(calling!, RunSettlement.Started("kbc", new JobStatus("990001", JobState.Queued, "created", false), null), CancellationToken.None);

        var reopened = OpenStore();
        var found = await reopened.FindRunByJobAsync("kbc", "990001", CancellationToken.None);

        Assert.NotNull(found);
        Assert.Equal("run-job", found.RunId);
        Assert.Equal(RunState.Started, found.State);
        Assert.Null(await reopened.FindRunByJobAsync("kbc", "990002", CancellationToken.None));
        Assert.Null(await reopened.FindRunByJobAsync("eye", "990001", CancellationToken.None));
        Assert.Null(await reopened.FindJobSecretAsync("kbc", "990001", CancellationToken.None));
    }

    [Fact]
    public async Task APendingStartIsListedWhenDueAndTakenByExactlyOneOfManyTakers()
    {
        var store = OpenStore();
        var key = new OccurrenceKey(Trigger(), new DateTimeOffset(2026, 12, 1, 11, 0, 0, TimeSpan.Zero));
        var claim = await store.ClaimAsync(Run(key, "run-a"), Lease, CancellationToken.None);
        var calling = await store.BeginStartAsync(claim.Lease!, Lease, CancellationToken.None);
        var now = Clock.GetUtcNow();
        await store.SettleAsync(calling!, RunSettlement.Pending("connection refused", now + TimeSpan.FromSeconds(10), now + TimeSpan.FromHours(1)), CancellationToken.None);

        var early = await store.ListDueAsync(now + TimeSpan.FromSeconds(9), 10, CancellationToken.None);
        Clock.Advance(TimeSpan.FromSeconds(10));
        var due = Assert.Single(await store.ListDueAsync(Clock.GetUtcNow(), 10, CancellationToken.None));
        var takers = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => OpenStore().TakeDueAsync(due, Lease, CancellationToken.None)));
        var duplicate = await OpenStore().ClaimAsync(Run(key, "run-b"), Lease, CancellationToken.None);

        Assert.Empty(early);
        Assert.Equal(RunState.Pending, due.State);
        Assert.Equal("connection refused", due.Reason);
        Assert.Equal(now + TimeSpan.FromHours(1), due.Deadline);
        Assert.Equal(key, due.Key);
        Assert.Single(takers, t => t is not null);
        Assert.Equal(ClaimStatus.InFlight, duplicate.Status);
    }

    [Fact]
    public async Task AClaimAbandonedBeforeItsCallIsListedForTheSweepOnceItsLeaseExpires()
    {
        var store = OpenStore();
        var key = new OccurrenceKey(Trigger(), new DateTimeOffset(2026, 12, 1, 11, 30, 0, TimeSpan.Zero));
        await store.ClaimAsync(Run(key, "run-a"), Lease, CancellationToken.None);

        var before = await store.ListDueAsync(Clock.GetUtcNow(), 10, CancellationToken.None);
        Clock.Advance(Lease);
        var due = Assert.Single(await store.ListDueAsync(Clock.GetUtcNow(), 10, CancellationToken.None));
        var taken = await store.TakeDueAsync(due, Lease, CancellationToken.None);

        Assert.Empty(before);
        Assert.Equal(RunState.Claimed, due.State);
        Assert.NotNull(taken);
        Assert.Null(await OpenStore().TakeDueAsync(due, Lease, CancellationToken.None));
    }

    [Fact]
    public async Task PurgeDeletesSettledRunsOlderThanTheWindowAndKeepsTheRest()
    {
        var store = OpenStore();
        var trigger = Trigger();
        var old = await store.ClaimAsync(Run(new DeliveryKey(trigger, "old"), "run-old") with { IgnoredReason = "filtered" }, Lease, CancellationToken.None);
        var pendingClaim = await store.ClaimAsync(Run(new DeliveryKey(trigger, "pending"), "run-pending"), Lease, CancellationToken.None);
        var calling = await store.BeginStartAsync(pendingClaim.Lease!, Lease, CancellationToken.None);
        await store.SettleAsync(calling!, RunSettlement.Pending("503", Clock.GetUtcNow() + TimeSpan.FromDays(3), Clock.GetUtcNow() + TimeSpan.FromDays(4)), CancellationToken.None);
        Clock.Advance(TimeSpan.FromDays(2));
        await store.ClaimAsync(Run(new DeliveryKey(trigger, "new"), "run-new") with { IgnoredReason = "filtered" }, Lease, CancellationToken.None);

        var purged = await store.PurgeAsync(Clock.GetUtcNow() - TimeSpan.FromDays(1), CancellationToken.None);

        Assert.True(purged >= 1);
        Assert.Equal("run-old", old.Run.RunId);
        Assert.Null(await store.FindAsync(new DeliveryKey(trigger, "old"), CancellationToken.None));
        Assert.Null(await store.FindRunAsync("run-old", CancellationToken.None));
        Assert.NotNull(await store.FindAsync(new DeliveryKey(trigger, "pending"), CancellationToken.None));
        Assert.NotNull(await store.FindAsync(new DeliveryKey(trigger, "new"), CancellationToken.None));
    }

    [Fact]
    public async Task KeysOfEveryKindAndWithAwkwardCharactersNeitherCollideNorChange()
    {
        var store = OpenStore();
        var trigger = Trigger();
        ClaimKey[] keys =
        [
            new DeliveryKey(trigger, "a/b#c?d%2F\\e"),
            new DeliveryKey(trigger, "a%2Fb#c?d%2F\\e"),
            new OccurrenceKey(trigger, new DateTimeOffset(2026, 12, 1, 13, 0, 0, TimeSpan.FromHours(1))),
            new ChainEventKey("kbc", "a/b", trigger),
            new RequestKey(trigger + "-request"),
        ];

        foreach (var (key, i) in keys.Select((k, i) => (k, i)))
        {
            Assert.Equal(ClaimStatus.First, (await store.ClaimAsync(Run(key, $"run-{i}"), Lease, CancellationToken.None)).Status);
        }

        foreach (var (key, i) in keys.Select((k, i) => (k, i)))
        {
            var found = await OpenStore().FindAsync(key, CancellationToken.None);
            Assert.Equal(key, found?.Key);
            Assert.Equal($"run-{i}", found?.RunId);
        }
    }

    [Fact]
    public async Task RunsAreListedNewestFirstPageByPageAndEveryFilterNarrowsThem()
    {
        var store = OpenStore();
        var trigger = Trigger();
        var other = Trigger();
        var start = Clock.GetUtcNow();
        for (var i = 0; i < 5; i++)
        {
            await StartAsync(store, Run(new DeliveryKey(trigger, $"evt_{i}"), $"run-{i}"), "kbc", $"job-{i}");
            Clock.Advance(TimeSpan.FromSeconds(1));
        }

        await store.ClaimAsync(Run(new DeliveryKey(trigger, "filtered"), "run-ignored") with { IgnoredReason = "filtered" }, Lease, CancellationToken.None);
        Clock.Advance(TimeSpan.FromSeconds(1));
        await StartAsync(store, new NewRun(new DeliveryKey(other, "evt_x"), "run-other", other, "schedule", "{}"), "eye", "job-x");

        var reader = OpenStore();
        var first = await reader.ListRunsAsync(new RunFilter { Trigger = trigger, Limit = 2 }, CancellationToken.None);
        var second = await reader.ListRunsAsync(new RunFilter { Trigger = trigger, Limit = 2, After = first.Next }, CancellationToken.None);
        var third = await reader.ListRunsAsync(new RunFilter { Trigger = trigger, Limit = 2, After = second.Next }, CancellationToken.None);
        var started = await reader.ListRunsAsync(new RunFilter { Trigger = trigger, State = RunState.Started, Limit = 10 }, CancellationToken.None);
        var window = await reader.ListRunsAsync(new RunFilter { Trigger = trigger, From = start + TimeSpan.FromSeconds(1), To = start + TimeSpan.FromSeconds(3), Limit = 10 }, CancellationToken.None);
        var scheduled = await reader.ListRunsAsync(new RunFilter { Origin = "schedule", From = start, Limit = 10 }, CancellationToken.None);
        var onEye = await reader.ListRunsAsync(new RunFilter { Platform = "eye", From = start, Limit = 10 }, CancellationToken.None);

        Assert.Equal(["run-ignored", "run-4"], first.Runs.Select(r => r.RunId));
        Assert.Equal(new RunPosition(start + TimeSpan.FromSeconds(4), "run-4"), first.Next);
        Assert.Equal(["run-3", "run-2"], second.Runs.Select(r => r.RunId));
        Assert.Equal(["run-1", "run-0"], third.Runs.Select(r => r.RunId));
        Assert.Null(third.Next);
        Assert.Equal(["run-4", "run-3", "run-2", "run-1", "run-0"], started.Runs.Select(r => r.RunId));
        Assert.Null(started.Next);
        Assert.Equal(["run-2", "run-1"], window.Runs.Select(r => r.RunId));
        Assert.Equal("run-other", Assert.Single(scheduled.Runs).RunId);
        Assert.Equal("run-other", Assert.Single(onEye.Runs).RunId);
        Assert.Equal("job-4", first.Runs[1].JobId);
        Assert.Equal(RunState.Ignored, first.Runs[0].State);
    }

    [Fact]
    public async Task RunsCreatedInTheSameMillisecondAreEachListedOnceAcrossPages()
    {
        var store = OpenStore();
        var trigger = Trigger();
        var ids = Enumerable.Range(0, 7).Select(i => $"run-{(char)('a' + i)}").ToArray();
        foreach (var id in ids)
        {
            await store.ClaimAsync(Run(new DeliveryKey(trigger, id), id) with { IgnoredReason = "filtered" }, Lease, CancellationToken.None);
        }

        var seen = new List<string>();
        RunPosition? after = null;
        var pages = 0;
        do
        {
            var page = await store.ListRunsAsync(new RunFilter { Trigger = trigger, Limit = 3, After = after }, CancellationToken.None);
            seen.AddRange(page.Runs.Select(r => r.RunId));
            after = page.Next;
            pages++;
        }
        while (after is not null);

        Assert.Equal(3, pages);
        Assert.Equal(ids.Order(StringComparer.Ordinal), seen.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task FollowersAreFoundByTheirParentRunOldestFirst()
    {
        var store = OpenStore();
        var trigger = Trigger();
        await StartAsync(store, Run(new DeliveryKey(trigger, "evt_parent"), "run-parent"), "kbc", "job-p");
        Clock.Advance(TimeSpan.FromSeconds(1));
        await StartAsync(store, Run(new ChainEventKey("kbc", "job-p", "follower-a"), "run-follow-1") with { ParentRunId = "run-parent" }, "kbc", "job-f1");
        Clock.Advance(TimeSpan.FromSeconds(1));
        await store.ClaimAsync(Run(new ChainEventKey("kbc", "job-p", "follower-b"), "run-follow-2") with { ParentRunId = "run-parent", IgnoredReason = "filtered" }, Lease, CancellationToken.None);

        var followers = await OpenStore().ListFollowersAsync("run-parent", CancellationToken.None);

        Assert.Equal(["run-follow-1", "run-follow-2"], followers.Select(f => f.RunId));
        Assert.All(followers, f => Assert.Equal("run-parent", f.ParentRunId));
        Assert.Empty(await OpenStore().ListFollowersAsync("run-follow-1", CancellationToken.None));
    }

    [Fact]
    public async Task TheLatestJobStatusIsCachedOnTheRunWithoutMovingItsVersionOrUpdateTime()
    {
        var store = OpenStore();
        var key = new DeliveryKey(Trigger(), "evt_status");
        await StartAsync(store, Run(key, "run-status"), "kbc", "job-s");
        var before = await store.FindRunAsync("run-status", CancellationToken.None);
        Clock.Advance(TimeSpan.FromMinutes(3));
        var checkedAt = Clock.GetUtcNow();

        var saved = await OpenStore().SaveJobStatusAsync("run-status", new JobStatus("job-s", JobState.Succeeded, "success", true), checkedAt, CancellationToken.None);
        var otherJob = await store.SaveJobStatusAsync("run-status", new JobStatus("job-t", JobState.Failed, "error", true), checkedAt, CancellationToken.None);
        var unknownRun = await store.SaveJobStatusAsync("run-none", new JobStatus("job-s", JobState.Failed, "error", true), checkedAt, CancellationToken.None);
        var after = await OpenStore().FindRunAsync("run-status", CancellationToken.None);

        Assert.True(saved);
        Assert.False(otherJob);
        Assert.False(unknownRun);
        Assert.NotNull(before);
        Assert.NotNull(after);
        Assert.Null(before.JobCheckedAt);
        Assert.Equal(JobState.Succeeded, after.JobState);
        Assert.Equal("success", after.RawStatus);
        Assert.Equal(checkedAt, after.JobCheckedAt);
        Assert.Equal(before.Version, after.Version);
        Assert.Equal(before.UpdatedAt, after.UpdatedAt);
        Assert.Equal(RunState.Started, after.State);
    }

    [Fact]
    public async Task OperatorActionsAreKeptPerRunInTheOrderTheyHappened()
    {
        var store = OpenStore();
        var at = Clock.GetUtcNow();
        await store.AppendActionAsync(new RunAction("run-acted", at, "replay", "ops", "new run run-r1"), CancellationToken.None);
        await OpenStore().AppendActionAsync(new RunAction("run-acted", at + TimeSpan.FromSeconds(5), "cancel", "default", null), CancellationToken.None);
        await store.AppendActionAsync(new RunAction("run-elsewhere", at, "replay", "ops", null), CancellationToken.None);

        var actions = await OpenStore().ListActionsAsync("run-acted", CancellationToken.None);

        Assert.Equal(
            [new RunAction("run-acted", at, "replay", "ops", "new run run-r1"), new RunAction("run-acted", at + TimeSpan.FromSeconds(5), "cancel", "default", null)],
            actions);
        Assert.Empty(await store.ListActionsAsync("run-never", CancellationToken.None));
    }

    [Fact]
    public async Task ASummaryCountsRunsByStateWithTheirStartLatenciesAndAddsUpCountedOutcomesPerHour()
    {
        var store = OpenStore();
        var trigger = Trigger();
        var from = Clock.GetUtcNow();
        var hour = new DateTimeOffset(from.Year, from.Month, from.Day, from.Hour, 0, 0, TimeSpan.Zero);
        var claim = await store.ClaimAsync(Run(new DeliveryKey(trigger, "slow"), "run-slow"), Lease, CancellationToken.None);
        var calling = await store.BeginStartAsync(claim.Lease!, Lease, CancellationToken.None);
        Clock.Advance(TimeSpan.FromMilliseconds(800));
        await store.SettleAsync(calling!, RunSettlement.Started("kbc", new JobStatus("job-slow", JobState.Queued, "created", false), null), CancellationToken.None);
        await StartAsync(store, Run(new DeliveryKey(trigger, "fast"), "run-fast"), "kbc", "job-fast");
        await store.ClaimAsync(Run(new DeliveryKey(trigger, "ignored"), "run-ignored") with { IgnoredReason = "filtered" }, Lease, CancellationToken.None);
        await StartAsync(store, Run(new DeliveryKey(Trigger(), "elsewhere"), "run-elsewhere"), "kbc", "job-elsewhere");
        await store.AddOutcomeCountsAsync([new OutcomeCount(trigger, CountedOutcome.Duplicate, hour, 3), new OutcomeCount(trigger, CountedOutcome.Rejected, hour, 1)], CancellationToken.None);
        await OpenStore().AddOutcomeCountsAsync([new OutcomeCount(trigger, CountedOutcome.Duplicate, hour, 2), new OutcomeCount(trigger, CountedOutcome.Duplicate, hour - TimeSpan.FromHours(2), 7)], CancellationToken.None);

        var summary = await OpenStore().SummarizeAsync(trigger, hour, from + TimeSpan.FromMinutes(1), CancellationToken.None);

        Assert.Equal(2, summary.States[RunState.Started]);
        Assert.Equal(1, summary.States[RunState.Ignored]);
        Assert.Equal(2, summary.States.Count);
        Assert.Equal([TimeSpan.Zero, TimeSpan.FromMilliseconds(800)], summary.StartLatencies.Order());
        Assert.Equal(5, summary.Counted[CountedOutcome.Duplicate]);
        Assert.Equal(1, summary.Counted[CountedOutcome.Rejected]);
    }

    [Fact]
    public async Task EachTickReplacesTheLastOneAndEveryInstanceReadsTheLatestWithItsHostAndInstance()
    {
        var first = OpenStore();
        var second = OpenStore();
        var at = Clock.GetUtcNow();

        var before = await first.FindLastTickAsync(CancellationToken.None);
        await first.RecordTickAsync(new SchedulerTick(at, "functions", "instance-a"), CancellationToken.None);
        var afterOne = await second.FindLastTickAsync(CancellationToken.None);
        await second.RecordTickAsync(new SchedulerTick(at + TimeSpan.FromSeconds(60.25), "serve", "host-b/4242"), CancellationToken.None);
        var afterTwo = await first.FindLastTickAsync(CancellationToken.None);

        Assert.Null(before);
        Assert.Equal(new SchedulerTick(at, "functions", "instance-a"), afterOne);
        Assert.Equal(new SchedulerTick(at + TimeSpan.FromSeconds(60.25), "serve", "host-b/4242"), afterTwo);
    }

    [Fact]
    public async Task TheStartArmsTheWatchAndExactlyOneOfTwoInstancesTakesItWhenDue()
    {
        var (first, second) = (OpenStore(), OpenStore());
        var run = Run(new DeliveryKey(Trigger(), "evt_w"), "run-w" + Guid.NewGuid().ToString("n")[..8]);
        var claim = await first.ClaimAsync(run, Lease, CancellationToken.None);
        var calling = await first.BeginStartAsync(claim.Lease!, Lease, CancellationToken.None);
        var started = RunSettlement.Started("kbc", new JobStatus("job-w", JobState.Running, "processing", false), null) with { WatchNextAt = Clock.GetUtcNow().AddSeconds(10) };
        Assert.True(await first.SettleAsync(calling!, started, CancellationToken.None));

        var early = await Mine(second.ListWatchesDueAsync(Clock.GetUtcNow(), 100, CancellationToken.None));
        Clock.Advance(TimeSpan.FromSeconds(10));
        var seenByFirst = Assert.Single(await Mine(first.ListWatchesDueAsync(Clock.GetUtcNow(), 100, CancellationToken.None)));
        var seenBySecond = Assert.Single(await Mine(second.ListWatchesDueAsync(Clock.GetUtcNow(), 100, CancellationToken.None)));
        var takes = await Task.WhenAll(first.TakeWatchAsync(seenByFirst, Lease, CancellationToken.None), second.TakeWatchAsync(seenBySecond, Lease, CancellationToken.None));
        var whileHeld = await Mine(first.ListWatchesDueAsync(Clock.GetUtcNow(), 100, CancellationToken.None));

        Assert.Empty(early);
        Assert.Equal(WatchState.Watching, seenByFirst.Watch);
        var lease = Assert.Single(takes, t => t is not null)!;
        Assert.Empty(whileHeld);

        var next = Clock.GetUtcNow().AddSeconds(20);
        var rescheduled = await first.UpdateWatchAsync(lease, new WatchUpdate(WatchTransition.WatchReschedule) { CheckedAt = Clock.GetUtcNow(), Checks = 1, NextAt = next, Status = new JobStatus("job-w", JobState.Running, "processing", false) }, CancellationToken.None);
        var staleAgain = await second.UpdateWatchAsync(lease, new WatchUpdate(WatchTransition.WatchEnd) { CheckedAt = Clock.GetUtcNow(), Checks = 1 }, CancellationToken.None);
        Clock.Advance(TimeSpan.FromSeconds(20));
        var due = Assert.Single(await Mine(second.ListWatchesDueAsync(Clock.GetUtcNow(), 100, CancellationToken.None)));
        var retaken = await second.TakeWatchAsync(due, Lease, CancellationToken.None);
        var finished = new JobStatus("job-w", JobState.Succeeded, "success", true) { FinishedAt = Clock.GetUtcNow() };
        var ended = await second.UpdateWatchAsync(retaken!, new WatchUpdate(WatchTransition.WatchEnd) { CheckedAt = Clock.GetUtcNow(), Checks = 2, Status = finished, FinishedAt = finished.FinishedAt }, CancellationToken.None);
        Clock.Advance(TimeSpan.FromHours(1));
        var afterEnd = await Mine(first.ListWatchesDueAsync(Clock.GetUtcNow(), 100, CancellationToken.None));
        var stored = await first.FindRunAsync(run.RunId, CancellationToken.None);

        Assert.True(rescheduled);
        Assert.False(staleAgain);
        Assert.Equal(next, due.WatchNextAt);
        Assert.True(ended);
        Assert.Empty(afterEnd);
        Assert.Equal(WatchState.Ended, stored!.Watch);
        Assert.Equal(2, stored.WatchChecks);
        Assert.Equal(JobState.Succeeded, stored.JobState);
        Assert.Equal("success", stored.RawStatus);
        Assert.Equal(finished.FinishedAt, stored.JobFinishedAt);
        Assert.Equal(RunState.Started, stored.State);

        async Task<List<RunRecord>> Mine(Task<IReadOnlyList<RunRecord>> listing) => [.. (await listing).Where(r => r.RunId == run.RunId)];
    }

    [Fact]
    public async Task ARunStillWatchedIsNotPurgedHoweverOldItIs()
    {
        var store = OpenStore();
        var run = Run(new DeliveryKey(Trigger(), "evt_p"), "run-p" + Guid.NewGuid().ToString("n")[..8]);
        var claim = await store.ClaimAsync(run, Lease, CancellationToken.None);
        var calling = await store.BeginStartAsync(claim.Lease!, Lease, CancellationToken.None);
        await store.SettleAsync(calling!, RunSettlement.Started("kbc", new JobStatus("job-p", JobState.Running, "processing", false), null) with { WatchNextAt = Clock.GetUtcNow().AddDays(30) }, CancellationToken.None);

        Clock.Advance(TimeSpan.FromDays(20));
        await store.PurgeAsync(Clock.GetUtcNow() - TimeSpan.FromDays(1), CancellationToken.None);

        Assert.Equal(WatchState.Watching, (await store.FindRunAsync(run.RunId, CancellationToken.None))?.Watch);
    }

    private static async Task StartAsync(IRelayStore store, NewRun run, string platform, string jobId)
    {
        var claim = await store.ClaimAsync(run, Lease, CancellationToken.None);
        var calling = await store.BeginStartAsync(claim.Lease!, Lease, CancellationToken.None);
        Assert.True(await store.SettleAsync(calling!, RunSettlement.Started(platform, new JobStatus(jobId, JobState.Queued, "created", false), null), CancellationToken.None));
    }

    /// <summary>A trigger name of the test's own.</summary>
    private static string Trigger() => "t" + Guid.NewGuid().ToString("n")[..12];

    private static NewRun Run(ClaimKey key, string runId) => new(key, runId, key.Scope, "webhook", """{"sha":"abc"}""");
}
