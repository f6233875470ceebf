using JobRelay.State;
using JobRelay.State.AzureTables;
using Microsoft.Extensions.Logging.Abstractions;

namespace JobRelay.Tests.State;

/// <summary>Row identity against Azure Table Storage, played by Azurite: the ETag names the row and its version at once.</summary>
[Collection(AzuriteGroup.Name)]
public sealed class TableRowIdentityTests(AzuriteFixture azurite) : RowIdentityContract, IDisposable
{
    private readonly string _table = "rows" + Guid.NewGuid().ToString("n")[..16];
    private readonly List<TableRelayStore> _stores = [];

    internal override IRelayStore OpenStore()
    {
        var store = new TableRelayStore(azurite.Service, _table, Clock, NullLogger<TableRelayStore>.Instance);
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
