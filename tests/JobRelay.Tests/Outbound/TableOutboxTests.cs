using JobRelay.State;
using JobRelay.State.AzureTables;
using JobRelay.Tests.State;
using Microsoft.Extensions.Logging.Abstractions;

namespace JobRelay.Tests.Outbound;

/// <summary>The outbox contract against Azure Table Storage (Azurite): the event rows share the run's entity group transaction.</summary>
[Collection(AzuriteGroup.Name)]
public sealed class TableOutboxTests(AzuriteFixture azurite) : OutboxContract, IDisposable
{
    private readonly string _table = "outbox" + Guid.NewGuid().ToString("n")[..16];
    private readonly List<TableRelayStore> _stores = [];

    internal override IRelayStore OpenStore()
    {
        var store = new TableRelayStore(azurite.Service, _table, Clock, NullLogger<TableRelayStore>.Instance, Planner);
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
