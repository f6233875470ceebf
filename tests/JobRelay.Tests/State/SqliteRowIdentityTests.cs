using JobRelay.State;
using JobRelay.State.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace JobRelay.Tests.State;

/// <summary>Row identity against a SQLite file on disk, each store instance with its own connections.</summary>
public sealed class SqliteRowIdentityTests : RowIdentityContract, IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("jobrelay-rows-").FullName;
    private readonly List<SqliteRelayStore> _stores = [];

    internal override IRelayStore OpenStore()
    {
        var store = new SqliteRelayStore(Path.Combine(_folder, StoreOptions.SqliteFileName), Clock, NullLogger<SqliteRelayStore>.Instance);
        _stores.Add(store);
        return store;
    }

    public void Dispose()
    {
        foreach (var store in _stores)
        {
            store.Dispose();
        }
    }
}
