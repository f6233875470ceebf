namespace JobRelay.State;

/// <summary>
/// Decides which deliveries a run's state change writes into the outbox, in the same store write as the change: the
/// stores ask it while they prepare the write. Pure and fast; it reads the catalog's subscriptions, never a store.
/// </summary>
internal interface IOutboxPlanner
{
    /// <summary>Whether any subscription exists: when none does, a store skips every step the outbox would add.</summary>
    bool Enabled { get; }

    /// <summary>The deliveries the change from <paramref name="before"/> (null: a new row) to <paramref name="after"/> writes, at <paramref name="at"/>.</summary>
    IReadOnlyList<OutboxDelivery> Plan(RunRecord? before, RunRecord after, DateTimeOffset at);
}

/// <summary>No subscriptions: the store writes no outbox rows.</summary>
internal sealed class NoOutbox : IOutboxPlanner
{
    public static NoOutbox Instance { get; } = new();

    public bool Enabled => false;

    public IReadOnlyList<OutboxDelivery> Plan(RunRecord? before, RunRecord after, DateTimeOffset at) => [];
}
