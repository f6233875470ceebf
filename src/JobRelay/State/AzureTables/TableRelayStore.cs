using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using Azure;
using Azure.Data.Tables;
using Azure.Identity;
using JobRelay.Model;
using JobRelay.Platforms;
using Microsoft.Extensions.Logging;

namespace JobRelay.State.AzureTables;

/// <summary>
/// The store in Azure Table Storage: the Functions app's, shared by every instance. One entity per claim key holds
/// the claim, the run and its outcome, so each is written in one conditional operation: <c>AddEntity</c> for
/// insert-if-absent, <c>UpdateEntity</c>/<c>DeleteEntity</c> with the ETag read. A second table indexes runs by run
/// id and keeps TheEye job secrets by job id.
/// </summary>
/// <remarks>
/// A lease carries the ETag of the write that made it, and this instance remembers the record it wrote then. The next
/// step of the claim (calling, settled, release) replaces that record at that ETag without reading it first: the
/// ETag condition refuses the write if anything changed the entity since, exactly as a read would have shown. That
/// saves the partition two reads per accepted delivery; a lease this instance does not remember is read as before.
/// </remarks>
internal sealed class TableRelayStore : IRelayStore, IRunWrites, IDisposable
{
    /// <summary>The entity shape's version, reported like the SQLite schema's.</summary>
    private const int EntityVersion = 3;
    private const string IndexRow = "run";
    private const string SecretRow = "secret";

    /// <summary>The partition of the newest-first listing: one row per run, keyed by inverted creation time.</summary>
    private const string ListPartition = "list";

    /// <summary>The scheduler's last tick: one entity, replaced by each tick.</summary>
    private const string TickPartition = "scheduler";
    private const string TickRow = "tick";

    /// <summary>The outbound subscriptions disabled by a 410 Gone: one row each.</summary>
    private const string DisabledPartition = "outbound-disabled";

    // Claims settle within seconds; the bound only matters for callers that drop a lease, which then falls back to a read.
    private const int MaxRemembered = 10_000;
    private readonly TableClient _runs;
    private readonly TableClient _index;
    private readonly string _location;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _initGate = new(1, 1);
    private readonly ConcurrentDictionary<RunLease, RunRecord> _written = new();
    private readonly IOutboxPlanner _outbox;
    private volatile bool _initialized;

