using System.Collections.Concurrent;
using System.Data.Common;
using System.Threading.Channels;
using JobRelay.Model;
using JobRelay.Platforms;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace JobRelay.State.Sqlite;

/// <summary>
/// The store in one SQLite file: the embedded default of <c>jobrelay serve</c>. WAL mode lets readers run beside the
/// one writer, and a busy timeout lets several processes on one machine share the file. Every write is one
/// statement, conditional on absence or on the version read.
/// </summary>
/// <remarks>
/// This process's writes go through one writer connection, which commits whatever writes are queued at that moment
/// in one transaction (group commit): the commit, not the statement, is what a write costs, and under load many
/// requests share it. A write is reported done only once its transaction has committed, so a caller never acts on a
/// write a crash of the process could still undo; a transaction that carries a write the protocol marks durable (the
/// mark before a platform call, a pending start its sender is told about) is synced to disk as it commits, so not even
/// a crash of the machine undoes those. Each statement stays conditional, so its outcome is the same whether it shares
/// a transaction or not.
/// </remarks>
internal sealed class SqliteRelayStore : IRelayStore, IRunWrites, IDisposable
{
    /// <summary>The schema this version writes; a file with a newer one is refused rather than misread.</summary>
    internal const int SchemaVersion = 4;

    // Enough to absorb a burst from every connection a host serves, small enough that one transaction stays short.
    private const int MaxBatch = 256;
    private const int MaxIdleReaders = 8;

    private const string Columns =
        "kind, scope, id, run_id, trigger_name, origin, parent_run_id, arguments, state, version, lease_until, platform, job_id, " +
        "job_state, raw_status, job_url, reason, attempts, next_attempt_at, deadline, created_at, updated_at, job_checked_at, trace_parent, " +
        "watch_state, watch_next_at, watch_lease_until, watch_checks, watch_misses, watch_failures, watch_reason, job_started_at, job_finished_at, overdue_at";

    private readonly string _connectionString;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _initGate = new(1, 1);

    // SQLite has one writer at a time: queueing this process's writes for one connection is far cheaper than SQLite's
    // busy handler, which sleeps in growing steps. Other processes still meet the busy timeout.
    private readonly Channel<PendingWrite> _writes = Channel.CreateUnbounded<PendingWrite>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentBag<PreparedConnection> _readers = [];
    private PreparedConnection? _writer;
    private Task? _writeLoop;
    private readonly bool _readOnly;
    private readonly IOutboxPlanner _outbox;
    private volatile bool _initialized;
    private volatile bool _disposed;
    private long _commits;
    private long _committedWrites;
    private long _durableCommits;

    /// <param name="readOnly">
    /// Opens an existing file for reading only: a missing file is an error rather than a new database, and any write
    /// is refused (the CLI's read commands).
    /// </param>
    /// <param name="outbox">Which outbound deliveries each state change writes, in the same transaction; none when null.</param>
    public SqliteRelayStore(string path, TimeProvider clock, ILogger<SqliteRelayStore> logger, bool readOnly = false, IOutboxPlanner? outbox = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(logger);
        Path = System.IO.Path.GetFullPath(path);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = readOnly ? SqliteOpenMode.ReadOnly : SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        _clock = clock;
        _logger = logger;
        _readOnly = readOnly;
        _outbox = outbox ?? NoOutbox.Instance;
    }

    /// <summary>The database file.</summary>
    public string Path { get; }

    /// <summary>Transactions this instance's writer has committed, for the benchmarks' profile of group commit.</summary>
    internal long Commits => Interlocked.Read(ref _commits);

    /// <summary>Writes those transactions carried.</summary>
    internal long CommittedWrites => Interlocked.Read(ref _committedWrites);

    /// <summary>Those transactions committed with synchronous FULL, because they carried a durable write.</summary>
    internal long DurableCommits => Interlocked.Read(ref _durableCommits);

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _writes.Writer.TryComplete();
        _writeLoop?.GetAwaiter().GetResult();
        _writer?.Dispose();
        while (_readers.TryTake(out var reader))
        {
            reader.Dispose();
        }

