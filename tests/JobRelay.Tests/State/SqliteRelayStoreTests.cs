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