    /// <param name="outbox">Which outbound deliveries each state change writes, in the same entity group transaction; none when null.</param>
    public TableRelayStore(TableServiceClient service, string tableName, TimeProvider clock, ILogger<TableRelayStore> logger, IOutboxPlanner? outbox = null)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentException.ThrowIfNullOrEmpty(tableName);
        _runs = service.GetTableClient(tableName);
        _index = service.GetTableClient(tableName + "Index");
        _location = _runs.Uri.GetLeftPart(UriPartial.Path);
        _clock = clock;
        _logger = logger;
        _outbox = outbox ?? NoOutbox.Instance;
    }

    public static TableRelayStore Create(StoreOptions options, TimeProvider clock, ILogger<TableRelayStore> logger, IOutboxPlanner? outbox = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var service = string.IsNullOrWhiteSpace(options.TableConnectionString)
            ? new TableServiceClient(options.TableServiceUri, new DefaultAzureCredential(new DefaultAzureCredentialOptions
            {
                ManagedIdentityClientId = string.IsNullOrWhiteSpace(options.ManagedIdentityClientId)
                    ? Environment.GetEnvironmentVariable("AZURE_CLIENT_ID")
                    : options.ManagedIdentityClientId,
            }))
            : new TableServiceClient(options.TableConnectionString);
        return new TableRelayStore(service, options.TableName, clock, logger, outbox);
    }

    public void Dispose() => _initGate.Dispose();

    public async Task<ClaimResult> ClaimAsync(NewRun run, TimeSpan lease, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken);
        return await RunProtocol.ClaimAsync(this, run, lease, _clock, _logger, cancellationToken);
    }

    public async Task<RunLease?> BeginStartAsync(RunLease lease, TimeSpan callLease, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        var begin = RunTransitions.BeginStart;
        var current = await CurrentAsync(lease, cancellationToken);
        if (!begin.Allows(current, _clock.GetUtcNow()))
        {
            return null;
        }

        var written = await ReplaceAsync(begin, current!, begin.Apply(current!, _clock.GetUtcNow(), callLease), cancellationToken);
        return written is null ? null : LeaseOf(written);
    }

    public async Task<bool> SettleAsync(RunLease lease, RunSettlement settlement, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        var transition = RunTransitions.OnSettle(settlement);
        var current = await CurrentAsync(lease, cancellationToken);
        if (current is null || !transition.Allows(current, _clock.GetUtcNow()))
        {
            StoreLog.LeaseLost(_logger, lease.Key, lease.RunId);
            return false;
        }

        if (settlement.Platform is not null && settlement.JobId is not null)
        {
            // Written first: a job index row (with TheEye's job secret) without its run is harmless, a started run that
            // cannot be found by its job, or without its secret, is not.
            var job = new TableEntity(Encode($"job|{settlement.Platform}|{settlement.JobId}"), SecretRow) { ["RunId"] = lease.RunId };
            if (settlement.JobSecret is not null)
            {
                job["Secret"] = settlement.JobSecret;
            }

            await _index.UpsertEntityAsync(job, TableUpdateMode.Replace, cancellationToken);
        }

        var settled = await ReplaceAsync(transition, current, transition.Apply(current, _clock.GetUtcNow(), outcome: settlement), cancellationToken) is not null;
        if (!settled)
        {
            StoreLog.LeaseLost(_logger, lease.Key, lease.RunId);
        }

        return settled;
    }

    public async Task<bool> ReleaseAsync(RunLease lease, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        var current = await CurrentAsync(lease, cancellationToken);
        if (!RunTransitions.Release.Allows(current, _clock.GetUtcNow()))
        {
            return false;
        }

        try
        {
            await _runs.DeleteEntityAsync(PartitionKey(lease.Key), RowKey(lease.Key), new ETag(current!.ETag!), cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status is (int)HttpStatusCode.PreconditionFailed or (int)HttpStatusCode.NotFound)
        {
            return false;
        }

        await DeleteIndexRowsAsync(current, cancellationToken);
        return true;
    }

    public async Task<RunRecord?> FindAsync(ClaimKey key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        await InitializeAsync(cancellationToken);
        var found = await _runs.GetEntityIfExistsAsync<TableEntity>(PartitionKey(key), RowKey(key), cancellationToken: cancellationToken);
        return found.HasValue ? FromEntity(found.Value!) : null;
    }

    public async Task<RunRecord?> FindRunAsync(string runId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(runId);
        await InitializeAsync(cancellationToken);
        var index = await _index.GetEntityIfExistsAsync<TableEntity>(Encode(runId), IndexRow, cancellationToken: cancellationToken);
        if (!index.HasValue)
        {
            return null;
        }

        var entity = index.Value!;
        var key = ClaimKeys.Restore(Enum.Parse<ClaimKind>(entity.GetString("Kind")), entity.GetString("Scope"), entity.GetString("Id"));
        var run = await FindAsync(key, cancellationToken);
        return run?.RunId == runId ? run : null;
    }

    public async Task<RunRecord?> FindRunByJobAsync(string platform, string jobId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(platform);
        ArgumentException.ThrowIfNullOrEmpty(jobId);
        await InitializeAsync(cancellationToken);
        var found = await _index.GetEntityIfExistsAsync<TableEntity>(Encode($"job|{platform}|{jobId}"), SecretRow, cancellationToken: cancellationToken);
        return found.HasValue && found.Value!.GetString("RunId") is { } runId ? await FindRunAsync(runId, cancellationToken) : null;
    }

    public async Task<string?> FindJobSecretAsync(string platform, string jobId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(platform);
        ArgumentException.ThrowIfNullOrEmpty(jobId);
        await InitializeAsync(cancellationToken);
        var found = await _index.GetEntityIfExistsAsync<TableEntity>(Encode($"job|{platform}|{jobId}"), SecretRow, cancellationToken: cancellationToken);
        return found.HasValue ? found.Value!.GetString("Secret") : null;
    }

    public async Task<IReadOnlyList<RunRecord>> ListDueAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        await InitializeAsync(cancellationToken);
        var filter = TableClient.CreateQueryFilter(
            $"(State eq {nameof(RunState.Pending)} and NextAttemptAt le {now}) or ((State eq {nameof(RunState.Claimed)} or State eq {nameof(RunState.Starting)}) and LeaseUntil le {now})");
        var due = new List<RunRecord>();
        await foreach (var entity in _runs.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            due.Add(FromEntity(entity));
        }

        return [.. due.OrderBy(r => r.NextAttemptAt ?? r.LeaseUntil).Take(max)];
    }

    public Task<RunLease?> TakeDueAsync(RunRecord due, TimeSpan lease, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(due);
        return due.ETag is null ? Task.FromResult<RunLease?>(null) : RunProtocol.TakeDueAsync(this, due, lease, _clock.GetUtcNow(), cancellationToken);
    }

    public Task<RunRecord?> ExpireStartAsync(RunRecord starting, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(starting);
        return starting.ETag is null ? Task.FromResult<RunRecord?>(null) : RunProtocol.ExpireStartAsync(this, starting, _clock.GetUtcNow(), _logger, cancellationToken);
    }

    public async Task<int> PurgeAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken);
        var filter = TableClient.CreateQueryFilter(
            $"UpdatedAt lt {before} and (State eq {nameof(RunState.Started)} or State eq {nameof(RunState.OutcomeUnknown)} or State eq {nameof(RunState.Refused)} or State eq {nameof(RunState.Ignored)})");
        var purged = 0;
        await foreach (var entity in _runs.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            if (entity.GetString("WatchState") == nameof(WatchState.Watching))
            {
                // A job still watched keeps its run, however long ago the run was last written.
                continue;
            }

            try
            {
                await _runs.DeleteEntityAsync(entity.PartitionKey, entity.RowKey, entity.ETag, cancellationToken);
            }
            catch (RequestFailedException ex) when (ex.Status is (int)HttpStatusCode.PreconditionFailed or (int)HttpStatusCode.NotFound)
            {
                continue;
            }

            purged++;
            var run = FromEntity(entity);
            await DeleteIndexRowsAsync(run, cancellationToken);

            await foreach (var action in _index.QueryAsync<TableEntity>(e => e.PartitionKey == Encode("actions|" + run.RunId), select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken))
            {
                await DeleteQuietlyAsync(_index, action.PartitionKey, action.RowKey, cancellationToken);
            }

            if (entity.GetString("Platform") is { } platform && entity.GetString("JobId") is { } jobId)
            {
                await DeleteQuietlyAsync(_index, Encode($"job|{platform}|{jobId}"), SecretRow, cancellationToken);
            }
        }

        var settledDeliveries = TableClient.CreateQueryFilter($"Outbox eq true and CreatedAt lt {before} and Status ne {nameof(DeliveryState.Pending)}");
        await foreach (var entity in _runs.QueryAsync<TableEntity>(settledDeliveries, select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken))
        {
            await DeleteQuietlyAsync(_runs, entity.PartitionKey, entity.RowKey, cancellationToken);
        }

        return purged;
    }

    public async Task<RunPage> ListRunsAsync(RunFilter filter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentOutOfRangeException.ThrowIfLessThan(filter.Limit, 1);
        await InitializeAsync(cancellationToken);

        // The listing partition's row keys sort newest first, so the time range and the cursor are row-key bounds and
        // trigger and origin (fixed at claim) are filtered by the service: a page is one range query. State and
        // platform change after the claim, so they are read from the runs themselves, a page's worth in parallel.
        var clauses = new List<string> { TableClient.CreateQueryFilter($"PartitionKey eq {ListPartition}") };
        if (filter.After is { } after)
        {
            clauses.Add(TableClient.CreateQueryFilter($"RowKey gt {ListRowKey(after.CreatedAt, after.RunId)}"));
        }

        if (filter.To is { } to)
        {
            clauses.Add(TableClient.CreateQueryFilter($"RowKey ge {InvertedMillis(to.ToUnixTimeMilliseconds() - 1)}"));
        }

        if (filter.From is { } from)
        {
            clauses.Add(TableClient.CreateQueryFilter($"RowKey lt {InvertedMillis(from.ToUnixTimeMilliseconds()) + "}"}"));
        }

        if (filter.Trigger is { } trigger)
        {
            clauses.Add(TableClient.CreateQueryFilter($"Trigger eq {trigger}"));
        }

        if (filter.Origin is { } origin)
        {
            clauses.Add(TableClient.CreateQueryFilter($"Origin eq {origin}"));
        }

        var wanted = filter.Limit + 1;
        var found = new List<RunRecord>(wanted);
        var batch = new List<TableEntity>(wanted);
        var query = _index.QueryAsync<TableEntity>(string.Join(" and ", clauses), maxPerPage: Math.Min(1000, wanted * 2), cancellationToken: cancellationToken);
        await using var rows = query.GetAsyncEnumerator(cancellationToken);
        var more = true;
        while (found.Count < wanted && more)
        {
            batch.Clear();
            while (batch.Count < wanted - found.Count && (more = await rows.MoveNextAsync()))
            {
                batch.Add(rows.Current);
            }

            var runs = await Task.WhenAll(batch.Select(row => FindListedAsync(row, cancellationToken)));
            found.AddRange(runs.OfType<RunRecord>().Where(run =>
                (filter.State is not { } state || run.State == state) && (filter.Platform is not { } platform || run.Platform == platform)));
        }

        if (found.Count <= filter.Limit)
        {
            return new RunPage(found, null);
        }

        found.RemoveRange(filter.Limit, found.Count - filter.Limit);
        return new RunPage(found, new RunPosition(found[^1].CreatedAt, found[^1].RunId));
    }

    public async Task<IReadOnlyList<RunRecord>> ListFollowersAsync(string parentRunId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(parentRunId);
        await InitializeAsync(cancellationToken);
        var rows = new List<TableEntity>();
        await foreach (var row in _index.QueryAsync<TableEntity>(e => e.PartitionKey == Encode("followers|" + parentRunId), cancellationToken: cancellationToken))
        {
            rows.Add(row);
        }

        var runs = await Task.WhenAll(rows.Select(row => FindListedAsync(row, cancellationToken)));
        return [.. runs.OfType<RunRecord>().OrderBy(r => r.CreatedAt).ThenBy(r => r.RunId, StringComparer.Ordinal)];
    }

    public async Task<bool> SaveJobStatusAsync(string runId, JobStatus status, DateTimeOffset checkedAt, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(runId);
        ArgumentNullException.ThrowIfNull(status);
        var run = await FindRunAsync(runId, cancellationToken);
        if (run is null || run.JobId != status.JobId)
        {
            return false;
        }

        var patch = new TableEntity(PartitionKey(run.Key), RowKey(run.Key))
        {
            ["JobState"] = status.State.ToString(),
            ["RawStatus"] = status.RawStatus,
            ["JobCheckedAt"] = checkedAt,
        };
        if (status.Url is { } url)
        {
            patch["JobUrl"] = url.ToString();
        }

        try
        {
            await _runs.UpdateEntityAsync(patch, new ETag(run.ETag!), TableUpdateMode.Merge, cancellationToken);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is (int)HttpStatusCode.PreconditionFailed or (int)HttpStatusCode.NotFound)
        {
            return false;
        }
    }

    public async Task<IReadOnlyList<RunRecord>> ListWatchesDueAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        await InitializeAsync(cancellationToken);
        var filter = TableClient.CreateQueryFilter($"WatchState eq {nameof(WatchState.Watching)} and WatchNextAt le {now}");
        var due = new List<RunRecord>();
        await foreach (var entity in _runs.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            var run = FromEntity(entity);
            if (run.WatchLeaseUntil is not { } leased || leased <= now)
            {
                due.Add(run);
            }
        }

        return [.. due.OrderBy(r => r.WatchNextAt).Take(max)];
    }

    public async Task<RunLease?> TakeWatchAsync(RunRecord due, TimeSpan lease, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(due);
        var now = _clock.GetUtcNow();
        if (due.Watch != WatchTransitions.From(WatchTransition.WatchTake) || due.ETag is null || due.WatchNextAt > now || due.WatchLeaseUntil > now)
        {
            return null;
        }

        var taken = due with { Version = due.Version + 1, WatchLeaseUntil = now + lease };
        var etag = await ReplaceWatchAsync(due, taken, cancellationToken);
        return etag is null ? null : new RunLease(due.Key, due.RunId, taken.Version) { ETag = etag };
    }

    public async Task<bool> UpdateWatchAsync(RunLease lease, WatchUpdate update, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentNullException.ThrowIfNull(update);
        if (update.Transition is WatchTransition.Watch or WatchTransition.WatchTake)
        {
            throw new ArgumentException("A watch update ends a check: it reschedules, ends, loses or abandons the watch.", nameof(update));
        }

        // The ETag of the take proves the entity unchanged since; a lease without one is read first.
        var current = await FindAsync(lease.Key, cancellationToken);
        if (current is null || current.RunId != lease.RunId || current.Version != lease.Version || current.Watch != WatchState.Watching
            || (lease.ETag is not null && current.ETag != lease.ETag))
        {
            return false;
        }

        return await ReplaceWatchAsync(current, update.Apply(current), cancellationToken) is not null;
    }

    public async Task AppendActionAsync(RunAction action, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(action);
        await InitializeAsync(cancellationToken);
        var row = string.Create(CultureInfo.InvariantCulture, $"{action.At.UtcTicks:D19}|{Guid.CreateVersion7():n}");
        await _index.AddEntityAsync(new TableEntity(Encode("actions|" + action.RunId), row)
        {
            ["At"] = action.At,
            ["Action"] = action.Action,
            ["By"] = action.By,
            ["Detail"] = action.Detail,
        }, cancellationToken);
    }

    public async Task<IReadOnlyList<RunAction>> ListActionsAsync(string runId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(runId);
        await InitializeAsync(cancellationToken);
        var actions = new List<RunAction>();
        await foreach (var row in _index.QueryAsync<TableEntity>(e => e.PartitionKey == Encode("actions|" + runId), cancellationToken: cancellationToken))
        {
            actions.Add(new RunAction(runId, row.GetDateTimeOffset("At") ?? DateTimeOffset.MinValue, row.GetString("Action"), row.GetString("By"), row.GetString("Detail")));
        }

        return actions;
    }

    public async Task AddOutcomeCountsAsync(IReadOnlyCollection<OutcomeCount> counts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(counts);
        await InitializeAsync(cancellationToken);
        foreach (var count in counts)
        {
            var partition = Encode("counts|" + count.Trigger);
            var row = string.Create(CultureInfo.InvariantCulture, $"{count.Hour.ToUnixTimeMilliseconds():D15}|{count.Outcome}");
            while (true)
            {
                var existing = await _index.GetEntityIfExistsAsync<TableEntity>(partition, row, cancellationToken: cancellationToken);
                try
                {
                    if (existing.HasValue)
                    {
                        var entity = existing.Value!;
                        entity["Count"] = (entity.GetInt64("Count") ?? 0) + count.Count;
                        await _index.UpdateEntityAsync(entity, entity.ETag, TableUpdateMode.Replace, cancellationToken);
                    }
                    else
                    {
                        await _index.AddEntityAsync(new TableEntity(partition, row) { ["Count"] = count.Count, ["Hour"] = count.Hour }, cancellationToken);
                    }

                    break;
                }
                catch (RequestFailedException ex) when (ex.Status is (int)HttpStatusCode.PreconditionFailed or (int)HttpStatusCode.Conflict)
                {
                    // Another instance flushed the same hour at the same time: read its total and add to it again.
                }
            }
        }
    }

    public async Task<RunSummary> SummarizeAsync(string trigger, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(trigger);
        await InitializeAsync(cancellationToken);
        var tally = new RunTally();
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {ListPartition} and RowKey ge {InvertedMillis(to.ToUnixTimeMilliseconds() - 1)} and RowKey lt {InvertedMillis(from.ToUnixTimeMilliseconds()) + "}"} and Trigger eq {trigger}");
        var rows = new List<TableEntity>();
        await foreach (var row in _index.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            rows.Add(row);
        }

        foreach (var chunk in rows.Chunk(64))
        {
            foreach (var run in (await Task.WhenAll(chunk.Select(row => FindListedAsync(row, cancellationToken)))).OfType<RunRecord>())
            {
                tally.AddRun(run.State, run.CreatedAt, run.UpdatedAt, run.OverdueAt is not null);
            }
        }

        var countFilter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {Encode("counts|" + trigger)} and RowKey ge {from.ToUnixTimeMilliseconds().ToString("D15", CultureInfo.InvariantCulture)} and RowKey lt {to.ToUnixTimeMilliseconds().ToString("D15", CultureInfo.InvariantCulture)}");
        await foreach (var row in _index.QueryAsync<TableEntity>(countFilter, cancellationToken: cancellationToken))
        {
            var outcome = Enum.Parse<CountedOutcome>(row.RowKey[(row.RowKey.IndexOf('|', StringComparison.Ordinal) + 1)..]);
            tally.AddCounted(outcome, row.GetInt64("Count") ?? 0);
        }

        return tally.ToSummary();
    }

    /// <summary>The run a listing or follower row points at, if it is still that run.</summary>
    public async Task RecordTickAsync(SchedulerTick tick, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tick);
        await InitializeAsync(cancellationToken);
        await _index.UpsertEntityAsync(
            new TableEntity(TickPartition, TickRow) { ["At"] = tick.At, ["Host"] = tick.Host, ["Instance"] = tick.Instance },
            TableUpdateMode.Replace,
            cancellationToken);
    }

    public async Task<SchedulerTick?> FindLastTickAsync(CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken);
        var found = await _index.GetEntityIfExistsAsync<TableEntity>(TickPartition, TickRow, cancellationToken: cancellationToken);
        return found.HasValue && found.Value!.GetDateTimeOffset("At") is { } at
            ? new SchedulerTick(at, found.Value.GetString("Host") ?? string.Empty, found.Value.GetString("Instance") ?? string.Empty)
            : null;
    }

    private async Task<RunRecord?> FindListedAsync(TableEntity row, CancellationToken cancellationToken)
    {
        var key = ClaimKeys.Restore(Enum.Parse<ClaimKind>(row.GetString("Kind")), row.GetString("Scope"), row.GetString("Id"));
        var run = await FindAsync(key, cancellationToken);
        return run?.RunId == row.GetString("RunId") ? run : null;
    }

    async Task<RunRecord?> IRunWrites.InsertAsync(RunRecord first, CancellationToken cancellationToken)
    {
        // The lookup rows go first: rows whose run was never added (a crash, a lost race) point at no run and are
        // skipped by every reader, while a run without them could never be found by its id, listed or followed.
        await UpsertIndexRowsAsync(first, cancellationToken);
        var deliveries = Plan(null, first);
        try
        {
            var etag = deliveries.Count == 0
                ? (await _runs.AddEntityAsync(ToEntity(first), cancellationToken)).Headers.ETag?.ToString()
                : await SubmitWithOutboxAsync(new TableTransactionAction(TableTransactionActionType.Add, ToEntity(first)), first.Key, deliveries, cancellationToken);
            if (etag is null && deliveries.Count > 0)
            {
                await DeleteIndexRowsAsync(first, cancellationToken);
                return null;
            }

            return Remember(first with { ETag = etag });
        }
        catch (RequestFailedException ex) when (ex.Status == (int)HttpStatusCode.Conflict)
        {
            await DeleteIndexRowsAsync(first, cancellationToken);
            return null;
        }
    }

    Task<RunRecord?> IRunWrites.ReplaceAsync(RunTransition transition, RunRecord read, RunRecord next, CancellationToken cancellationToken)
        => ReplaceAsync(transition, read, next, cancellationToken);

    /// <summary>
    /// The record a lease names, if it is still at the lease's version: the one this instance wrote with the lease's
    /// ETag (the conditional write that follows proves it unchanged), else as read.
    /// </summary>
    private async Task<RunRecord?> CurrentAsync(RunLease lease, CancellationToken cancellationToken)
    {
        if (lease.ETag is not null && _written.TryRemove(lease, out var written))
        {
            return written;
        }

        var current = await FindAsync(lease.Key, cancellationToken);
        return current is not null && current.Version == lease.Version && current.RunId == lease.RunId ? current : null;
    }

    private RunRecord Remember(RunRecord record)
    {
        if (record.ETag is not null && !record.IsSettled)
        {
            if (_written.Count >= MaxRemembered)
            {
                _written.Clear();
            }

            _written[LeaseOf(record)] = record;
        }

        return record;
    }

    private static RunLease LeaseOf(RunRecord record) => new(record.Key, record.RunId, record.Version) { ETag = record.ETag };

    /// <summary>
    /// Replaces <paramref name="read"/> with <paramref name="next"/> if the entity still has the ETag read (the same
    /// row at the same version); the record as written (remembered while it holds a lease), or null when it changed.
    /// </summary>
    private async Task<RunRecord?> ReplaceAsync(RunTransition transition, RunRecord read, RunRecord next, CancellationToken cancellationToken)
    {
        if (!transition.From.Contains(read.State) || read.ETag is null)
        {
            return null;
        }

        if (read.IndexPending)
        {
            // Written before the lookup rows were (by a version that added them after the run, and stopped between):
            // whoever writes the run next writes them, so a run that settles is always found.
            await UpsertIndexRowsAsync(read, cancellationToken);
        }

        var deliveries = Plan(read, next);
        if (deliveries.Count > 0)
        {
            var etag = await SubmitWithOutboxAsync(
                new TableTransactionAction(TableTransactionActionType.UpdateReplace, ToEntity(next), new ETag(read.ETag)), read.Key, deliveries, cancellationToken);
            return etag is null ? null : Remember(next with { ETag = etag, IndexPending = false });
        }

        try
        {
            var response = await _runs.UpdateEntityAsync(ToEntity(next), new ETag(read.ETag), TableUpdateMode.Replace, cancellationToken);
            return Remember(next with { ETag = response.Headers.ETag?.ToString(), IndexPending = false });
        }
        catch (RequestFailedException ex) when (ex.Status is (int)HttpStatusCode.PreconditionFailed or (int)HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>
    /// A watch's write (<see cref="WatchTransitions"/>): replaces a watching run with <paramref name="next"/> if the
    /// entity still has the ETag read; the new ETag, or null when it changed.
    /// </summary>
    private async Task<string?> ReplaceWatchAsync(RunRecord read, RunRecord next, CancellationToken cancellationToken)
    {
        if (read.Watch != WatchState.Watching || read.ETag is null)
        {
            return null;
        }

        var deliveries = Plan(read, next);
        if (deliveries.Count > 0)
        {
            return await SubmitWithOutboxAsync(
                new TableTransactionAction(TableTransactionActionType.UpdateReplace, ToEntity(next), new ETag(read.ETag)), read.Key, deliveries, cancellationToken);
        }

        try
        {
            var response = await _runs.UpdateEntityAsync(ToEntity(next), new ETag(read.ETag), TableUpdateMode.Replace, cancellationToken);
            return response.Headers.ETag?.ToString();
        }
        catch (RequestFailedException ex) when (ex.Status is (int)HttpStatusCode.PreconditionFailed or (int)HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>The outbox rows the change from <paramref name="before"/> to <paramref name="after"/> writes.</summary>
    private IReadOnlyList<OutboxDelivery> Plan(RunRecord? before, RunRecord after)
        => _outbox.Enabled ? _outbox.Plan(before, after, _clock.GetUtcNow()) : [];

    /// <summary>
    /// The run's write and its outbox rows as one entity group transaction (the rows live in the run's partition): all
    /// of them, or none. The new ETag of the run, or null when the run's condition failed. A delivery already written
    /// (the same event to the same subscription) is left as it is, and the rest written again.
    /// </summary>
    private async Task<string?> SubmitWithOutboxAsync(TableTransactionAction run, ClaimKey key, IReadOnlyList<OutboxDelivery> deliveries, CancellationToken cancellationToken)
    {
        var rows = deliveries.Select(d => DeliveryEntity(PartitionKey(key), DeliveryRowKey(key, d.EventId, d.Subscription), d)).ToList();
        while (true)
        {
            List<TableTransactionAction> actions = [run, .. rows.Select(row => new TableTransactionAction(TableTransactionActionType.Add, row))];
            try
            {
                var response = await _runs.SubmitTransactionAsync(actions, cancellationToken);
                return response.Value[0].Headers.ETag?.ToString();
            }
            catch (TableTransactionFailedException ex) when (ex.FailedTransactionActionIndex is > 0 and var index && ex.Status == (int)HttpStatusCode.Conflict)
            {
                rows.RemoveAt(index - 1);
            }
            catch (TableTransactionFailedException ex) when (ex.Status is (int)HttpStatusCode.PreconditionFailed or (int)HttpStatusCode.NotFound or (int)HttpStatusCode.Conflict)
            {
                return null;
            }
        }
    }

    /// <summary>A delivery's row: in its run's partition, after the run's own row key and apart from any other key's (no encoded key holds "%FF").</summary>
    private static string DeliveryRowKey(ClaimKey key, string eventId, string subscription) => RowKey(key) + "%FF|" + Encode(eventId) + "|" + Encode(subscription);

    private static TableEntity DeliveryEntity(string partitionKey, string rowKey, OutboxDelivery delivery) => new(partitionKey, rowKey)
    {
        ["Outbox"] = true,
        ["EventId"] = delivery.EventId,
        ["Subscription"] = delivery.Subscription,
        ["Destination"] = delivery.Destination,
        ["RunId"] = delivery.RunId,
        ["Type"] = delivery.Type,
        ["Seq"] = delivery.Sequence,
        ["Payload"] = delivery.Payload,
        ["Status"] = delivery.State.ToString(),
        ["CreatedAt"] = delivery.CreatedAt,
        ["NextAt"] = delivery.NextAt,
        ["LeaseUntil"] = delivery.LeaseUntil,
        ["Attempts"] = delivery.Attempts,
        ["AttemptLog"] = DeliveryLogJson.Write(delivery.Log),
        ["Version"] = delivery.Version,
    };

    private static OutboxDelivery FromDeliveryEntity(TableEntity entity) => new()
    {
        EventId = entity.GetString("EventId"),
        Subscription = entity.GetString("Subscription"),
        Destination = entity.GetString("Destination"),
        RunId = entity.GetString("RunId"),
        Type = entity.GetString("Type"),
        Sequence = entity.GetInt64("Seq") ?? 0,
        Payload = entity.GetString("Payload"),
        State = Enum.Parse<DeliveryState>(entity.GetString("Status")),
        CreatedAt = entity.GetDateTimeOffset("CreatedAt") ?? DateTimeOffset.MinValue,
        NextAt = entity.GetDateTimeOffset("NextAt") ?? DateTimeOffset.MinValue,
        LeaseUntil = entity.GetDateTimeOffset("LeaseUntil"),
        Attempts = entity.GetInt32("Attempts") ?? 0,
        Log = DeliveryLogJson.Read(entity.GetString("AttemptLog")),
        Version = entity.GetInt64("Version") ?? 1,
        ETag = entity.ETag.ToString(),
        PartitionKey = entity.PartitionKey,
        RowKey = entity.RowKey,
    };

    public async Task<IReadOnlyList<OutboxDelivery>> ListDeliveriesDueAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        await InitializeAsync(cancellationToken);
        var pending = new List<OutboxDelivery>();
        await foreach (var entity in _runs.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"Outbox eq true and Status eq {nameof(DeliveryState.Pending)}"), cancellationToken: cancellationToken))
        {
            pending.Add(FromDeliveryEntity(entity));
        }

        // A later event of a run waits for every earlier one to the same subscription to be settled: only the head of each line may go.
        return [.. pending
            .GroupBy(d => (d.RunId, d.Subscription))
            .Select(line => line.MinBy(d => d.Sequence)!)
            .Where(head => DeliveryTransitions.MayTake(head, now, earlierPending: false))
            .OrderBy(d => d.NextAt)
            .Take(max)];
    }

    public async Task<DeliveryLease?> TakeDeliveryAsync(OutboxDelivery due, TimeSpan lease, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(due);
        var now = _clock.GetUtcNow();
        if (!DeliveryTransitions.MayTake(due, now, earlierPending: false) || due.ETag is null || due.PartitionKey is null)
        {
            return null;
        }

        var taken = due with { Version = due.Version + 1, LeaseUntil = now + lease };
        var etag = await ReplaceDeliveryAsync(due, taken, cancellationToken);
        return etag is null ? null : new DeliveryLease(taken with { ETag = etag });
    }

    public async Task<bool> UpdateDeliveryAsync(DeliveryLease lease, DeliveryUpdate update, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentNullException.ThrowIfNull(update);
        return await ReplaceDeliveryAsync(lease.Taken, update.Apply(lease.Taken), cancellationToken) is not null;
    }

    private async Task<string?> ReplaceDeliveryAsync(OutboxDelivery read, OutboxDelivery next, CancellationToken cancellationToken)
    {
        var entity = DeliveryEntity(read.PartitionKey!, read.RowKey!, next);
        try
        {
            var response = await _runs.UpdateEntityAsync(entity, new ETag(read.ETag!), TableUpdateMode.Replace, cancellationToken);
            return response.Headers.ETag?.ToString();
        }
        catch (RequestFailedException ex) when (ex.Status is (int)HttpStatusCode.PreconditionFailed or (int)HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public async Task<IReadOnlyList<OutboxDelivery>> ListDeliveriesAsync(string runId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(runId);
        if (await FindRunAsync(runId, cancellationToken) is not { } run)
        {
            return [];
        }

        var from = RowKey(run.Key) + "%FF|";
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {PartitionKey(run.Key)} and RowKey ge {from} and RowKey lt {from + "~"} and Outbox eq true and RunId eq {runId}");
        var deliveries = new List<OutboxDelivery>();
        await foreach (var entity in _runs.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            deliveries.Add(FromDeliveryEntity(entity));
        }

        return [.. deliveries.OrderBy(d => d.Sequence).ThenBy(d => d.Subscription, StringComparer.Ordinal)];
    }

    public async Task DisableSubscriptionAsync(string subscription, string reason, DateTimeOffset at, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(subscription);
        await InitializeAsync(cancellationToken);
        try
        {
            await _index.AddEntityAsync(new TableEntity(DisabledPartition, Encode(subscription)) { ["Subscription"] = subscription, ["At"] = at, ["Reason"] = reason }, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == (int)HttpStatusCode.Conflict)
        {
            // Another instance marked it first: the first mark stays.
        }
    }

    public async Task<IReadOnlyCollection<string>> ListDisabledSubscriptionsAsync(CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken);
        var disabled = new List<string>();
        await foreach (var row in _index.QueryAsync<TableEntity>(e => e.PartitionKey == DisabledPartition, cancellationToken: cancellationToken))
        {
            disabled.Add(row.GetString("Subscription"));
        }

        return disabled;
    }

    public async Task<IReadOnlyList<OutboxDelivery>> ListFailedDeliveriesAsync(int max, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        await InitializeAsync(cancellationToken);
        var filter = TableClient.CreateQueryFilter(
            $"Outbox eq true and (Status eq {nameof(DeliveryState.DeadLettered)} or (Status eq {nameof(DeliveryState.Pending)} and Attempts gt 0))");
        var failed = new List<OutboxDelivery>();
        await foreach (var entity in _runs.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            failed.Add(FromDeliveryEntity(entity));
        }

        return [.. failed.OrderByDescending(d => d.CreatedAt).ThenBy(d => d.EventId, StringComparer.Ordinal).Take(max)];
    }

    /// <summary>The run's lookup rows: by run id, in the newest-first listing, and under its parent; idempotent.</summary>
    private async Task UpsertIndexRowsAsync(RunRecord run, CancellationToken cancellationToken)
    {
        await _index.UpsertEntityAsync(IndexEntity(run), TableUpdateMode.Replace, cancellationToken);
        await _index.UpsertEntityAsync(ListEntity(run), TableUpdateMode.Replace, cancellationToken);
        if (run.ParentRunId is { } parent)
        {
            await _index.UpsertEntityAsync(FollowerEntity(parent, run), TableUpdateMode.Replace, cancellationToken);
        }
    }

    private async Task DeleteIndexRowsAsync(RunRecord run, CancellationToken cancellationToken)
    {
        await DeleteQuietlyAsync(_index, Encode(run.RunId), IndexRow, cancellationToken);
        await DeleteQuietlyAsync(_index, ListPartition, ListRowKey(run.CreatedAt, run.RunId), cancellationToken);
        if (run.ParentRunId is { } parent)
        {
            await DeleteQuietlyAsync(_index, Encode("followers|" + parent), Encode(run.RunId), cancellationToken);
        }
    }

    private static async Task DeleteQuietlyAsync(TableClient table, string partitionKey, string rowKey, CancellationToken cancellationToken)
    {
        try
        {
            await table.DeleteEntityAsync(partitionKey, rowKey, ETag.All, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == (int)HttpStatusCode.NotFound)
        {
        }
    }

    private async Task InitializeAsync(CancellationToken cancellationToken)
    {
        if (_initialized)
        {
            return;
        }

        await _initGate.WaitAsync(cancellationToken);
        try
        {
            if (!_initialized)
            {
                await _runs.CreateIfNotExistsAsync(cancellationToken);
                await _index.CreateIfNotExistsAsync(cancellationToken);
                StoreLog.Opened(_logger, _location, EntityVersion);
                _initialized = true;
            }
        }
        finally
        {
            _initGate.Release();
        }
    }

    private static TableEntity IndexEntity(RunRecord record) => new(Encode(record.RunId), IndexRow)
    {
        ["Kind"] = record.Key.Kind.ToString(),
        ["Scope"] = record.Key.Scope,
        ["Id"] = record.Key.Id,
    };

    private static TableEntity ListEntity(RunRecord record) => new(ListPartition, ListRowKey(record.CreatedAt, record.RunId))
    {
        ["Kind"] = record.Key.Kind.ToString(),
        ["Scope"] = record.Key.Scope,
        ["Id"] = record.Key.Id,
        ["RunId"] = record.RunId,
        ["Trigger"] = record.Trigger,
        ["Origin"] = record.Origin,
    };

    private static TableEntity FollowerEntity(string parentRunId, RunRecord record) => new(Encode("followers|" + parentRunId), Encode(record.RunId))
    {
        ["Kind"] = record.Key.Kind.ToString(),
        ["Scope"] = record.Key.Scope,
        ["Id"] = record.Key.Id,
        ["RunId"] = record.RunId,
    };

    /// <summary>Newest first: row keys sort ascending, so the creation time is inverted; the run id orders runs of one millisecond.</summary>
    private static string ListRowKey(DateTimeOffset createdAt, string runId) => InvertedMillis(createdAt.ToUnixTimeMilliseconds()) + "|" + Encode(runId);

    private static string InvertedMillis(long millis) => (long.MaxValue - millis).ToString("D19", CultureInfo.InvariantCulture);

    private static TableEntity ToEntity(RunRecord record)
        => new(PartitionKey(record.Key), RowKey(record.Key))
        {
            ["Kind"] = record.Key.Kind.ToString(),
            ["Scope"] = record.Key.Scope,
            ["Id"] = record.Key.Id,
            ["RunId"] = record.RunId,
            ["Trigger"] = record.Trigger,
            ["Origin"] = record.Origin,
            ["ParentRunId"] = record.ParentRunId,
            ["TraceParent"] = record.TraceParent,
            ["Arguments"] = record.Arguments,
            ["State"] = record.State.ToString(),
            ["Version"] = record.Version,
            ["LeaseUntil"] = record.LeaseUntil,
            ["Platform"] = record.Platform,
            ["JobId"] = record.JobId,
            ["JobState"] = record.JobState?.ToString(),
            ["RawStatus"] = record.RawStatus,
            ["JobUrl"] = record.JobUrl?.ToString(),
            ["JobCheckedAt"] = record.JobCheckedAt,
            ["Reason"] = record.Reason,
            ["Attempts"] = record.Attempts,
            ["NextAttemptAt"] = record.NextAttemptAt,
            ["Deadline"] = record.Deadline,
            ["CreatedAt"] = record.CreatedAt,
            ["UpdatedAt"] = record.UpdatedAt,
            ["WatchState"] = record.Watch.ToString(),
            ["WatchNextAt"] = record.WatchNextAt,
            ["WatchLeaseUntil"] = record.WatchLeaseUntil,
            ["WatchChecks"] = record.WatchChecks,
            ["WatchMisses"] = record.WatchMisses,
            ["WatchFailures"] = record.WatchFailures,
            ["WatchReason"] = record.WatchReason,
            ["JobStartedAt"] = record.JobStartedAt,
            ["JobFinishedAt"] = record.JobFinishedAt,
            ["OverdueAt"] = record.OverdueAt,

            // This version writes a run's lookup rows before the run itself, so every run it writes has them.
            ["Indexed"] = true,
        };

    private static RunRecord FromEntity(TableEntity entity) => new()
    {
        Key = ClaimKeys.Restore(Enum.Parse<ClaimKind>(entity.GetString("Kind")), entity.GetString("Scope"), entity.GetString("Id")),
        RunId = entity.GetString("RunId"),
        Trigger = entity.GetString("Trigger"),
        Origin = entity.GetString("Origin"),
        ParentRunId = entity.GetString("ParentRunId"),
        TraceParent = entity.GetString("TraceParent"),
        Arguments = entity.GetString("Arguments"),
        State = Enum.Parse<RunState>(entity.GetString("State")),
        Version = entity.GetInt64("Version") ?? 0,
        LeaseUntil = entity.GetDateTimeOffset("LeaseUntil"),
        Platform = entity.GetString("Platform"),
        JobId = entity.GetString("JobId"),
        JobState = entity.GetString("JobState") is { } state ? Enum.Parse<JobState>(state) : null,
        RawStatus = entity.GetString("RawStatus"),
        JobUrl = entity.GetString("JobUrl") is { } url ? new Uri(url) : null,
        JobCheckedAt = entity.GetDateTimeOffset("JobCheckedAt"),
        Reason = entity.GetString("Reason"),
        Attempts = entity.GetInt32("Attempts") ?? 0,
        NextAttemptAt = entity.GetDateTimeOffset("NextAttemptAt"),
        Deadline = entity.GetDateTimeOffset("Deadline"),
        CreatedAt = entity.GetDateTimeOffset("CreatedAt") ?? DateTimeOffset.MinValue,
        UpdatedAt = entity.GetDateTimeOffset("UpdatedAt") ?? DateTimeOffset.MinValue,
        ETag = entity.ETag.ToString(),
        Watch = entity.GetString("WatchState") is { } watch ? Enum.Parse<WatchState>(watch) : WatchState.None,
        WatchNextAt = entity.GetDateTimeOffset("WatchNextAt"),
        WatchLeaseUntil = entity.GetDateTimeOffset("WatchLeaseUntil"),
        WatchChecks = entity.GetInt32("WatchChecks") ?? 0,
        WatchMisses = entity.GetInt32("WatchMisses") ?? 0,
        WatchFailures = entity.GetInt32("WatchFailures") ?? 0,
        WatchReason = entity.GetString("WatchReason"),
        JobStartedAt = entity.GetDateTimeOffset("JobStartedAt"),
        JobFinishedAt = entity.GetDateTimeOffset("JobFinishedAt"),
        OverdueAt = entity.GetDateTimeOffset("OverdueAt"),
        IndexPending = entity.GetBoolean("Indexed") != true,
    };

    private static string PartitionKey(ClaimKey key) => Encode($"{key.Kind}|{key.Scope}");

    private static string RowKey(ClaimKey key) => Encode(key.Id);

    /// <summary>Keys may not hold <c>/ \ # ?</c>, control characters or <c>%</c>-looking text: those are escaped as <c>%XX</c>.</summary>
    private static string Encode(string value)
    {
        var builder = new StringBuilder(value.Length);
        foreach (var c in value)
        {
            if (c is '/' or '\\' or '#' or '?' or '%' || char.IsControl(c))
            {
                builder.Append('%').Append(((int)c).ToString("X2", CultureInfo.InvariantCulture));
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }
}
