using Azure.Data.Tables;
using JobRelay.Model;
using JobRelay.Platforms;
using JobRelay.State;
using JobRelay.State.AzureTables;
using JobRelay.Tests.Scheduling;
using Microsoft.Extensions.Logging.Abstractions;

namespace JobRelay.Tests.State;

/// <summary>
/// A run whose claimant stopped between adding it and writing its lookup rows (as a version that wrote them after
/// the run could leave it) is still found once it settles: whoever writes it next writes its lookup rows first.
/// </summary>
[Collection(AzuriteGroup.Name)]
public sealed class TableIndexRepairTests(AzuriteFixture azurite) : IDisposable
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);
    private readonly string _table = "repair" + Guid.NewGuid().ToString("n")[..16];
    private readonly ManualTimeProvider _clock = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly List<TableRelayStore> _stores = [];

    [Fact]
    public async Task ARunAddedWithoutItsLookupRowsIsFoundByIdJobListingAndParentOnceTakenOverAndSettled()
    {
        var trigger = "t" + Guid.NewGuid().ToString("n")[..12];
        var key = new DeliveryKey(trigger, "evt_1");
        await Open().ClaimAsync(new NewRun(key, "run-1", trigger, "webhook", "{}") { ParentRunId = "run-parent" }, Lease, CancellationToken.None);
        await LeaveAsAnOlderVersionThatStoppedAfterTheAddAsync("run-1");
        var lost = await Open().FindRunAsync("run-1", CancellationToken.None);

        _clock.Advance(Lease);
        var store = Open();
        var takeover = await store.ClaimAsync(new NewRun(key, "run-2", trigger, "webhook", "{}"), Lease, CancellationToken.None);
        var calling = await store.BeginStartAsync(takeover.Lease!, Lease, CancellationToken.None);
        var settled = await store.SettleAsync(calling!, RunSettlement.Started("kbc", new JobStatus("job-1", JobState.Queued, "created", false), null), CancellationToken.None);

        var reader = Open();
        var byId = await reader.FindRunAsync("run-1", CancellationToken.None);
        var byJob = await reader.FindRunByJobAsync("kbc", "job-1", CancellationToken.None);
        var listed = await reader.ListRunsAsync(new RunFilter { Trigger = trigger }, CancellationToken.None);
        var followers = await reader.ListFollowersAsync("run-parent", CancellationToken.None);

        Assert.Null(lost);
        Assert.Equal((ClaimStatus.First, "run-1"), (takeover.Status, takeover.Run.RunId));
        Assert.True(settled);
        Assert.Equal(RunState.Started, byId?.State);
        Assert.Equal("run-1", byJob?.RunId);
        Assert.Equal("run-1", Assert.Single(listed.Runs).RunId);
        Assert.Equal("run-1", Assert.Single(followers).RunId);
    }

    [Fact]
    public async Task AClaimWritesItsLookupRowsBeforeTheRunSoAFreshClaimIsFoundAtOnce()
    {
        var trigger = "t" + Guid.NewGuid().ToString("n")[..12];
        var claim = await Open().ClaimAsync(new NewRun(new DeliveryKey(trigger, "evt_1"), "run-a", trigger, "webhook", "{}"), Lease, CancellationToken.None);

        var entity = await azurite.Service.GetTableClient(_table).QueryAsync<TableEntity>(e => e.RowKey == "evt_1").SingleAsync();

        Assert.Equal("run-a", (await Open().FindRunAsync("run-a", CancellationToken.None))?.RunId);
        Assert.Equal("run-a", Assert.Single((await Open().ListRunsAsync(new RunFilter { Trigger = trigger }, CancellationToken.None)).Runs).RunId);
        Assert.Equal(true, entity.GetBoolean("Indexed"));
        Assert.False(claim.Run.IndexPending);
    }

    public void Dispose()
    {
        foreach (var store in _stores)
        {
            store.Dispose();
        }
    }

    /// <summary>Deletes the run's lookup rows and the mark that they were written, as an older version left a run it added and then stopped.</summary>
    private async Task LeaveAsAnOlderVersionThatStoppedAfterTheAddAsync(string runId)
    {
        var runs = azurite.Service.GetTableClient(_table);
        var index = azurite.Service.GetTableClient(_table + "Index");
        var run = await runs.QueryAsync<TableEntity>(e => e.GetString("RunId") == runId).SingleAsync();
        run.Remove("Indexed");
        await runs.UpdateEntityAsync(run, run.ETag, TableUpdateMode.Replace);
        var rows = await index.QueryAsync<TableEntity>(e => e.PartitionKey == runId || e.GetString("RunId") == runId).ToListAsync();
        Assert.Equal(3, rows.Count);
        foreach (var row in rows)
        {
            await index.DeleteEntityAsync(row.PartitionKey, row.RowKey);
        }
    }

    private TableRelayStore Open()
    {
        var store = new TableRelayStore(azurite.Service, _table, _clock, NullLogger<TableRelayStore>.Instance);
        _stores.Add(store);
        return store;
    }
}