        _initGate.Dispose();
    }

    public Task<ClaimResult> ClaimAsync(NewRun run, TimeSpan lease, CancellationToken cancellationToken)
        => RunProtocol.ClaimAsync(this, run, lease, _clock, _logger, cancellationToken);

    public async Task<RunLease?> BeginStartAsync(RunLease lease, TimeSpan callLease, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        var now = _clock.GetUtcNow();
        var statement = TransitionStatement(RunTransitions.BeginStart, lease.Key, lease.RunId, lease.Version, now, now + callLease, outcome: null);
        return await WriteAsync(statement, cancellationToken) == 1 ? lease with { Version = lease.Version + 1 } : null;
    }

    public async Task<bool> SettleAsync(RunLease lease, RunSettlement settlement, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        var transition = RunTransitions.OnSettle(settlement);
        var now = _clock.GetUtcNow();
        var statement = TransitionStatement(transition, lease.Key, lease.RunId, lease.Version, now, leaseUntil: null, settlement);
        if (_outbox.Enabled && await FindAsync(lease.Key, cancellationToken) is { } current && current.RunId == lease.RunId && current.Version == lease.Version)
        {
            // The event is built from the row as this write leaves it; the write stays conditional on the version
            // read, so an event is written exactly when its change is.
            Enqueue(statement, current, transition.Apply(current, now, outcome: settlement));
        }

        var settled = await WriteAsync(statement, cancellationToken) == 1;
        if (!settled)
        {
            StoreLog.LeaseLost(_logger, lease.Key, lease.RunId);
        }

        return settled;
    }

    public async Task<bool> ReleaseAsync(RunLease lease, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        var statement = TransitionStatement(RunTransitions.Release, lease.Key, lease.RunId, lease.Version, _clock.GetUtcNow(), leaseUntil: null, outcome: null);
        return await WriteAsync(statement, cancellationToken) == 1;
    }

    public Task<RunRecord?> FindAsync(ClaimKey key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        return ReadOneAsync(new Statement($"SELECT {Columns} FROM runs WHERE kind = $kind AND scope = $scope AND id = $id").WithKey(key, version: null), cancellationToken);
    }

    public Task<RunRecord?> FindRunAsync(string runId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(runId);
        return ReadOneAsync(new Statement($"SELECT {Columns} FROM runs WHERE run_id = $runId", ("$runId", runId)), cancellationToken);
    }

    public Task<RunRecord?> FindRunByJobAsync(string platform, string jobId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(platform);
        ArgumentException.ThrowIfNullOrEmpty(jobId);
        return ReadOneAsync(
            new Statement($"SELECT {Columns} FROM runs WHERE platform = $platform AND job_id = $jobId LIMIT 1", ("$platform", platform), ("$jobId", jobId)),
            cancellationToken);
    }

    public async Task<string?> FindJobSecretAsync(string platform, string jobId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(platform);
        ArgumentException.ThrowIfNullOrEmpty(jobId);
        var statement = new Statement(
            "SELECT job_secret FROM runs WHERE platform = $platform AND job_id = $jobId AND job_secret IS NOT NULL LIMIT 1",
            ("$platform", platform), ("$jobId", jobId));
        var secrets = await ReadAsync(statement, reader => reader.GetString(0), max: 1, cancellationToken);
        return secrets.Count == 0 ? null : secrets[0];
    }

    public async Task<IReadOnlyList<RunRecord>> ListDueAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);

        // The states are literals so that SQLite can prove each branch matches its partial index.
        var statement = new Statement(
            $"SELECT {Columns} FROM runs WHERE (state = 'Pending' AND next_attempt_at <= $now) " +
            "OR (state IN ('Claimed', 'Starting') AND lease_until <= $now) ORDER BY COALESCE(next_attempt_at, lease_until) LIMIT $max",
            ("$now", Millis(now)), ("$max", max));
        return await ReadAsync(statement, Read, max, cancellationToken);
    }

    public Task<RunLease?> TakeDueAsync(RunRecord due, TimeSpan lease, CancellationToken cancellationToken)
        => RunProtocol.TakeDueAsync(this, due, lease, _clock.GetUtcNow(), cancellationToken);

    public Task<RunRecord?> ExpireStartAsync(RunRecord starting, CancellationToken cancellationToken)
        => RunProtocol.ExpireStartAsync(this, starting, _clock.GetUtcNow(), _logger, cancellationToken);

    public async Task<int> PurgeAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        var purged = await WriteAsync(
            new Statement($"DELETE FROM runs WHERE updated_at < $before AND {SettledStates} AND watch_state <> 'Watching'", ("$before", Millis(before))),
            cancellationToken);
        await WriteAsync(new Statement("DELETE FROM run_actions WHERE run_id NOT IN (SELECT run_id FROM runs)"), cancellationToken);
        await WriteAsync(new Statement("DELETE FROM outcome_counts WHERE hour < $before", ("$before", Millis(before))), cancellationToken);
        await WriteAsync(new Statement("DELETE FROM outbox WHERE created_at < $before AND status <> 'Pending'", ("$before", Millis(before))), cancellationToken);
        return purged;
    }

    public async Task<RunPage> ListRunsAsync(RunFilter filter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentOutOfRangeException.ThrowIfLessThan(filter.Limit, 1);
        var where = new List<string>();
        var parameters = new List<(string, object?)>();
        void Add(string clause, params (string, object?)[] values)
        {
            where.Add(clause);
            parameters.AddRange(values);
        }

        if (filter.Trigger is { } trigger)
        {
            Add("trigger_name = $trigger", ("$trigger", trigger));
        }

        if (filter.Platform is { } platform)
        {
            Add("platform = $platform", ("$platform", platform));
        }

        if (filter.Origin is { } origin)
        {
            Add("origin = $origin", ("$origin", origin));
        }

        if (filter.State is { } state)
        {
            Add("state = $state", ("$state", state.ToString()));
        }

        if (filter.From is { } from)
        {
            Add("created_at >= $from", ("$from", Millis(from)));
        }

        if (filter.To is { } to)
        {
            Add("created_at < $to", ("$to", Millis(to)));
        }

        if (filter.After is { } after)
        {
            Add("(created_at < $afterAt OR (created_at = $afterAt AND run_id > $afterId))", ("$afterAt", Millis(after.CreatedAt)), ("$afterId", after.RunId));
        }

        parameters.Add(("$limit", filter.Limit + 1));
        var statement = new Statement(
            $"SELECT {Columns} FROM runs {(where.Count == 0 ? "" : "WHERE " + string.Join(" AND ", where))} ORDER BY created_at DESC, run_id ASC LIMIT $limit",
            [.. parameters]);
        var runs = await ReadAsync(statement, Read, filter.Limit + 1, cancellationToken);
        if (runs.Count <= filter.Limit)
        {
            return new RunPage(runs, null);
        }

        runs.RemoveAt(runs.Count - 1);
        return new RunPage(runs, new RunPosition(runs[^1].CreatedAt, runs[^1].RunId));
    }

    public async Task<IReadOnlyList<RunRecord>> ListFollowersAsync(string parentRunId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(parentRunId);
        return await ReadAsync(
            new Statement($"SELECT {Columns} FROM runs WHERE parent_run_id = $parent ORDER BY created_at, run_id", ("$parent", parentRunId)),
            Read, int.MaxValue, cancellationToken);
    }

    public async Task<bool> SaveJobStatusAsync(string runId, JobStatus status, DateTimeOffset checkedAt, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(runId);
        ArgumentNullException.ThrowIfNull(status);
        var statement = new Statement(
            "UPDATE runs SET job_state = $jobState, raw_status = $rawStatus, job_url = COALESCE($jobUrl, job_url), job_checked_at = $checked " +
            "WHERE run_id = $runId AND job_id = $jobId",
            ("$jobState", status.State.ToString()), ("$rawStatus", status.RawStatus), ("$jobUrl", status.Url?.ToString()),
            ("$checked", Millis(checkedAt)), ("$runId", runId), ("$jobId", status.JobId));
        return await WriteAsync(statement, cancellationToken) == 1;
    }

    public async Task<IReadOnlyList<RunRecord>> ListWatchesDueAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        var statement = new Statement(
            $"SELECT {Columns} FROM runs WHERE watch_state = 'Watching' AND watch_next_at <= $now " +
            "AND (watch_lease_until IS NULL OR watch_lease_until <= $now) ORDER BY watch_next_at LIMIT $max",
            ("$now", Millis(now)), ("$max", max));
        return await ReadAsync(statement, Read, max, cancellationToken);
    }

    public async Task<RunLease?> TakeWatchAsync(RunRecord due, TimeSpan lease, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(due);
        if (due.Watch != WatchTransitions.From(WatchTransition.WatchTake))
        {
            return null;
        }

        var now = _clock.GetUtcNow();
        var statement = new Statement(
            "UPDATE runs SET version = version + 1, watch_lease_until = $lease " +
            "WHERE kind = $kind AND scope = $scope AND id = $id AND version = $version AND run_id = $runId AND watch_state = 'Watching' " +
            "AND watch_next_at <= $now AND (watch_lease_until IS NULL OR watch_lease_until <= $now)",
            ("$lease", Millis(now + lease)), ("$now", Millis(now)), ("$runId", due.RunId));
        return await WriteAsync(statement.WithKey(due.Key, due.Version), cancellationToken) == 1 ? new RunLease(due.Key, due.RunId, due.Version + 1) : null;
    }

    public async Task<bool> UpdateWatchAsync(RunLease lease, WatchUpdate update, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentNullException.ThrowIfNull(update);
        if (update.Transition is WatchTransition.Watch or WatchTransition.WatchTake)
        {
            throw new ArgumentException("A watch update ends a check: it reschedules, ends, loses or abandons the watch.", nameof(update));
        }

        var status = update.Status;
        var statement = new Statement(
            "UPDATE runs SET version = version + 1, watch_state = $watch, watch_next_at = COALESCE($next, watch_next_at), watch_lease_until = NULL, " +
            "watch_checks = $checks, watch_misses = $misses, watch_failures = $failures, watch_reason = $reason, " +
            "job_state = COALESCE($jobState, job_state), raw_status = COALESCE($rawStatus, raw_status), job_url = COALESCE($jobUrl, job_url), " +
            "job_checked_at = CASE WHEN $jobState IS NULL THEN job_checked_at ELSE $checked END, job_started_at = COALESCE($jobStarted, job_started_at), " +
            "job_finished_at = COALESCE($finished, job_finished_at), overdue_at = COALESCE(overdue_at, $overdue) " +
            "WHERE kind = $kind AND scope = $scope AND id = $id AND version = $version AND run_id = $runId AND watch_state = 'Watching'",
            ("$watch", WatchTransitions.To(update.Transition).ToString()),
            ("$next", update.NextAt is { } next ? Millis(next) : null),
            ("$checks", update.Checks), ("$misses", update.Misses), ("$failures", update.Failures), ("$reason", update.Reason),
            ("$jobState", status?.State.ToString()), ("$rawStatus", status?.RawStatus), ("$jobUrl", status?.Url?.ToString()),
            ("$checked", Millis(update.CheckedAt)), ("$jobStarted", status?.StartedAt is { } started ? Millis(started) : null),
            ("$finished", update.FinishedAt is { } finished ? Millis(finished) : null),
            ("$overdue", update.OverdueAt is { } overdue ? Millis(overdue) : null),
            ("$runId", lease.RunId));
        if (_outbox.Enabled && await FindAsync(lease.Key, cancellationToken) is { } current && current.RunId == lease.RunId && current.Version == lease.Version)
        {
            Enqueue(statement, current, update.Apply(current));
        }

        return await WriteAsync(statement.WithKey(lease.Key, lease.Version), cancellationToken) == 1;
    }

    public async Task AppendActionAsync(RunAction action, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(action);
        var statement = new Statement(
            "INSERT INTO run_actions (run_id, at, action, by_name, detail) VALUES ($runId, $at, $action, $by, $detail)",
            ("$runId", action.RunId), ("$at", Millis(action.At)), ("$action", action.Action), ("$by", action.By), ("$detail", action.Detail));
        await WriteAsync(statement, cancellationToken);
    }

    public async Task<IReadOnlyList<RunAction>> ListActionsAsync(string runId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(runId);
        return await ReadAsync(
            new Statement("SELECT at, action, by_name, detail FROM run_actions WHERE run_id = $runId ORDER BY seq", ("$runId", runId)),
            reader => new RunAction(runId, DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(0)), reader.GetString(1), reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetString(3)),
            int.MaxValue, cancellationToken);
    }

    public async Task AddOutcomeCountsAsync(IReadOnlyCollection<OutcomeCount> counts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(counts);

        // Queued together, the counts share the writer's next transaction.
        await Task.WhenAll(counts.Select(count => WriteAsync(
            new Statement(
                "INSERT INTO outcome_counts (trigger_name, outcome, hour, count) VALUES ($trigger, $outcome, $hour, $count) " +
                "ON CONFLICT (trigger_name, outcome, hour) DO UPDATE SET count = count + excluded.count",
                ("$trigger", count.Trigger), ("$outcome", count.Outcome.ToString()), ("$hour", Millis(count.Hour)), ("$count", count.Count)),
            cancellationToken)));
    }

    public async Task<RunSummary> SummarizeAsync(string trigger, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(trigger);
        var rows = await ReadAsync(
            new Statement(
                "SELECT state, created_at, updated_at, overdue_at IS NOT NULL FROM runs WHERE trigger_name = $trigger AND created_at >= $from AND created_at < $to",
                ("$trigger", trigger), ("$from", Millis(from)), ("$to", Millis(to))),
            reader => (State: Enum.Parse<RunState>(reader.GetString(0)), CreatedAt: DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)), UpdatedAt: DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)), Overdue: reader.GetBoolean(3)),
            int.MaxValue, cancellationToken);
        var tally = new RunTally();
        foreach (var (state, createdAt, updatedAt, overdue) in rows)
        {
            tally.AddRun(state, createdAt, updatedAt, overdue);
        }

        var sums = await ReadAsync(
            new Statement(
                "SELECT outcome, SUM(count) FROM outcome_counts WHERE trigger_name = $trigger AND hour >= $from AND hour < $to GROUP BY outcome",
                ("$trigger", trigger), ("$from", Millis(from)), ("$to", Millis(to))),
            reader => (Outcome: Enum.Parse<CountedOutcome>(reader.GetString(0)), Count: reader.GetInt64(1)),
            int.MaxValue, cancellationToken);
        foreach (var (outcome, count) in sums)
        {
            tally.AddCounted(outcome, count);
        }

        return tally.ToSummary();
    }

    public async Task RecordTickAsync(SchedulerTick tick, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tick);
        await WriteAsync(
            new Statement(
                "INSERT INTO scheduler_ticks (id, at, host, instance) VALUES (1, $at, $host, $instance) " +
                "ON CONFLICT (id) DO UPDATE SET at = excluded.at, host = excluded.host, instance = excluded.instance",
                ("$at", Millis(tick.At)), ("$host", tick.Host), ("$instance", tick.Instance)),
            cancellationToken);
    }

    public async Task<SchedulerTick?> FindLastTickAsync(CancellationToken cancellationToken)
    {
        var found = await ReadAsync(
            new Statement("SELECT at, host, instance FROM scheduler_ticks WHERE id = 1"),
            reader => new SchedulerTick(DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(0)), reader.GetString(1), reader.GetString(2)),
            max: 1, cancellationToken);
        return found.Count == 0 ? null : found[0];
    }

    private const string SettledStates = "state IN ('Started', 'OutcomeUnknown', 'Refused', 'Ignored')";

    private const string OutboxColumns =
        "event_id, subscription, destination, run_id, type, seq, payload, status, created_at, next_at, lease_until, attempts, attempt_log, version";

    public async Task<IReadOnlyList<OutboxDelivery>> ListDeliveriesDueAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);

        // A later event of a run waits for every earlier one to the same subscription to be settled.
        var statement = new Statement(
            $"SELECT {OutboxColumns} FROM outbox o WHERE o.status = 'Pending' AND o.next_at <= $now AND (o.lease_until IS NULL OR o.lease_until <= $now) " +
            "AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.run_id = o.run_id AND e.subscription = o.subscription AND e.seq < o.seq AND e.status = 'Pending') " +
            "ORDER BY o.next_at LIMIT $max",
            ("$now", Millis(now)), ("$max", max));
        return await ReadAsync(statement, ReadDelivery, max, cancellationToken);
    }

    public async Task<DeliveryLease?> TakeDeliveryAsync(OutboxDelivery due, TimeSpan lease, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(due);
        var now = _clock.GetUtcNow();
        if (!DeliveryTransitions.MayTake(due, now, earlierPending: false))
        {
            return null;
        }

        var statement = new Statement(
            "UPDATE outbox SET version = version + 1, lease_until = $lease WHERE event_id = $eventId AND subscription = $subscription AND version = $version " +
            "AND status = 'Pending' AND next_at <= $now AND (lease_until IS NULL OR lease_until <= $now)",
            ("$lease", Millis(now + lease)), ("$now", Millis(now)), ("$eventId", due.EventId), ("$subscription", due.Subscription), ("$version", due.Version));
        return await WriteAsync(statement, cancellationToken) == 1 ? new DeliveryLease(due with { Version = due.Version + 1, LeaseUntil = now + lease }) : null;
    }

    public async Task<bool> UpdateDeliveryAsync(DeliveryLease lease, DeliveryUpdate update, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentNullException.ThrowIfNull(update);
        var next = update.Apply(lease.Taken);
        var statement = new Statement(
            "UPDATE outbox SET version = version + 1, status = $status, next_at = $next, lease_until = NULL, attempts = $attempts, attempt_log = $log " +
            "WHERE event_id = $eventId AND subscription = $subscription AND version = $version AND status = 'Pending'",
            ("$status", next.State.ToString()), ("$next", Millis(next.NextAt)), ("$attempts", next.Attempts), ("$log", DeliveryLogJson.Write(next.Log)),
            ("$eventId", next.EventId), ("$subscription", next.Subscription), ("$version", lease.Taken.Version));
        return await WriteAsync(statement, cancellationToken) == 1;
    }

    public async Task<IReadOnlyList<OutboxDelivery>> ListDeliveriesAsync(string runId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(runId);
        return await ReadAsync(
            new Statement($"SELECT {OutboxColumns} FROM outbox WHERE run_id = $runId ORDER BY seq, subscription", ("$runId", runId)),
            ReadDelivery, int.MaxValue, cancellationToken);
    }

    public async Task<IReadOnlyList<OutboxDelivery>> ListFailedDeliveriesAsync(int max, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        return await ReadAsync(
            new Statement(
                $"SELECT {OutboxColumns} FROM outbox WHERE status = 'DeadLettered' OR (status = 'Pending' AND attempts > 0) ORDER BY created_at DESC, event_id LIMIT $max",
                ("$max", max)),
            ReadDelivery, max, cancellationToken);
    }

    public async Task DisableSubscriptionAsync(string subscription, string reason, DateTimeOffset at, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(subscription);
        await WriteAsync(
            new Statement("INSERT INTO outbound_disabled (subscription, at, reason) VALUES ($subscription, $at, $reason) ON CONFLICT (subscription) DO NOTHING",
                ("$subscription", subscription), ("$at", Millis(at)), ("$reason", reason)),
            cancellationToken);
    }

    public async Task<IReadOnlyCollection<string>> ListDisabledSubscriptionsAsync(CancellationToken cancellationToken)
        => await ReadAsync(new Statement("SELECT subscription FROM outbound_disabled"), reader => reader.GetString(0), int.MaxValue, cancellationToken);

    /// <summary>Adds the outbox rows the change from <paramref name="before"/> to <paramref name="after"/> writes to <paramref name="statement"/>'s transaction.</summary>
    private void Enqueue(Statement statement, RunRecord? before, RunRecord after)
    {
        if (!_outbox.Enabled)
        {
            return;
        }

        foreach (var delivery in _outbox.Plan(before, after, _clock.GetUtcNow()))
        {
            statement.Then.Add(new Statement(
                $"INSERT INTO outbox ({OutboxColumns}) VALUES ($eventId, $subscription, $destination, $runId, $type, $seq, $payload, 'Pending', $created, $next, NULL, 0, '[]', 1) " +
                "ON CONFLICT (event_id, subscription) DO NOTHING",
                ("$eventId", delivery.EventId), ("$subscription", delivery.Subscription), ("$destination", delivery.Destination), ("$runId", delivery.RunId),
                ("$type", delivery.Type), ("$seq", delivery.Sequence), ("$payload", delivery.Payload), ("$created", Millis(delivery.CreatedAt)), ("$next", Millis(delivery.NextAt))));
        }
    }

    private static OutboxDelivery ReadDelivery(DbDataReader reader) => new()
    {
        EventId = reader.GetString(0),
        Subscription = reader.GetString(1),
        Destination = reader.GetString(2),
        RunId = reader.GetString(3),
        Type = reader.GetString(4),
        Sequence = reader.GetInt64(5),
        Payload = reader.GetString(6),
        State = Enum.Parse<DeliveryState>(reader.GetString(7)),
        CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(8)),
        NextAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(9)),
        LeaseUntil = reader.IsDBNull(10) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(10)),
        Attempts = reader.GetInt32(11),
        Log = DeliveryLogJson.Read(reader.GetString(12)),
        Version = reader.GetInt64(13),
    };

    async Task<RunRecord?> IRunWrites.InsertAsync(RunRecord first, CancellationToken cancellationToken)
    {
        // The conflict target is the key alone: a run id already taken by another key is an error, not a lost race,
        // which the claim would otherwise retry for ever without finding a run under its own key.
        var statement = new Statement(
            "INSERT INTO runs (kind, scope, id, run_id, trigger_name, origin, parent_run_id, trace_parent, arguments, state, version, lease_until, reason, attempts, created_at, updated_at) " +
            "VALUES ($kind, $scope, $id, $runId, $trigger, $origin, $parent, $traceParent, $arguments, $state, $version, $lease, $reason, 0, $now, $now) ON CONFLICT (kind, scope, id) DO NOTHING",
            ("$runId", first.RunId), ("$trigger", first.Trigger), ("$origin", first.Origin), ("$parent", first.ParentRunId), ("$traceParent", first.TraceParent),
            ("$arguments", first.Arguments), ("$state", first.State.ToString()), ("$lease", first.LeaseUntil is { } until ? Millis(until) : null),
            ("$reason", first.Reason), ("$now", Millis(first.CreatedAt)));
        Enqueue(statement, null, first);
        return await WriteAsync(statement.WithKey(first.Key, first.Version), cancellationToken) == 1 ? first : null;
    }

    async Task<RunRecord?> IRunWrites.ReplaceAsync(RunTransition transition, RunRecord read, RunRecord next, CancellationToken cancellationToken)
    {
        var outcome = transition.Effects.HasFlag(RunEffects.RecordOutcome)
            ? new RunSettlement(next.State)
            {
                Platform = next.Platform,
                JobId = next.JobId,
                JobState = next.JobState,
                RawStatus = next.RawStatus,
                JobUrl = next.JobUrl,
                Reason = next.Reason,
                NextAttemptAt = next.NextAttemptAt,
                Deadline = next.Deadline,
                WatchNextAt = next.WatchNextAt,
                JobStartedAt = next.JobStartedAt,
            }
            : null;
        var statement = TransitionStatement(transition, read.Key, read.RunId, read.Version, next.UpdatedAt, next.LeaseUntil, outcome);
        Enqueue(statement, read, next);
        return await WriteAsync(statement, cancellationToken) == 1 ? next : null;
    }

    /// <summary>
    /// The conditional write of <paramref name="transition"/> on the row of <paramref name="key"/> whose run id is
    /// <paramref name="runId"/>, at <paramref name="version"/>: its state condition and its effects are the table's. The
    /// run id makes a row released and claimed again a new row, whose versions start over: a write prepared against the
    /// old row never matches it.
    /// </summary>
    private static Statement TransitionStatement(RunTransition transition, ClaimKey key, string runId, long version, DateTimeOffset now, DateTimeOffset? leaseUntil, RunSettlement? outcome)
    {
        var statement = new Statement(TransitionSql[transition], ("$now", Millis(now)), ("$runId", runId)) { Durable = transition.IsDurable };
        if (transition.Effects.HasFlag(RunEffects.GrantLease))
        {
            statement.With("$lease", Millis(leaseUntil ?? throw new ArgumentNullException(nameof(leaseUntil), $"{transition.Name} grants a lease.")));
        }

        if (transition.Effects.HasFlag(RunEffects.RecordOutcome))
        {
            ArgumentNullException.ThrowIfNull(outcome);
            statement
                .With("$platform", outcome.Platform)
                .With("$jobId", outcome.JobId)
                .With("$jobState", outcome.JobState?.ToString())
                .With("$rawStatus", outcome.RawStatus)
                .With("$jobUrl", outcome.JobUrl?.ToString())
                .With("$jobSecret", outcome.JobSecret)
                .With("$reason", outcome.Reason)
                .With("$nextAttempt", outcome.NextAttemptAt is { } next ? Millis(next) : null)
                .With("$deadline", outcome.Deadline is { } deadline ? Millis(deadline) : null);
        }

        if (transition.Effects.HasFlag(RunEffects.ArmWatch))
        {
            statement
                .With("$watchNext", outcome?.WatchNextAt is { } watchNext ? Millis(watchNext) : null)
                .With("$jobStarted", outcome?.JobStartedAt is { } jobStarted ? Millis(jobStarted) : null);
        }

        return statement.WithKey(key, version);
    }

    /// <summary>Each transition's statement, built once from its row of the table.</summary>
    private static readonly Dictionary<RunTransition, string> TransitionSql = RunTransitions.All
        .Where(t => t.Guard != RunGuard.Absent)
        .ToDictionary(t => t, TransitionSqlOf);

    private static string TransitionSqlOf(RunTransition transition)
    {
        var where = "WHERE kind = $kind AND scope = $scope AND id = $id AND run_id = $runId AND version = $version AND state IN (" +
            string.Join(", ", transition.FromStates.Select(state => $"'{state}'")) + ")";
        if (transition.Effects.HasFlag(RunEffects.DeleteRow))
        {
            return "DELETE FROM runs " + where;
        }

        var set = new List<string> { $"state = '{transition.To}'", "updated_at = $now" };
        var effects = transition.Effects;
        if (effects.HasFlag(RunEffects.BumpVersion))
        {
            set.Add("version = version + 1");
        }

        if (effects.HasFlag(RunEffects.GrantLease))
        {
            set.Add("lease_until = $lease");
        }
        else if (effects.HasFlag(RunEffects.ClearLease))
        {
            set.Add("lease_until = NULL");
        }

        if (effects.HasFlag(RunEffects.CountAttempt))
        {
            set.Add("attempts = attempts + 1");
        }

        if (effects.HasFlag(RunEffects.RecordOutcome))
        {
            set.Add("platform = COALESCE($platform, platform), job_id = COALESCE($jobId, job_id), job_state = COALESCE($jobState, job_state), " +
                "raw_status = COALESCE($rawStatus, raw_status), job_url = COALESCE($jobUrl, job_url), job_secret = COALESCE($jobSecret, job_secret), " +
                "reason = $reason, next_attempt_at = $nextAttempt, deadline = COALESCE($deadline, deadline)");
        }

        if (effects.HasFlag(RunEffects.ArmWatch))
        {
            set.Add("watch_state = CASE WHEN $watchNext IS NULL THEN watch_state ELSE 'Watching' END, watch_next_at = COALESCE($watchNext, watch_next_at), " +
                "job_started_at = COALESCE($jobStarted, job_started_at)");
        }

        return $"UPDATE runs SET {string.Join(", ", set)} {where}";
    }

    private async Task<RunRecord?> ReadOneAsync(Statement statement, CancellationToken cancellationToken)
    {
        var found = await ReadAsync(statement, Read, max: 1, cancellationToken);
        return found.Count == 0 ? null : found[0];
    }

    private async Task<List<T>> ReadAsync<T>(Statement statement, Func<SqliteDataReader, T> read, int max, CancellationToken cancellationToken)
    {
        await EnsureInitializedAsync(cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();
        var connection = RentReader();
        try
        {
            var rows = new List<T>(Math.Min(max, 16));
            using (var reader = connection.Prepare(statement).ExecuteReader())
            {
                while (rows.Count < max && reader.Read())
                {
                    rows.Add(read(reader));
                }
            }

            ReturnReader(connection);
            return rows;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private PreparedConnection RentReader()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _readers.TryTake(out var reader) ? reader : PreparedConnection.Open(_connectionString, "PRAGMA busy_timeout = 30000;");
    }

    private void ReturnReader(PreparedConnection connection)
    {
        if (_disposed || _readers.Count >= MaxIdleReaders)
        {
            connection.Dispose();
            return;
        }

        _readers.Add(connection);
    }

    private async Task<int> WriteAsync(Statement statement, CancellationToken cancellationToken)
    {
        if (_readOnly)
        {
            throw new InvalidOperationException($"The store {Path} is open read-only.");
        }

        await EnsureInitializedAsync(cancellationToken);
        var write = new PendingWrite(statement, cancellationToken);
        ObjectDisposedException.ThrowIf(!_writes.Writer.TryWrite(write), this);

        return await write.Done.Task;
    }

    /// <summary>Commits the queued writes, as many as are waiting, one transaction at a time, until the store is disposed.</summary>
    private async Task WriteLoopAsync()
    {
        var batch = new List<PendingWrite>(MaxBatch);
        while (await _writes.Reader.WaitToReadAsync(CancellationToken.None))
        {
            while (batch.Count < MaxBatch && _writes.Reader.TryRead(out var write))
            {
                if (write.CancellationToken.IsCancellationRequested)
                {
                    write.Done.TrySetCanceled(write.CancellationToken);
                    continue;
                }

                batch.Add(write);
            }

            if (batch.Count > 0)
            {
                Commit(batch);
                batch.Clear();
            }
        }
    }

    private void Commit(List<PendingWrite> batch)
    {
        var writer = _writer!;
        var results = new int[batch.Count];
        var failures = new Exception?[batch.Count];
        var durable = batch.Exists(write => write.Statement.Durable);
        try
        {
            // WAL with synchronous NORMAL makes a commit survive a crash of the process but not of the machine: the WAL
            // is synced at checkpoints only. A transaction that carries a durable write (the mark before a platform
            // call, a pending start its sender is told about) syncs the WAL as it commits. The level cannot change
            // inside a transaction, so it is set around this one.
            if (durable)
            {
                writer.Execute(SynchronousFull);
            }

            writer.Execute("BEGIN IMMEDIATE");
            for (var i = 0; i < batch.Count; i++)
            {
                if (batch[i].Statement.Then.Count > 0)
                {
                    (results[i], failures[i]) = ExecuteWithFollowers(writer, batch[i].Statement);
                    continue;
                }

                try
                {
                    results[i] = writer.Prepare(batch[i].Statement).ExecuteNonQuery();
                }
                catch (SqliteException ex) when (writer.InTransaction)
                {
                    // A refused statement (a constraint) undoes itself alone; the others in the transaction stand.
                    failures[i] = ex;
                }
            }

            writer.Execute("COMMIT");
            Interlocked.Increment(ref _commits);
            Interlocked.Add(ref _committedWrites, batch.Count);
            if (durable)
            {
                Interlocked.Increment(ref _durableCommits);
            }
        }
        catch (Exception ex)
        {
            foreach (var write in batch)
            {
                write.Done.TrySetException(ex);
            }

            Recover(writer);
            return;
        }

        if (durable)
        {
            RestoreSynchronous(writer);
        }

        for (var i = 0; i < batch.Count; i++)
        {
            if (failures[i] is { } failure)
            {
                batch[i].Done.TrySetException(failure);
            }
            else
            {
                batch[i].Done.TrySetResult(results[i]);
            }
        }
    }

    /// <summary>A statement and its followers as one unit inside the batch's transaction: all of them, or none.</summary>
    private static (int Result, Exception? Failure) ExecuteWithFollowers(PreparedConnection writer, Statement statement)
    {
        writer.Execute("SAVEPOINT state_change");
        try
        {
            var changed = writer.Prepare(statement).ExecuteNonQuery();
            if (changed == 1)
            {
                foreach (var follower in statement.Then)
                {
                    writer.Prepare(follower).ExecuteNonQuery();
                }
            }

            writer.Execute("RELEASE state_change");
            return (changed, null);
        }
        catch (SqliteException ex) when (writer.InTransaction)
        {
            writer.Execute("ROLLBACK TO state_change");
            writer.Execute("RELEASE state_change");
            return (0, ex);
        }
    }

    /// <summary>Back to synchronous NORMAL after a durable commit; a connection that cannot take it fails the next batch instead.</summary>
    private static void RestoreSynchronous(PreparedConnection writer)
    {
        try
        {
            writer.Execute(SynchronousNormal);
        }
        catch (SqliteException)
        {
            // Left at FULL, the next batches are only slower; a connection past use fails the next batch, which recovers it.
        }
    }

    /// <summary>Ends a failed transaction, or replaces a writer connection past use; a failure here fails the next batch instead.</summary>
    private void Recover(PreparedConnection writer)
    {
        try
        {
            if (writer.InTransaction)
            {
                writer.Execute("ROLLBACK");
            }

            writer.Execute(SynchronousNormal);
        }
        catch (Exception ex) when (ex is SqliteException or ObjectDisposedException or InvalidOperationException)
        {
            try
            {
                _writer = PreparedConnection.Open(_connectionString, WriterPragmas);
                writer.Dispose();
            }
            catch (SqliteException)
            {
                // The file cannot be opened now: the next batch meets the same error and reports it to its callers.
            }
        }
    }

    private static RunRecord Read(DbDataReader reader)
    {
        string? Text(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
        DateTimeOffset? Time(int i) => reader.IsDBNull(i) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(i));
        return new RunRecord
        {
            Key = ClaimKeys.Restore(Enum.Parse<ClaimKind>(reader.GetString(0)), reader.GetString(1), reader.GetString(2)),
            RunId = reader.GetString(3),
            Trigger = reader.GetString(4),
            Origin = reader.GetString(5),
            ParentRunId = Text(6),
            Arguments = reader.GetString(7),
            State = Enum.Parse<RunState>(reader.GetString(8)),
            Version = reader.GetInt64(9),
            LeaseUntil = Time(10),
            Platform = Text(11),
            JobId = Text(12),
            JobState = Text(13) is { } state ? Enum.Parse<JobState>(state) : null,
            RawStatus = Text(14),
            JobUrl = Text(15) is { } url ? new Uri(url) : null,
            Reason = Text(16),
            Attempts = reader.GetInt32(17),
            NextAttemptAt = Time(18),
            Deadline = Time(19),
            CreatedAt = Time(20)!.Value,
            UpdatedAt = Time(21)!.Value,
            JobCheckedAt = Time(22),
            TraceParent = Text(23),
            Watch = Text(24) is { } watch ? Enum.Parse<WatchState>(watch) : WatchState.None,
            WatchNextAt = Time(25),
            WatchLeaseUntil = Time(26),
            WatchChecks = reader.GetInt32(27),
            WatchMisses = reader.GetInt32(28),
            WatchFailures = reader.GetInt32(29),
            WatchReason = Text(30),
            JobStartedAt = Time(31),
            JobFinishedAt = Time(32),
            OverdueAt = Time(33),
        };
    }

    private static long Millis(DateTimeOffset time) => time.ToUnixTimeMilliseconds();

    private const string SynchronousNormal = "PRAGMA synchronous = NORMAL";
    private const string SynchronousFull = "PRAGMA synchronous = FULL";
    private const string WriterPragmas = "PRAGMA busy_timeout = 30000; " + SynchronousNormal + ";";

    private ValueTask EnsureInitializedAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _initialized ? ValueTask.CompletedTask : new ValueTask(InitializeAsync(cancellationToken));
    }

    private async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await _initGate.WaitAsync(cancellationToken);
        try
        {
            if (_initialized)
            {
                return;
            }

            if (_readOnly)
            {
                OpenForReading();
                _initialized = true;
                return;
            }

            var folder = System.IO.Path.GetDirectoryName(Path);
            if (!string.IsNullOrEmpty(folder))
            {
                Directory.CreateDirectory(folder);
            }

            var writer = PreparedConnection.Open(_connectionString, "PRAGMA busy_timeout = 30000; PRAGMA journal_mode = WAL;");
            try
            {
                CreateOrUpgradeSchema(writer);
                writer.Execute(WriterPragmas);
            }
            catch
            {
                writer.Dispose();
                throw;
            }

            _writer = writer;
            _writeLoop = Task.Run(WriteLoopAsync, CancellationToken.None);
            StoreLog.Opened(_logger, Path, SchemaVersion);
            _initialized = true;
        }
        finally
        {
            _initGate.Release();
        }
    }

    /// <summary>Checks that an existing file has this version's schema, creating and changing nothing.</summary>
    private void OpenForReading()
    {
        if (!File.Exists(Path))
        {
            throw new FileNotFoundException($"There is no JobRelay store at {Path}.", Path);
        }

        var reader = RentReader();
        try
        {
            var version = reader.ExecuteScalarInt("PRAGMA user_version");
            if (version != SchemaVersion)
            {
                throw new InvalidOperationException(version > SchemaVersion
                    ? $"The store file {Path} has schema version {version}, newer than this JobRelay knows ({SchemaVersion}): upgrade JobRelay, or point it at another data folder."
                    : $"The store file {Path} has schema version {version}, older than this JobRelay's ({SchemaVersion}): start 'jobrelay serve' on it once to upgrade it.");
            }
        }
        finally
        {
            ReturnReader(reader);
        }

        StoreLog.Opened(_logger, Path, SchemaVersion);
    }

    private void CreateOrUpgradeSchema(PreparedConnection connection)
    {
        // IMMEDIATE takes the write lock at once, so two processes opening a new file do not both create the schema.
        connection.Execute("BEGIN IMMEDIATE");
        try
        {
            var version = connection.ExecuteScalarInt("PRAGMA user_version");
            if (version > SchemaVersion)
            {
                throw new InvalidOperationException(
                    $"The store file {Path} has schema version {version}, newer than this JobRelay knows ({SchemaVersion}): upgrade JobRelay, or point it at another data folder.");
            }

            if (version < 1)
            {
                connection.Execute("""
                    CREATE TABLE IF NOT EXISTS runs (
                        kind TEXT NOT NULL,
                        scope TEXT NOT NULL,
                        id TEXT NOT NULL,
                        run_id TEXT NOT NULL UNIQUE,
                        trigger_name TEXT NOT NULL,
                        origin TEXT NOT NULL,
                        parent_run_id TEXT,
                        arguments TEXT NOT NULL,
                        state TEXT NOT NULL,
                        version INTEGER NOT NULL,
                        lease_until INTEGER,
                        platform TEXT,
                        job_id TEXT,
                        job_state TEXT,
                        raw_status TEXT,
                        job_url TEXT,
                        job_secret TEXT,
                        reason TEXT,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        next_attempt_at INTEGER,
                        deadline INTEGER,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL,
                        PRIMARY KEY (kind, scope, id)
                    );
                    """);
            }

            if (version < 2)
            {
                // Version 2: each secondary index holds only the rows its query can want, so a write touches an
                // index only when the row enters or leaves that set: a claim and its settlement update two of them
                // instead of four on every write.
                connection.Execute($"""
                    DROP INDEX IF EXISTS runs_due;
                    DROP INDEX IF EXISTS runs_lease;
                    DROP INDEX IF EXISTS runs_job;
                    DROP INDEX IF EXISTS runs_updated;
                    CREATE INDEX runs_due ON runs (next_attempt_at) WHERE state = 'Pending';
                    CREATE INDEX runs_lease ON runs (lease_until) WHERE state IN ('Claimed', 'Starting');
                    CREATE INDEX runs_job ON runs (platform, job_id) WHERE job_id IS NOT NULL;
                    CREATE INDEX runs_updated ON runs (updated_at) WHERE {SettledStates};
                    """);
            }

            if (version < 3)
            {
                // Version 3: the operator's history, and the trace that started each run (for a chain follower's link). Listing newest first walks runs_created (or runs_trigger for
                // one trigger) backwards, so a page reads only its own rows however many runs the file holds.
                connection.Execute($"""
                    ALTER TABLE runs ADD COLUMN job_checked_at INTEGER;
                    ALTER TABLE runs ADD COLUMN trace_parent TEXT;
                    CREATE INDEX IF NOT EXISTS runs_created ON runs (created_at, run_id);
                    CREATE INDEX IF NOT EXISTS runs_trigger ON runs (trigger_name, created_at, run_id);
                    CREATE INDEX IF NOT EXISTS runs_parent ON runs (parent_run_id) WHERE parent_run_id IS NOT NULL;
                    CREATE TABLE IF NOT EXISTS run_actions (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        run_id TEXT NOT NULL,
                        at INTEGER NOT NULL,
                        action TEXT NOT NULL,
                        by_name TEXT NOT NULL,
                        detail TEXT
                    );
                    CREATE INDEX IF NOT EXISTS run_actions_run ON run_actions (run_id, seq);
                    CREATE TABLE IF NOT EXISTS outcome_counts (
                        trigger_name TEXT NOT NULL,
                        outcome TEXT NOT NULL,
                        hour INTEGER NOT NULL,
                        count INTEGER NOT NULL,
                        PRIMARY KEY (trigger_name, outcome, hour)
                    );
                    """);
            }

            if (version < 4)
            {
                // Version 4: the watch that follows each started job to its end. Runs stored before it carry no watch
                // (None): arming them on upgrade would start the followers of jobs that ended long ago.
                connection.Execute($"""
                    ALTER TABLE runs ADD COLUMN watch_state TEXT NOT NULL DEFAULT 'None';
                    ALTER TABLE runs ADD COLUMN watch_next_at INTEGER;
                    ALTER TABLE runs ADD COLUMN watch_lease_until INTEGER;
                    ALTER TABLE runs ADD COLUMN watch_checks INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE runs ADD COLUMN watch_misses INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE runs ADD COLUMN watch_failures INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE runs ADD COLUMN watch_reason TEXT;
                    ALTER TABLE runs ADD COLUMN job_started_at INTEGER;
                    ALTER TABLE runs ADD COLUMN job_finished_at INTEGER;
                    ALTER TABLE runs ADD COLUMN overdue_at INTEGER;
                    CREATE INDEX IF NOT EXISTS runs_watch ON runs (watch_next_at) WHERE watch_state = 'Watching';
                    PRAGMA user_version = {SchemaVersion};
                    """);
            }

            // The outbox of outbound events: a table of its own that older versions never read, created when missing
            // like the ticks' below. A row is one event to one subscription, written with the state change it reports.
            connection.Execute("""
                CREATE TABLE IF NOT EXISTS outbox (
                    event_id TEXT NOT NULL,
                    subscription TEXT NOT NULL,
                    destination TEXT NOT NULL,
                    run_id TEXT NOT NULL,
                    type TEXT NOT NULL,
                    seq INTEGER NOT NULL,
                    payload TEXT NOT NULL,
                    status TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    next_at INTEGER NOT NULL,
                    lease_until INTEGER,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    attempt_log TEXT NOT NULL DEFAULT '[]',
                    version INTEGER NOT NULL DEFAULT 1,
                    PRIMARY KEY (event_id, subscription)
                );
                CREATE INDEX IF NOT EXISTS outbox_due ON outbox (next_at) WHERE status = 'Pending';
                CREATE INDEX IF NOT EXISTS outbox_run ON outbox (run_id, subscription, seq);
                CREATE TABLE IF NOT EXISTS outbound_disabled (
                    subscription TEXT PRIMARY KEY,
                    at INTEGER NOT NULL,
                    reason TEXT NOT NULL
                );
                """);

            // The scheduler's last tick: one row, replaced by each tick. A table of its own that older versions never
            // read, so it needs no schema version: any version that knows it creates it when missing.
            connection.Execute("""
                CREATE TABLE IF NOT EXISTS scheduler_ticks (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    at INTEGER NOT NULL,
                    host TEXT NOT NULL,
                    instance TEXT NOT NULL
                );
                """);

            connection.Execute("COMMIT");
        }
        catch
        {
            if (connection.InTransaction)
            {
                connection.Execute("ROLLBACK");
            }

            throw;
        }
    }

    /// <summary>One SQL statement and its parameters, the claim key's among them.</summary>
    private sealed class Statement
    {
        private readonly List<(string Name, object? Value)> _parameters;

        public Statement(string sql, params (string Name, object? Value)[] parameters)
        {
            Sql = sql;
            _parameters = [.. parameters];
        }

        public string Sql { get; }

        public IReadOnlyList<(string Name, object? Value)> Parameters => _parameters;

        /// <summary>Whether the transaction that carries this statement must be on disk when it commits (synchronous FULL).</summary>
        public bool Durable { get; init; }

        /// <summary>
        /// Statements run after this one, in the same transaction, only when it changed exactly one row; if any of
        /// them fails, this one is undone with them (the outbox rows of a state change).
        /// </summary>
        public List<Statement> Then { get; } = [];

        public Statement With(string name, object? value)
        {
            _parameters.Add((name, value));
            return this;
        }

        public Statement WithKey(ClaimKey key, long? version)
        {
            _parameters.Add(("$kind", key.Kind.ToString()));
            _parameters.Add(("$scope", key.Scope));
            _parameters.Add(("$id", key.Id));
            if (version is { } v)
            {
                _parameters.Add(("$version", v));
            }

            return this;
        }
    }

    private sealed record PendingWrite(Statement Statement, CancellationToken CancellationToken)
    {
        public TaskCompletionSource<int> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>A connection of this store's own, which keeps each statement it ran prepared for the next time.</summary>
    private sealed class PreparedConnection : IDisposable
    {
        private readonly SqliteConnection _connection;
        private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);

        private PreparedConnection(SqliteConnection connection) => _connection = connection;

        /// <summary>True while a transaction is open: SQLite ends one by itself on some errors.</summary>
        public bool InTransaction => SQLitePCL.raw.sqlite3_get_autocommit(_connection.Handle) == 0;

        public static PreparedConnection Open(string connectionString, string pragmas)
        {
            var connection = new SqliteConnection(connectionString);
            try
            {
                connection.Open();
                using var command = connection.CreateCommand();
                command.CommandText = pragmas;
                command.ExecuteNonQuery();
                return new PreparedConnection(connection);
            }
            catch
            {
                connection.Dispose();
                throw;
            }
        }

        public SqliteCommand Prepare(Statement statement)
        {
            if (!_commands.TryGetValue(statement.Sql, out var command))
            {
                command = _connection.CreateCommand();
                command.CommandText = statement.Sql;
                _commands.Add(statement.Sql, command);
            }

            command.Parameters.Clear();
            foreach (var (name, value) in statement.Parameters)
            {
                command.Parameters.AddWithValue(name, value ?? DBNull.Value);
            }

            return command;
        }

        public void Execute(string sql) => Prepare(new Statement(sql)).ExecuteNonQuery();

        public int ExecuteScalarInt(string sql)
            => Convert.ToInt32(Prepare(new Statement(sql)).ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);

        public void Dispose()
        {
            foreach (var command in _commands.Values)
            {
                command.Dispose();
            }

            _connection.Dispose();
        }
    }
}
