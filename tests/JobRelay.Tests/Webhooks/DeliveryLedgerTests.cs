using JobRelay.Platforms;
using JobRelay.Runs;
using JobRelay.Webhooks;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace JobRelay.Tests.Webhooks;

public sealed class DeliveryLedgerTests
{
    private readonly ManualClock _clock = new(new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.Zero));

    private InMemoryDeliveryLedger Ledger(int capacity = 100_000, TimeSpan? retention = null) =>
        new(Options.Create(new WebhookOptions { DeduplicationCapacity = capacity, DeduplicationRetention = retention ?? TimeSpan.FromHours(24) }), _clock, NullLogger<InMemoryDeliveryLedger>.Instance);

    private RelayRun Run(string jobId = "123456") =>
        new($"run-{jobId}", "orders", "keboola", jobId, new JobStatus(jobId, JobState.Queued, "created", IsFinal: false), RunOrigin.Webhook, _clock.GetUtcNow());

    [Fact]
    public async Task TheFirstDeliveryIsClaimedAndARetryGetsTheRunItStarted()
    {
        var ledger = Ledger();
        var run = Run();

        var first = await ledger.AdmitAsync("orders", "evt_1", CancellationToken.None);
        first.Claim!.Complete(run);
        var retry = await ledger.AdmitAsync("orders", "evt_1", CancellationToken.None);

        Assert.True(first.IsFirst);
        Assert.False(retry.IsFirst);
        Assert.Same(run, retry.Outcome!.Run);
    }

    [Fact]
    public async Task TheSameDeliveryIdOfAnotherTriggerIsADifferentDelivery()
    {
        var ledger = Ledger();
        (await ledger.AdmitAsync("orders", "evt_1", CancellationToken.None)).Claim!.Complete(Run());

        Assert.True((await ledger.AdmitAsync("refunds", "evt_1", CancellationToken.None)).IsFirst);
    }

    [Fact]
    public async Task FiftyConcurrentIdenticalDeliveriesStartOneJobAndAllGetTheSameRun()
    {
        var ledger = Ledger();
        var run = Run();
        using var start = new ManualResetEventSlim();
        var admissions = Enumerable.Range(0, 50)
            .Select(_ => Task.Run(async () =>
            {
                start.Wait();
                return await ledger.AdmitAsync("orders", "evt_concurrent", CancellationToken.None);
            }))
            .ToList();
        start.Set();

        var firstDone = await await Task.WhenAny(admissions);
        Assert.True(firstDone.IsFirst, "a duplicate finished before the original was completed");
        await Task.Delay(50);
        Assert.Equal(1, admissions.Count(a => a.IsCompleted));
        firstDone.Claim!.Complete(run);
        var all = await Task.WhenAll(admissions);

        Assert.Single(all, a => a.IsFirst);
        var duplicates = all.Where(a => !a.IsFirst).ToList();
        Assert.Equal(49, duplicates.Count);
        Assert.All(duplicates, d => Assert.Same(run, d.Outcome!.Run));
    }

    [Fact]
    public async Task AfterAnAbandonedDeliveryTheNextRetryIsAdmittedAsTheFirst()
    {
        var ledger = Ledger();
        (await ledger.AdmitAsync("orders", "evt_1", CancellationToken.None)).Claim!.Abandon();

        var retry = await ledger.AdmitAsync("orders", "evt_1", CancellationToken.None);

        Assert.True(retry.IsFirst);
    }

    [Fact]
    public async Task ADuplicateWaitingForAnOriginalThatIsAbandonedBecomesTheFirst()
    {
        var ledger = Ledger();
        var original = await ledger.AdmitAsync("orders", "evt_1", CancellationToken.None);
        var waitingA = ledger.AdmitAsync("orders", "evt_1", CancellationToken.None).AsTask();
        var waitingB = ledger.AdmitAsync("orders", "evt_1", CancellationToken.None).AsTask();
        await Task.Delay(20);
        Assert.False(waitingA.IsCompleted);

        original.Claim!.Abandon();
        var next = await Task.WhenAny(waitingA, waitingB);
        var successor = await next;
        Assert.True(successor.IsFirst);
        var run = Run("777");
        successor.Claim!.Complete(run);
        var other = await (next == waitingA ? waitingB : waitingA);

        Assert.Same(run, other.Outcome!.Run);
    }

    [Fact]
    public async Task DisposingAnUnfinishedClaimAbandonsIt()
    {
        var ledger = Ledger();
        using (var claim = (await ledger.AdmitAsync("orders", "evt_1", CancellationToken.None)).Claim!)
        {
        }

        Assert.True((await ledger.AdmitAsync("orders", "evt_1", CancellationToken.None)).IsFirst);
    }

    [Fact]
    public async Task AnIgnoredDeliveryIsAnsweredAsIgnoredToItsRetries()
    {
        var ledger = Ledger();
        (await ledger.AdmitAsync("orders", "evt_1", CancellationToken.None)).Claim!.CompleteIgnored("event type not subscribed");

        var retry = await ledger.AdmitAsync("orders", "evt_1", CancellationToken.None);

        Assert.True(retry.Outcome!.IsIgnored);
        Assert.Equal("event type not subscribed", retry.Outcome.IgnoredReason);
    }

    [Fact]
    public async Task AClaimCanBeFinishedOnlyOnce()
    {
        var claim = (await Ledger().AdmitAsync("orders", "evt_1", CancellationToken.None)).Claim!;
        claim.Complete(Run());

        Assert.Throws<InvalidOperationException>(claim.Abandon);
    }

    [Fact]
    public async Task AfterTheRetentionTheSameIdIsANewDelivery()
    {
        var ledger = Ledger(retention: TimeSpan.FromHours(1));
        (await ledger.AdmitAsync("orders", "evt_1", CancellationToken.None)).Claim!.Complete(Run());

        _clock.Advance(TimeSpan.FromMinutes(59));
        Assert.False((await ledger.AdmitAsync("orders", "evt_1", CancellationToken.None)).IsFirst);
        _clock.Advance(TimeSpan.FromMinutes(1));
        Assert.True((await ledger.AdmitAsync("orders", "evt_1", CancellationToken.None)).IsFirst);
    }

    [Fact]
    public async Task ExpiredDeliveriesAreForgottenSoTheLedgerDoesNotGrow()
    {
        var ledger = Ledger(retention: TimeSpan.FromMinutes(10));
        for (var i = 0; i < 100; i++)
        {
            (await ledger.AdmitAsync("orders", $"evt_{i}", CancellationToken.None)).Claim!.Complete(Run());
        }

        _clock.Advance(TimeSpan.FromMinutes(11));
        (await ledger.AdmitAsync("orders", "evt_new", CancellationToken.None)).Claim!.Complete(Run());

        Assert.Equal(1, ledger.Count);
    }

    [Fact]
    public async Task AtCapacityTheOldestDeliveryIsForgottenFirst()
    {
        var ledger = Ledger(capacity: 3);
        foreach (var id in new[] { "a", "b", "c", "d" })
        {
            (await ledger.AdmitAsync("orders", id, CancellationToken.None)).Claim!.Complete(Run());
            _clock.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(3, ledger.Count);
        Assert.False((await ledger.AdmitAsync("orders", "d", CancellationToken.None)).IsFirst);
        Assert.False((await ledger.AdmitAsync("orders", "b", CancellationToken.None)).IsFirst);
        Assert.True((await ledger.AdmitAsync("orders", "a", CancellationToken.None)).IsFirst);
    }

    [Fact]
    public async Task AWaitingDuplicateStopsWaitingWhenItsRequestIsCancelled()
    {
        var ledger = Ledger();
        _ = await ledger.AdmitAsync("orders", "evt_1", CancellationToken.None);
        using var cancellation = new CancellationTokenSource();

        var waiting = ledger.AdmitAsync("orders", "evt_1", cancellation.Token).AsTask();
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
    }
}
