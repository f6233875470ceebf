using JobRelay.Model;
using JobRelay.State;

namespace JobRelay.Outbound;

/// <summary>
/// The catalog's subscriptions as the stores' <see cref="IOutboxPlanner"/>: the event a state change reports (if any),
/// built once, and one delivery of it to each subscription whose filters match.
/// </summary>
internal sealed class CatalogOutboxPlanner(Func<TriggerCatalog> catalog) : IOutboxPlanner
{
    public bool Enabled => catalog().Subscriptions.Count > 0;

    public IReadOnlyList<OutboxDelivery> Plan(RunRecord? before, RunRecord after, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(after);
        var current = catalog();
        if (current.Subscriptions.Count == 0 || OutboundEvents.TypeOf(before, after) is not { } type)
        {
            return [];
        }

        // A run has no platform of its own until its job starts: its trigger's is the one its events filter on.
        var platform = after.Platform ?? current.Triggers.GetValueOrDefault(after.Trigger)?.Platform;
        var subscriptions = current.Subscriptions.Where(s => s.Matches(type, after.Trigger, platform)).ToList();
        if (subscriptions.Count == 0)
        {
            return [];
        }

        var outbound = OutboundEvents.Of(after, type, at);
        var payload = OutboundEvents.Serialize(outbound);
        return [.. subscriptions.Select(subscription => new OutboxDelivery
        {
            EventId = outbound.Id,
            Subscription = subscription.Name,
            Destination = subscription.Destination,
            RunId = after.RunId,
            Type = type,
            Sequence = after.Version,
            Payload = payload,
            CreatedAt = at,
            NextAt = at,
        })];
    }
}
