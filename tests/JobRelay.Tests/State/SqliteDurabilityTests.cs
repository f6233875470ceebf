using System.Text.Json.Nodes;
using JobRelay.Model;
using JobRelay.Platforms;
using JobRelay.State;
using JobRelay.State.Sqlite;
using JobRelay.Tests.Http;
using JobRelay.Tests.Scheduling;
using JobRelay.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace JobRelay.Tests.State;

/// <summary>
/// The writes the protocol marks durable (the mark before a platform call, a pending start) commit with synchronous
/// FULL, the others with NORMAL. A test cannot crash the machine under SQLite, so what is checked is that the write
/// path asks for the synced commit, and that it has done so before the platform is called.
/// </summary>
public sealed class SqliteDurabilityTests : IDisposable
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);
    private readonly string _folder = Directory.CreateTempSubdirectory("jobrelay-durable-").FullName;
    private readonly ManualTimeProvider _clock = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly List<IDisposable> _owned = [];

    [Fact]
    public async Task TheMarkBeforeAPlatformCallAndAPendingStartCommitSyncedAndNoOtherWriteDoes()
    {
        var store = Store();
        var counts = new List<long>();
        async Task Step(Task write)
        {
            await write;
            counts.Add(store.DurableCommits);
        }

        var claim = await store.ClaimAsync(Run("evt_1"), Lease, CancellationToken.None);
        counts.Add(store.DurableCommits);
        var calling = await store.BeginStartAsync(claim.Lease!, Lease, CancellationToken.None);
        counts.Add(store.DurableCommits);
        await Step(store.SettleAsync(calling!, RunSettlement.Started("kbc", new JobStatus("job-1", JobState.Queued, "created", false), null), CancellationToken.None));
        var second = await store.ClaimAsync(Run("evt_2"), Lease, CancellationToken.None);
        var secondCall = await store.BeginStartAsync(second.Lease!, Lease, CancellationToken.None);
        counts.Add(store.DurableCommits);
        var now = _clock.GetUtcNow();
        await Step(store.SettleAsync(secondCall!, RunSettlement.Pending("connection refused", now, now.AddHours(1)), CancellationToken.None));
        await Step(store.TakeDueAsync((await store.FindAsync(second.Run.Key, CancellationToken.None))!, Lease, CancellationToken.None));
        await Step(store.ClaimAsync(Run("evt_3") with { IgnoredReason = "filtered" }, Lease, CancellationToken.None));

        Assert.Equal([0L, 1L, 1L, 2L, 3L, 3L, 3L], counts);
        Assert.Equal([RunTransitions.BeginStart, RunTransitions.KeepPending], RunTransitions.All.Where(t => t.IsDurable));
    }

    [Fact]
    public async Task AWebhooksStartIsMarkedOnDiskBeforeThePlatformIsCalled()
    {
        long atCall = -1;
        SqliteRelayStore? store = null;
        await using var keboola = await LoopbackServer.StartAsync(app => app.MapPost("/jobs", () =>
        {
            atCall = store!.DurableCommits;
            return Results.Json(new JsonObject { ["id"] = "501", ["status"] = "created" }, statusCode: 201);
        }));
        await using var host = await RelayHost.StartAsync(
            """
            {
              "platforms": { "kbc": { "type": "keboola", "url": "http://127.0.0.1:1/", "tokenSecret": "kbc-token" } },
              "triggers": {
                "hook": {
                  "platform": "kbc",
                  "keboola": { "component": "keboola.ex-db", "config": "1" },
                  "webhook": { "scheme": "token", "secrets": ["hook-token"], "deliveryId": "header:X-Delivery" }
                }
              }
            }
            """,
            new Dictionary<string, Uri> { ["kbc"] = keboola.BaseAddress });
        store = Assert.IsType<SqliteRelayStore>(host.Services.GetRequiredService<IRelayStore>());
        var before = store.DurableCommits;

        using var response = await host.PostHookAsync("hook", "{}", ("X-JobRelay-Token", RelayHost.HookToken), ("X-Delivery", "d-1"));

        Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
        Assert.Single(keboola.Requests);
        Assert.Equal(before + 1, atCall);
        Assert.Equal(before + 1, store.DurableCommits);
    }

    public void Dispose()
    {
        foreach (var owned in _owned)
        {
            owned.Dispose();
        }
    }

    private SqliteRelayStore Store()
    {
        var store = new SqliteRelayStore(Path.Combine(_folder, StoreOptions.SqliteFileName), _clock, NullLogger<SqliteRelayStore>.Instance);
        _owned.Add(store);
        return store;
    }

    private static NewRun Run(string delivery) => new(new DeliveryKey("hook", delivery), "run-" + delivery, "hook", "webhook", "{}");
}
