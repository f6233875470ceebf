using JobRelay.Model;
using JobRelay.Outbound;
using JobRelay.Platforms;
using JobRelay.State;
using JobRelay.Triggers;
using Microsoft.Extensions.Time.Testing;

namespace JobRelay.Tests.Outbound;

/// <summary>
/// The outbox's guarantees, against each store: an event is written in the same write as the state change it reports
/// (and not at all when the change is not), a run's events to one subscription go in order, and each delivery goes to
/// one taker under a lease (<see cref="DeliveryTransitions"/>).
/// </summary>
public abstract class OutboxContract
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    internal FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));

    internal static TriggerCatalog Catalog { get; } = TriggerCatalogLoader.Parse("""
        {
          "platforms": { "kbc": { "type": "keboola", "url": "https://queue.example/", "tokenSecret": "kbc-token" } },
          "triggers": { "nightly-load": { "platform": "kbc", "keboola": { "component": "keboola.ex-db", "config": "42" } } },
          "destinations": {
            "warehouse": { "type": "webhook", "url": "https://hooks.example/in", "signingSecret": "warehouse-signing" },
            "ops": { "type": "slack", "urlSecret": "ops-slack-url" }
          },
          "subscriptions": [
            { "to": "warehouse", "events": ["run.accepted", "job.started", "job.succeeded", "job.failed"] },
            { "to": "ops", "events": ["job.failed"], "triggers": ["nightly-load"] }
          ]
        }
        """).Catalog!;

    /// <summary>A store over the suite's shared state, writing the outbox by <see cref="Catalog"/>; each call is another instance.</summary>
    internal abstract IRelayStore OpenStore();

    internal static IOutboxPlanner Planner { get; } = new CatalogOutboxPlanner(() => Catalog);

    [Fact]
    public async Task A_claim_writes_its_accepted_event_in_the_same_write_and_a_claim_that_loses_writes_none()
    {
        var store = OpenStore();
        var key = new DeliveryKey("nightly-load", "d-1");

        await store.ClaimAsync(Run(key, "run-a"), Lease, CancellationToken.None);
        await OpenStore().ClaimAsync(Run(key, "run-b"), Lease, CancellationToken.None);

        var delivery = Assert.Single(await store.ListDeliveriesAsync("run-a", CancellationToken.None));
        Assert.Equal(("evt_run-a_run.accepted", "warehouse#0", "warehouse", "run.accepted", DeliveryState.Pending, 1L), (delivery.EventId, delivery.Subscription, delivery.Destination, delivery.Type, delivery.State, delivery.Sequence));
        Assert.Contains("\"runId\":\"run-a\"", delivery.Payload, StringComparison.Ordinal);
        Assert.Empty(await store.ListDeliveriesAsync("run-b", CancellationToken.None));
    }

    [Fact]
    public async Task The_start_and_the_jobs_end_each_write_their_event_and_only_the_head_of_each_line_is_due()
    {
        var store = OpenStore();
        var run = await StartedAsync(store, "run-a", "d-1");
        var watch = await store.TakeWatchAsync(run, Lease, CancellationToken.None);
        Assert.True(await store.UpdateWatchAsync(watch!, new WatchUpdate(WatchTransition.WatchEnd)
        {
            CheckedAt = Clock.GetUtcNow(),
            Status = new JobStatus("job-7", JobState.Failed, "error", true),
            FinishedAt = Clock.GetUtcNow(),
            Checks = 1,
        }, CancellationToken.None));

        var deliveries = await store.ListDeliveriesAsync("run-a", CancellationToken.None);

        Assert.Equal(
            [("run.accepted", "warehouse#0"), ("job.started", "warehouse#0"), ("job.failed", "ops#1"), ("job.failed", "warehouse#0")],
            deliveries.Select(d => (d.Type, d.Subscription)));
        Assert.True(deliveries.Select(d => d.Sequence).Distinct().Count() == 3 && deliveries[0].Sequence < deliveries[1].Sequence && deliveries[1].Sequence < deliveries[2].Sequence);
        var due = await store.ListDeliveriesDueAsync(Clock.GetUtcNow(), 10, CancellationToken.None);
        Assert.Equal([("job.failed", "ops#1"), ("run.accepted", "warehouse#0")], due.Select(d => (d.Type, d.Subscription)).Order());

        var head = await store.TakeDeliveryAsync(due.Single(d => d.Subscription == "warehouse#0"), Lease, CancellationToken.None);
        Assert.True(await store.UpdateDeliveryAsync(head!, new DeliveryUpdate(DeliveryTransition.DeliveryDone, new DeliveryAttempt(Clock.GetUtcNow(), 204, null)), CancellationToken.None));
        var next = await store.ListDeliveriesDueAsync(Clock.GetUtcNow(), 10, CancellationToken.None);
        Assert.Equal([("job.failed", "ops#1"), ("job.started", "warehouse#0")], next.Select(d => (d.Type, d.Subscription)).Order());
    }

    [Fact]
    public async Task A_settlement_whose_lease_was_lost_writes_neither_its_state_nor_its_event()
    {
        var store = OpenStore();
        var claim = await store.ClaimAsync(Run(new DeliveryKey("nightly-load", "d-1"), "run-a"), Lease, CancellationToken.None);
        var calling = await store.BeginStartAsync(claim.Lease!, TimeSpan.FromMinutes(1), CancellationToken.None);

        var settled = await store.SettleAsync(claim.Lease!, RunSettlement.Started("kbc", new JobStatus("job-7", JobState.Queued, "created", false), null), CancellationToken.None);

        Assert.NotNull(calling);
        Assert.False(settled);
        Assert.Equal(["run.accepted"], (await store.ListDeliveriesAsync("run-a", CancellationToken.None)).Select(d => d.Type));
    }

    [Fact]
    public async Task A_delivery_goes_to_one_taker_whose_lease_alone_may_write_it_and_an_expired_lease_is_taken_over()
    {
        var first = OpenStore();
        var second = OpenStore();
        await first.ClaimAsync(Run(new DeliveryKey("nightly-load", "d-1"), "run-a"), Lease, CancellationToken.None);
        var due = Assert.Single(await first.ListDeliveriesDueAsync(Clock.GetUtcNow(), 10, CancellationToken.None));

        var taken = await first.TakeDeliveryAsync(due, Lease, CancellationToken.None);
        var lost = await second.TakeDeliveryAsync(due, Lease, CancellationToken.None);

        Assert.NotNull(taken);
        Assert.Null(lost);
        Assert.Empty(await second.ListDeliveriesDueAsync(Clock.GetUtcNow(), 10, CancellationToken.None));

        Clock.Advance(Lease + TimeSpan.FromSeconds(1));
        var again = Assert.Single(await second.ListDeliveriesDueAsync(Clock.GetUtcNow(), 10, CancellationToken.None));
        var takenOver = await second.TakeDeliveryAsync(again, Lease, CancellationToken.None);
        var retry = new DeliveryUpdate(DeliveryTransition.DeliveryRetry, new DeliveryAttempt(Clock.GetUtcNow(), 503, "HTTP 503")) { NextAt = Clock.GetUtcNow().AddMinutes(1) };

        Assert.NotNull(takenOver);
        Assert.False(await first.UpdateDeliveryAsync(taken!, retry, CancellationToken.None));
        Assert.True(await second.UpdateDeliveryAsync(takenOver!, retry, CancellationToken.None));
        var stored = Assert.Single(await first.ListDeliveriesAsync("run-a", CancellationToken.None));
        Assert.Equal((DeliveryState.Pending, 1, Clock.GetUtcNow().AddMinutes(1)), (stored.State, stored.Attempts, stored.NextAt));
        Assert.Equal(new DeliveryAttempt(Clock.GetUtcNow(), 503, "HTTP 503"), Assert.Single(stored.Log));
        Assert.Equal("evt_run-a_run.accepted", Assert.Single(await first.ListFailedDeliveriesAsync(10, CancellationToken.None)).EventId);
    }

    [Fact]
    public async Task A_disabled_subscription_is_seen_by_every_instance_and_the_first_mark_stays()
    {
        await OpenStore().DisableSubscriptionAsync("ops#1", "410 Gone", Clock.GetUtcNow(), CancellationToken.None);
        await OpenStore().DisableSubscriptionAsync("ops#1", "410 Gone", Clock.GetUtcNow(), CancellationToken.None);

        Assert.Equal(["ops#1"], await OpenStore().ListDisabledSubscriptionsAsync(CancellationToken.None));
    }

    private async Task<RunRecord> StartedAsync(IRelayStore store, string runId, string deliveryId)
    {
        var claim = await store.ClaimAsync(Run(new DeliveryKey("nightly-load", deliveryId), runId), Lease, CancellationToken.None);
        var calling = await store.BeginStartAsync(claim.Lease!, TimeSpan.FromMinutes(1), CancellationToken.None);
        var started = RunSettlement.Started("kbc", new JobStatus("job-7", JobState.Queued, "created", false) { Url = new Uri("https://queue.example/jobs/7") }, null)
            with { WatchNextAt = Clock.GetUtcNow() };
        Assert.True(await store.SettleAsync(calling!, started, CancellationToken.None));
        return (await store.FindRunAsync(runId, CancellationToken.None))!;
    }

    private static NewRun Run(ClaimKey key, string runId) => new(key, runId, "nightly-load", "webhook", """{"day":"2026-12-01"}""");
}
