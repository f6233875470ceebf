using System.Data.Common;
using JobRelay.Platforms;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace JobRelay.State.Sqlite;

/// <summary>
/// The store in one SQLite file: the embedded default of <c>jobrelay serve</c>. WAL mode lets readers run beside the
/// one writer, and a busy timeout lets several processes on one machine share the file. Every write is one
/// statement, conditional on absence or on the version read, so no explicit transaction is ever held open.
/// </summary>
internal sealed class SqliteRelayStore : IRelayStore, IDisposable
{
    /// <summary>The schema this version writes; a file with a newer one is refused rather than misread.</summary>
    internal const int SchemaVersion = 2;

    private const string Columns =
        "kind, scope, id, run_id, trigger_name, origin, parent_run_id, arguments, state, version, lease_until, platform, job_id, " +
        "job_state, raw_status, job_url, reason, attempts, next_attempt_at, deadline, created_at, updated_at, trace_parent";

    private readonly string _connectionString;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _initGate = new(1, 1);

    // SQLite has one writer at a time: queueing this process's writes here is far cheaper than SQLite's busy
    // handler, which sleeps in growing steps. Other processes still meet the busy timeout.
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private volatile bool _initialized;

    public SqliteRelayStore(string path, TimeProvider clock, ILogger<SqliteRelayStore> logger)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(logger);
        Path = System.IO.Path.GetFullPath(path);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        _clock = clock;
        _logger = logger;
    }

    /// <summary>The database file.</summary>
    public string Path { get; }

    public void Dispose()
    {
        _initGate.Dispose();
        _writeGate.Dispose();
    }

    public async Task<ClaimResult> ClaimAsync(NewRun run, TimeSpan lease, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        await using var connection = await OpenAsync(cancellationToken);
        while (true)
        {
            var now = _clock.GetUtcNow();
            var existing = await FindAsync(connection, run.Key, cancellationToken);
            if (existing is null)
            {
                var record = run.ToClaimedRecord(now, lease);
                if (await InsertAsync(connection, record, cancellationToken))
                {
                    return ClaimResult.First(record);
                }

                continue;
            }

            switch (existing.State)
            {
                case RunState.Claimed when existing.LeaseUntil <= now:
                    var taken = await TakeAsync(connection, existing, now, lease, cancellationToken);
                    if (taken is not null)
                    {
                        StoreLog.TakenOver(_logger, existing.Key, existing.RunId);
                        return ClaimResult.First(taken);
                    }

                    continue;
                case RunState.Starting when existing.LeaseUntil <= now:
                    if (await ExpireAsync(connection, existing, now, cancellationToken) is { } expired)
                    {
                        return new ClaimResult(ClaimStatus.Settled, expired, null);
                    }

                    continue;
                case RunState.Claimed or RunState.Starting:
                    return new ClaimResult(ClaimStatus.InFlight, existing, null);
                default:
                    return new ClaimResult(ClaimStatus.Settled, existing, null);
            }
        }
    }

    public async Task<RunLease?> BeginStartAsync(RunLease lease, TimeSpan callLease, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        var now = _clock.GetUtcNow();
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection,
            "UPDATE runs SET state = $state, version = version + 1, lease_until = $lease, attempts = attempts + 1, updated_at = $now " +
            "WHERE kind = $kind AND scope = $scope AND id = $id AND version = $version AND state = $claimed",
            ("$state", nameof(RunState.Starting)), ("$lease", Millis(now + callLease)), ("$now", Millis(now)), ("$claimed", nameof(RunState.Claimed)));
        AddKey(command, lease.Key, lease.Version);
        return await WriteAsync(command, cancellationToken) == 1 ? lease with { Version = lease.Version + 1 } : null;
    }

    public async Task<bool> SettleAsync(RunLease lease, RunSettlement settlement, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentNullException.ThrowIfNull(settlement);
        if (settlement.State is RunState.Claimed or RunState.Starting)
        {
            throw new ArgumentException("A settlement ends a claim: it cannot be Claimed or Starting.", nameof(settlement));
        }

        var now = _clock.GetUtcNow();
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection,
            "UPDATE runs SET state = $state, version = version + 1, lease_until = NULL, platform = COALESCE($platform, platform), " +
            "job_id = COALESCE($jobId, job_id), job_state = COALESCE($jobState, job_state), raw_status = COALESCE($rawStatus, raw_status), " +
            "job_url = COALESCE($jobUrl, job_url), job_secret = COALESCE($jobSecret, job_secret), reason = $reason, " +
            "next_attempt_at = $nextAttempt, deadline = COALESCE($deadline, deadline), updated_at = $now " +
            "WHERE kind = $kind AND scope = $scope AND id = $id AND version = $version",
            ("$state", settlement.State.ToString()),
            ("$platform", settlement.Platform),
            ("$jobId", settlement.JobId),
            ("$jobState", settlement.JobState?.ToString()),
            ("$rawStatus", settlement.RawStatus),
            ("$jobUrl", settlement.JobUrl?.ToString()),
            ("$jobSecret", settlement.JobSecret),
            ("$reason", settlement.Reason),
            ("$nextAttempt", settlement.NextAttemptAt is { } next ? Millis(next) : null),
            ("$deadline", settlement.Deadline is { } deadline ? Millis(deadline) : null),
            ("$now", Millis(now)));
        AddKey(command, lease.Key, lease.Version);
        var settled = await WriteAsync(command, cancellationToken) == 1;
        if (!settled)
        {
            StoreLog.LeaseLost(_logger, lease.Key, lease.RunId);
        }

        return settled;
    }

    public async Task<bool> ReleaseAsync(RunLease lease, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection,
            "DELETE FROM runs WHERE kind = $kind AND scope = $scope AND id = $id AND version = $version AND state IN ($claimed, $starting)",
            ("$claimed", nameof(RunState.Claimed)), ("$starting", nameof(RunState.Starting)));
        AddKey(command, lease.Key, lease.Version);
        return await WriteAsync(command, cancellationToken) == 1;
    }

    public async Task<RunRecord?> FindAsync(ClaimKey key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        await using var connection = await OpenAsync(cancellationToken);
        return await FindAsync(connection, key, cancellationToken);
    }

    public async Task<RunRecord?> FindRunAsync(string runId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(runId);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, $"SELECT {Columns} FROM runs WHERE run_id = $runId", ("$runId", runId));
        return await ReadOneAsync(command, cancellationToken);
    }

    public async Task<RunRecord?> FindRunByJobAsync(string platform, string jobId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(platform);
        ArgumentException.ThrowIfNullOrEmpty(jobId);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection,
            $"SELECT {Columns} FROM runs WHERE platform = $platform AND job_id = $jobId LIMIT 1", ("$platform", platform), ("$jobId", jobId));
        return await ReadOneAsync(command, cancellationToken);
    }

    public async Task<string?> FindJobSecretAsync(string platform, string jobId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(platform);
        ArgumentException.ThrowIfNullOrEmpty(jobId);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection,
            "SELECT job_secret FROM runs WHERE platform = $platform AND job_id = $jobId AND job_secret IS NOT NULL LIMIT 1",
            ("$platform", platform), ("$jobId", jobId));
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    public async Task<IReadOnlyList<RunRecord>> ListDueAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection,
            $"SELECT {Columns} FROM runs WHERE (state = $pending AND next_attempt_at <= $now) " +
            "OR (state IN ($claimed, $starting) AND lease_until <= $now) ORDER BY COALESCE(next_attempt_at, lease_until) LIMIT $max",
            ("$pending", nameof(RunState.Pending)), ("$claimed", nameof(RunState.Claimed)), ("$starting", nameof(RunState.Starting)),
            ("$now", Millis(now)), ("$max", max));
        var due = new List<RunRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            due.Add(Read(reader));
        }

        return due;
    }

    public async Task<RunLease?> TakeDueAsync(RunRecord due, TimeSpan lease, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(due);
        if (due.State is not (RunState.Pending or RunState.Claimed))
        {
            return null;
        }

        await using var connection = await OpenAsync(cancellationToken);
        var taken = await TakeAsync(connection, due, _clock.GetUtcNow(), lease, cancellationToken);
        return taken is null ? null : new RunLease(taken.Key, taken.RunId, taken.Version);
    }

    public async Task<RunRecord?> ExpireStartAsync(RunRecord starting, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(starting);
        if (starting.State != RunState.Starting)
        {
            return null;
        }

        await using var connection = await OpenAsync(cancellationToken);
        return await ExpireAsync(connection, starting, _clock.GetUtcNow(), cancellationToken);
    }

    public async Task<int> PurgeAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection,
            "DELETE FROM runs WHERE updated_at < $before AND state IN ($started, $unknown, $refused, $ignored)",
            ("$before", Millis(before)), ("$started", nameof(RunState.Started)), ("$unknown", nameof(RunState.OutcomeUnknown)),
            ("$refused", nameof(RunState.Refused)), ("$ignored", nameof(RunState.Ignored)));
        return await WriteAsync(command, cancellationToken);
    }

    /// <summary>Takes an abandoned claim or a due pending start at the version read, with a fresh lease.</summary>
    private async Task<RunRecord?> TakeAsync(SqliteConnection connection, RunRecord existing, DateTimeOffset now, TimeSpan lease, CancellationToken cancellationToken)
    {
        await using var command = Command(connection,
            "UPDATE runs SET state = $claimed, version = version + 1, lease_until = $lease, updated_at = $now " +
            "WHERE kind = $kind AND scope = $scope AND id = $id AND version = $version",
            ("$claimed", nameof(RunState.Claimed)), ("$lease", Millis(now + lease)), ("$now", Millis(now)));
        AddKey(command, existing.Key, existing.Version);
        return await WriteAsync(command, cancellationToken) == 1
            ? existing with { State = RunState.Claimed, Version = existing.Version + 1, LeaseUntil = now + lease, UpdatedAt = now }
            : null;
    }

    private async Task<RunRecord?> ExpireAsync(SqliteConnection connection, RunRecord starting, DateTimeOffset now, CancellationToken cancellationToken)
    {
        const string Reason = "the instance starting this job stopped before the platform's answer was recorded; check the platform before starting it again";
        await using var command = Command(connection,
            "UPDATE runs SET state = $unknown, version = version + 1, lease_until = NULL, reason = $reason, updated_at = $now " +
            "WHERE kind = $kind AND scope = $scope AND id = $id AND version = $version AND state = $starting",
            ("$unknown", nameof(RunState.OutcomeUnknown)), ("$reason", Reason), ("$now", Millis(now)), ("$starting", nameof(RunState.Starting)));
        AddKey(command, starting.Key, starting.Version);
        if (await WriteAsync(command, cancellationToken) != 1)
        {
            return null;
        }

        StoreLog.StartExpired(_logger, starting.Key, starting.RunId);
        return starting with { State = RunState.OutcomeUnknown, Version = starting.Version + 1, LeaseUntil = null, Reason = Reason, UpdatedAt = now };
    }

    private async Task<bool> InsertAsync(SqliteConnection connection, RunRecord record, CancellationToken cancellationToken)
    {
        await using var command = Command(connection,
            "INSERT INTO runs (kind, scope, id, run_id, trigger_name, origin, parent_run_id, trace_parent, arguments, state, version, lease_until, reason, attempts, created_at, updated_at) " +
            "VALUES ($kind, $scope, $id, $runId, $trigger, $origin, $parent, $traceParent, $arguments, $state, $version, $lease, $reason, 0, $now, $now) ON CONFLICT DO NOTHING",
            ("$runId", record.RunId), ("$trigger", record.Trigger), ("$origin", record.Origin), ("$parent", record.ParentRunId), ("$traceParent", record.TraceParent),
            ("$arguments", record.Arguments), ("$state", record.State.ToString()), ("$lease", record.LeaseUntil is { } until ? Millis(until) : null),
            ("$reason", record.Reason), ("$now", Millis(record.CreatedAt)));
        AddKey(command, record.Key, record.Version);
        return await WriteAsync(command, cancellationToken) == 1;
    }

    private static async Task<RunRecord?> FindAsync(SqliteConnection connection, ClaimKey key, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, $"SELECT {Columns} FROM runs WHERE kind = $kind AND scope = $scope AND id = $id");
        AddKey(command, key, version: null);
        return await ReadOneAsync(command, cancellationToken);
    }

    private static async Task<RunRecord?> ReadOneAsync(SqliteCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
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
            TraceParent = Text(22),
        };
    }

    private static SqliteCommand Command(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }

    private static void AddKey(SqliteCommand command, ClaimKey key, long? version)
    {
        command.Parameters.AddWithValue("$kind", key.Kind.ToString());
        command.Parameters.AddWithValue("$scope", key.Scope);
        command.Parameters.AddWithValue("$id", key.Id);
        if (version is { } v)
        {
            command.Parameters.AddWithValue("$version", v);
        }
    }

    private async Task<int> WriteAsync(SqliteCommand command, CancellationToken cancellationToken)
    {
        await _writeGate.WaitAsync(cancellationToken);
        try
        {
            return await command.ExecuteNonQueryAsync(cancellationToken);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    private static long Millis(DateTimeOffset time) => time.ToUnixTimeMilliseconds();

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        if (!_initialized)
        {
            await InitializeAsync(cancellationToken);
        }

        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            await using var pragma = Command(connection, "PRAGMA busy_timeout = 30000; PRAGMA synchronous = NORMAL;");
            await pragma.ExecuteNonQueryAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
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

            var folder = System.IO.Path.GetDirectoryName(Path);
            if (!string.IsNullOrEmpty(folder))
            {
                Directory.CreateDirectory(folder);
            }

            await using var connection = new SqliteConnection(_connectionString);
            await connection.OpenAsync(cancellationToken);
            await using (var wal = Command(connection, "PRAGMA busy_timeout = 30000; PRAGMA journal_mode = WAL;"))
            {
                await wal.ExecuteNonQueryAsync(cancellationToken);
            }

            // IMMEDIATE takes the write lock at once, so two processes opening a new file do not both create the schema.
            await using (var begin = Command(connection, "BEGIN IMMEDIATE"))
            {
                await begin.ExecuteNonQueryAsync(cancellationToken);
            }

            try
            {
                await using var read = Command(connection, "PRAGMA user_version");
                var version = Convert.ToInt32(await read.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
                if (version > SchemaVersion)
                {
                    throw new InvalidOperationException(
                        $"The store file {Path} has schema version {version}, newer than this JobRelay knows ({SchemaVersion}): upgrade JobRelay, or point it at another data folder.");
                }

                if (version < 1)
                {
                    await using var create = Command(connection, """
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
                        CREATE INDEX IF NOT EXISTS runs_due ON runs (state, next_attempt_at);
                        CREATE INDEX IF NOT EXISTS runs_lease ON runs (state, lease_until);
                        CREATE INDEX IF NOT EXISTS runs_job ON runs (platform, job_id);
                        CREATE INDEX IF NOT EXISTS runs_updated ON runs (updated_at);
                        PRAGMA user_version = 1;
                        """);
                    await create.ExecuteNonQueryAsync(cancellationToken);
                }

                if (version < 2)
                {
                    await using var traceParent = Command(connection, """
                        ALTER TABLE runs ADD COLUMN trace_parent TEXT;
                        PRAGMA user_version = 2;
                        """);
                    await traceParent.ExecuteNonQueryAsync(cancellationToken);
                }

                await using var commit = Command(connection, "COMMIT");
                await commit.ExecuteNonQueryAsync(cancellationToken);
            }
            catch
            {
                await using var rollback = Command(connection, "ROLLBACK");
                await rollback.ExecuteNonQueryAsync(CancellationToken.None);
                throw;
            }

            StoreLog.Opened(_logger, Path, SchemaVersion);
            _initialized = true;
        }
        finally
        {
            _initGate.Release();
        }
    }
}
