using JobRelay.State;
using JobRelay.State.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace JobRelay.Tests.Outbound;

/// <summary>The outbox contract against a SQLite file on disk: the event rows share the state change's transaction.</summary>
public sealed class SqliteOutboxTests : OutboxContract, IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("jobrelay-outbox-").FullName;
    private readonly List<SqliteRelayStore> _stores = [];

    internal override IRelayStore OpenStore()
    {
        var store = new SqliteRelayStore(Path.Combine(_folder, "data", StoreOptions.SqliteFileName), Clock, NullLogger<SqliteRelayStore>.Instance, outbox: Planner);
        _stores.Add(store);
        return store;
    }

    public void Dispose()
    {
        foreach (var store in _stores)
        {
            store.Dispose();
        }

        Directory.Delete(_folder, recursive: true);
    }
}
