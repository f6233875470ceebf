using JobRelay.State;
using JobRelay.State.Sqlite;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace JobRelay.Tests.State;

/// <summary>The store contract against a SQLite file on disk, each store instance with its own connections.</summary>
public sealed class SqliteRelayStoreTests : RelayStoreContract, IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("jobrelay-store-").FullName;
    private readonly List<SqliteRelayStore> _stores = [];

    internal override IRelayStore OpenStore()
    {
        var store = new SqliteRelayStore(Path.Combine(_folder, "data", StoreOptions.SqliteFileName), Clock, NullLogger<SqliteRelayStore>.Instance);
        _stores.Add(store);
        return store;
    }

    [Fact]
    public async Task AReadOnlyStoreNeverCreatesItsFileAndReadsAnExistingOneWithoutWriting()
    {
        var path = Path.Combine(_folder, "data", StoreOptions.SqliteFileName);
        using (var missing = new SqliteRelayStore(path, Clock, NullLogger<SqliteRelayStore>.Instance, readOnly: true))
        {
            await Assert.ThrowsAsync<FileNotFoundException>(() => missing.FindRunAsync("none", CancellationToken.None));
        }

        Assert.False(Directory.Exists(Path.Combine(_folder, "data")));
        var writer = (SqliteRelayStore)OpenStore();
        await writer.ClaimAsync(new NewRun(new DeliveryKey("load", "d-1"), "run-1", "load", "webhook", "{}"), TimeSpan.FromSeconds(30), CancellationToken.None);
        using var reader = new SqliteRelayStore(path, Clock, NullLogger<SqliteRelayStore>.Instance, readOnly: true);

        Assert.Equal("run-1", (await reader.FindRunAsync("run-1", CancellationToken.None))?.RunId);
        await Assert.ThrowsAsync<InvalidOperationException>(() => reader.ClaimAsync(new NewRun(new DeliveryKey("load", "d-2"), "run-2", "load", "webhook", "{}"), TimeSpan.FromSeconds(30), CancellationToken.None));
        Assert.Null(await writer.FindRunAsync("run-2", CancellationToken.None));
    }

    [Fact]
    public async Task TheFileIsInWalModeWithAVersionedSchema()
    {
        var store = (SqliteRelayStore)OpenStore();
        await store.FindRunAsync("none", CancellationToken.None);

        await using var connection = new SqliteConnection($"Data Source={store.Path};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode";
        var mode = (string?)await command.ExecuteScalarAsync();
        command.CommandText = "PRAGMA user_version";
        var version = (long?)await command.ExecuteScalarAsync();

        Assert.Equal("wal", mode);
        Assert.Equal(SqliteRelayStore.SchemaVersion, version);
    }

    [Fact]
    public async Task AFileWithANewerSchemaIsRefusedWithWhatToDo()
    {
        var path = Path.Combine(_folder, "newer.db");
        await using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA user_version = 99";
            await command.ExecuteNonQueryAsync();
        }

        using var store = new SqliteRelayStore(path, Clock, NullLogger<SqliteRelayStore>.Instance);
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => store.FindRunAsync("none", CancellationToken.None));

        Assert.Contains("schema version 99", ex.Message, StringComparison.Ordinal);
        Assert.Contains("upgrade JobRelay", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AFileOfSchemaVersionOneIsMigratedKeepingItsRuns()
    {
        var path = Path.Combine(_folder, "v1.db");
        await using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = """
                CREATE TABLE runs (kind TEXT NOT NULL, scope TEXT NOT NULL, id TEXT NOT NULL, run_id TEXT NOT NULL UNIQUE,
                    trigger_name TEXT NOT NULL, origin TEXT NOT NULL, parent_run_id TEXT, arguments TEXT NOT NULL, state TEXT NOT NULL,
                    version INTEGER NOT NULL, lease_until INTEGER, platform TEXT, job_id TEXT, job_state TEXT, raw_status TEXT,
                    job_url TEXT, job_secret TEXT, reason TEXT, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER,
                    deadline INTEGER, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, PRIMARY KEY (kind, scope, id));
                INSERT INTO runs (kind, scope, id, run_id, trigger_name, origin, arguments, state, version, platform, job_id, job_state, raw_status, attempts, created_at, updated_at)
                VALUES ('Delivery', 'nightly', 'evt_1', 'run-old', 'nightly', 'webhook', '{}', 'Started', 3, 'kbc', '42', 'Queued', 'created', 1, 1764590400000, 1764590400900);
                PRAGMA user_version = 1;
                """;
            await command.ExecuteNonQueryAsync();
        }

        using var store = new SqliteRelayStore(path, Clock, NullLogger<SqliteRelayStore>.Instance);
        var page = await store.ListRunsAsync(new RunFilter { Trigger = "nightly" }, CancellationToken.None);
        await store.AppendActionAsync(new RunAction("run-old", Clock.GetUtcNow(), "replay", "default", null), CancellationToken.None);

        var run = Assert.Single(page.Runs);
        Assert.Equal("run-old", run.RunId);
        Assert.Equal("42", run.JobId);
        Assert.Null(run.JobCheckedAt);
        Assert.Single(await store.ListActionsAsync("run-old", CancellationToken.None));
        await using var check = new SqliteConnection($"Data Source={path};Pooling=False");
        await check.OpenAsync();
        await using var version = check.CreateCommand();
        version.CommandText = "PRAGMA user_version";
        Assert.Equal((long)SqliteRelayStore.SchemaVersion, (long?)await version.ExecuteScalarAsync());
    }


    [Fact]
    public async Task AFileOfSchemaOneIsUpgradedInPlaceKeepingItsRunsAndIndexingOnlyTheRowsEachQueryWants()
    {
        var path = Path.Combine(_folder, "schema-one.db");
        await using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = """
                PRAGMA journal_mode = WAL;
                CREATE TABLE runs (
                    kind TEXT NOT NULL, scope TEXT NOT NULL, id TEXT NOT NULL, run_id TEXT NOT NULL UNIQUE,
                    trigger_name TEXT NOT NULL, origin TEXT NOT NULL, parent_run_id TEXT, arguments TEXT NOT NULL,
                    state TEXT NOT NULL, version INTEGER NOT NULL, lease_until INTEGER, platform TEXT, job_id TEXT,
                    job_state TEXT, raw_status TEXT, job_url TEXT, job_secret TEXT, reason TEXT,
                    attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER, deadline INTEGER,
                    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, PRIMARY KEY (kind, scope, id));
                CREATE INDEX runs_due ON runs (state, next_attempt_at);
                CREATE INDEX runs_lease ON runs (state, lease_until);
                CREATE INDEX runs_job ON runs (platform, job_id);
                CREATE INDEX runs_updated ON runs (updated_at);
                INSERT INTO runs (kind, scope, id, run_id, trigger_name, origin, arguments, state, version, platform, job_id, job_state, raw_status, attempts, created_at, updated_at)
                VALUES ('Delivery', 'push', 'evt_old', 'run-old', 'push', 'webhook', '{}', 'Started', 3, 'kbc', 'job-9', 'Queued', 'created', 1, 1764590400000, 1764590400000);
                PRAGMA user_version = 1;
                """;
            await command.ExecuteNonQueryAsync();
        }

        using var store = new SqliteRelayStore(path, Clock, NullLogger<SqliteRelayStore>.Instance);
        var kept = await store.FindAsync(new DeliveryKey("push", "evt_old"), CancellationToken.None);
        var byJob = await store.FindRunByJobAsync("kbc", "job-9", CancellationToken.None);

        await using var check = new SqliteConnection($"Data Source={path};Pooling=False");
        await check.OpenAsync();
        await using var read = check.CreateCommand();
        read.CommandText = "PRAGMA user_version";
        var version = (long?)await read.ExecuteScalarAsync();
        read.CommandText = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name";
        var indexes = new Dictionary<string, string>();
        await using (var reader = await read.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                indexes[reader.GetString(0)] = reader.GetString(1);
            }
        }

        Assert.Equal(SqliteRelayStore.SchemaVersion, version);
        Assert.Equal("run-old", kept?.RunId);
        Assert.Equal(RunState.Started, kept?.State);
        Assert.Equal(3, kept?.Version);
        Assert.Equal(WatchState.None, kept?.Watch);
        Assert.Equal("run-old", byJob?.RunId);
        Assert.Superset(new HashSet<string> { "runs_due", "runs_job", "runs_lease", "runs_updated" }, indexes.Keys.ToHashSet());
        Assert.EndsWith("WHERE state = 'Pending'", indexes["runs_due"], StringComparison.Ordinal);
        Assert.EndsWith("WHERE state IN ('Claimed', 'Starting')", indexes["runs_lease"], StringComparison.Ordinal);
        Assert.EndsWith("WHERE job_id IS NOT NULL", indexes["runs_job"], StringComparison.Ordinal);
        Assert.EndsWith("WHERE state IN ('Started', 'OutcomeUnknown', 'Refused', 'Ignored')", indexes["runs_updated"], StringComparison.Ordinal);
        Assert.EndsWith("WHERE watch_state = 'Watching'", indexes["runs_watch"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task AWriteTheFileRefusesFailsAloneWhileTheWritesCommittedBesideItStand()
    {
        var store = OpenStore();
        var trigger = "t" + Guid.NewGuid().ToString("n")[..12];
        var claims = Enumerable.Range(0, 40).Select(i => new NewRun(new DeliveryKey(trigger, $"evt_{i}"), i == 7 ? "run-shared" : $"run-{i}", trigger, "webhook", "{}")).ToList();

        // Another key already holds run-shared, so the file refuses that one claim's insert (the run id is unique).
        await store.ClaimAsync(new NewRun(new DeliveryKey(trigger, "evt_first"), "run-shared", trigger, "webhook", "{}"), TimeSpan.FromSeconds(30), CancellationToken.None);
        var outcomes = await Task.WhenAll(claims.Select(async claim =>
        {
            try
            {
                return (await store.ClaimAsync(claim, TimeSpan.FromSeconds(30), CancellationToken.None)).Status.ToString();
            }
            catch (SqliteException ex)
            {
                return "refused " + ex.SqliteErrorCode;
            }
        }));
        var found = await Task.WhenAll(claims.Select(claim => store.FindAsync(claim.Key, CancellationToken.None)));

        Assert.Equal("refused 19", outcomes[7]);
        Assert.All(outcomes.Where((_, i) => i != 7), status => Assert.Equal(nameof(ClaimStatus.First), status));
        Assert.Null(found[7]);
        Assert.All(found.Where((_, i) => i != 7), run => Assert.Equal(RunState.Claimed, run?.State));
    }

    public void Dispose()
    {
        foreach (var store in _stores)
        {
            store.Dispose();
        }

        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }
}
