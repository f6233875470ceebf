namespace JobRelay.Model;

/// <summary>
/// One line of the catalog's <c>subscriptions</c>: which events (by type, and optionally by trigger or platform) go to
/// which destination. "Only failures of the nightly load" is
/// <c>{ "to": "ops-slack", "events": ["job.failed"], "triggers": ["nightly-load"] }</c>.
/// </summary>
/// <param name="Index">Its position in the catalog's list: the subscription's identity in the store and in messages.</param>
/// <param name="Destination">The destination's name.</param>
/// <param name="Events">The event types it takes.</param>
/// <param name="Triggers">Only runs of these triggers; null for every trigger.</param>
/// <param name="Platforms">Only runs on these platforms; null for every platform.</param>
public sealed record SubscriptionDefinition(int Index, string Destination, IReadOnlyList<string> Events, IReadOnlyList<string>? Triggers, IReadOnlyList<string>? Platforms)
{
    /// <summary>The subscription's stable name: its destination and position (<c>ops-slack#0</c>).</summary>
    public string Name => $"{Destination}#{Index}";

    /// <summary>Whether an event of <paramref name="type"/> about a run of <paramref name="trigger"/> on <paramref name="platform"/> goes to it.</summary>
    public bool Matches(string type, string trigger, string? platform)
        => Events.Contains(type, StringComparer.Ordinal)
           && (Triggers is null || Triggers.Contains(trigger, StringComparer.Ordinal))
           && (Platforms is null || (platform is not null && Platforms.Contains(platform, StringComparer.Ordinal)));
}
