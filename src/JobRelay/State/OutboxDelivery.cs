namespace JobRelay.State;

/// <summary>
/// One event to one subscription, as the outbox keeps it: the payload as written with the state change (so every retry
/// sends the same body under the same event id), where its sending stands, and each attempt.
/// </summary>
internal sealed record OutboxDelivery
{
    public required string EventId { get; init; }

    /// <summary>The subscription's name (<c>destination#index</c>).</summary>
    public required string Subscription { get; init; }

    public required string Destination { get; init; }

    public required string RunId { get; init; }

    public required string Type { get; init; }

    /// <summary>The run's version the event was written at: the order of a run's events.</summary>
    public required long Sequence { get; init; }

    /// <summary>The event as JSON (events.schema.json); never a secret.</summary>
    public required string Payload { get; init; }

    public DeliveryState State { get; init; } = DeliveryState.Pending;

    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>When the next attempt is due.</summary>
    public required DateTimeOffset NextAt { get; init; }

    /// <summary>Until when the instance that took it owns it; free once past.</summary>
    public DateTimeOffset? LeaseUntil { get; init; }

    public int Attempts { get; init; }

    /// <summary>The latest attempts, oldest first (at most <see cref="DeliveryUpdate.MaxLog"/>).</summary>
    public IReadOnlyList<DeliveryAttempt> Log { get; init; } = [];

    /// <summary>Bumped by every write: each update is conditional on the version read.</summary>
    public long Version { get; init; } = 1;

    /// <summary>The store's own concurrency token (a Table Storage ETag), when it has one.</summary>
    public string? ETag { get; init; }

    /// <summary>Where a Table store keeps the row (its run's partition); null for SQLite.</summary>
    public string? PartitionKey { get; init; }

    public string? RowKey { get; init; }
}

/// <summary>One attempt to send a delivery: when, the answer's status (null when none came), and what went wrong; never a secret.</summary>
internal sealed record DeliveryAttempt(DateTimeOffset At, int? Status, string? Error);

/// <summary>The right to write a delivery, proven by the version (and ETag) of the take.</summary>
internal sealed record DeliveryLease(OutboxDelivery Taken);

/// <summary>The attempt log as both stores keep it: a JSON array.</summary>
internal static class DeliveryLogJson
{
    private static readonly System.Text.Json.JsonSerializerOptions Options = new(System.Text.Json.JsonSerializerDefaults.Web);

    public static string Write(IReadOnlyList<DeliveryAttempt> log) => System.Text.Json.JsonSerializer.Serialize(log, Options);

    public static IReadOnlyList<DeliveryAttempt> Read(string? json)
        => string.IsNullOrEmpty(json) ? [] : System.Text.Json.JsonSerializer.Deserialize<List<DeliveryAttempt>>(json, Options) ?? [];
}
