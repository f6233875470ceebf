using JobRelay.State;
using JobRelay.State.AzureTables;
using Microsoft.Extensions.Logging.Abstractions;

namespace JobRelay.Tests.State;

/// <summary>The store contract against Azure Table Storage, played by Azurite; each test has tables of its own.</summary>
[Collection(AzuriteGroup.Name)]
public sealed class TableRelayStoreTests(AzuriteFixture azurite) : RelayStoreContract, IDisposable
{
    private readonly string _table = "runs" + Guid.NewGuid().ToString("n")[..16];
    private readonly List<TableRelayStore> _stores = [];

    internal override IRelayStore OpenStore()
    {
        var store = new TableRelayStore(azurite.Service, _table, Clock, NullLogger<TableRelayStore>.Instance);
        _stores.Add(store);
        return store;
    }

    [Fact]
    public async Task TheStoreIsChosenByConfigurationAndCreatesItsTables()
    {
        var options = new StoreOptions { Kind = StoreKind.Tables, TableConnectionString = azurite.ConnectionString, TableName = _table };
        using var store = TableRelayStore.Create(options, Clock, NullLogger<TableRelayStore>.Instance);

        await store.FindRunAsync("none", CancellationToken.None);
        var tables = azurite.Service.QueryAsync(t => t.Name == _table || t.Name == _table + "Index");

        Assert.Equal(2, await tables.CountAsync());
    }

    public void Dispose()
    {
        foreach (var store in _stores)
        {
            store.Dispose();
        }
    }
}
