namespace JobRelay.State;

/// <summary>
/// Where one outbound delivery (one event to one subscription) stands. It is written <see cref="Pending"/> in the same
/// store write as the state change its event reports, and a tick sends it under a lease until it is settled.
/// </summary>
internal enum DeliveryState
{
    /// <summary>No delivery: the event was not written (the outbox's Absent).</summary>
    None,

    /// <summary>Not yet received: a tick sends it at <see cref="OutboxDelivery.NextAt"/>, once the run's earlier events to that subscription are settled.</summary>
    Pending,

    /// <summary>The destination received it (a 2xx answer).</summary>
    Delivered,

    /// <summary>Not received within the horizon: kept, counted and listed, never sent again by itself.</summary>
    DeadLettered,

    /// <summary>The destination answered 410 Gone: its subscription is disabled, and the delivery with it.</summary>
    Disabled,
}

/// <summary>The outbox's transitions, as the shared protocol names them.</summary>
internal enum DeliveryTransition
{
    /// <summary>None → Pending, written in the same write as the run's state change (insert-if-absent by event and subscription).</summary>
    Enqueue,

    /// <summary>Pending → Pending: a tick takes a due delivery, the head of its run's line, whose lease is free or expired (compare-and-set).</summary>
    DeliveryTake,

    /// <summary>Pending → Pending: the lease holder records a failed attempt and the next one (backoff with jitter, or Retry-After).</summary>
    DeliveryRetry,

    /// <summary>Pending → Delivered: the destination answered 2xx.</summary>
    DeliveryDone,

    /// <summary>Pending → DeadLettered: the attempt failed and the horizon has passed.</summary>
    DeliveryDeadLetter,

    /// <summary>Pending → Disabled: the destination answered 410 Gone, or its subscription was disabled before.</summary>
    DeliveryDisable,
}

/// <summary>The outbox's rows of the protocol: from which delivery state each transition moves, and to which.</summary>
internal static class DeliveryTransitions
{
    /// <summary>Every delivery transition with its source and target, in the protocol's order.</summary>
    public static IReadOnlyList<(DeliveryTransition Transition, DeliveryState From, DeliveryState To)> Rows { get; } =
    [
        (DeliveryTransition.Enqueue, DeliveryState.None, DeliveryState.Pending),
        (DeliveryTransition.DeliveryTake, DeliveryState.Pending, DeliveryState.Pending),
        (DeliveryTransition.DeliveryRetry, DeliveryState.Pending, DeliveryState.Pending),
        (DeliveryTransition.DeliveryDone, DeliveryState.Pending, DeliveryState.Delivered),
        (DeliveryTransition.DeliveryDeadLetter, DeliveryState.Pending, DeliveryState.DeadLettered),
        (DeliveryTransition.DeliveryDisable, DeliveryState.Pending, DeliveryState.Disabled),
    ];

    public static DeliveryState To(DeliveryTransition transition) => Rows[(int)transition].To;

    public static DeliveryState From(DeliveryTransition transition) => Rows[(int)transition].From;

    /// <summary>Whether a delivery in <paramref name="state"/> is settled: no transition leaves it, and the run's next event to its subscription may go.</summary>
    public static bool IsSettled(DeliveryState state) => state is DeliveryState.Delivered or DeliveryState.DeadLettered or DeliveryState.Disabled;

    /// <summary>Each delivery state as the API names it: kebab-case.</summary>
    public static string Name(DeliveryState state) => state == DeliveryState.DeadLettered ? "dead-lettered" : state.ToString().ToLowerInvariant();

    /// <summary>
    /// Whether a tick may take <paramref name="due"/> at <paramref name="now"/>: pending, due, its lease free or expired,
    /// and no earlier event of its run to its subscription still pending (<paramref name="earlierPending"/>).
    /// </summary>
    public static bool MayTake(OutboxDelivery due, DateTimeOffset now, bool earlierPending)
    {
        ArgumentNullException.ThrowIfNull(due);
        return due.State == From(DeliveryTransition.DeliveryTake) && due.NextAt <= now && (due.LeaseUntil is not { } lease || lease <= now) && !earlierPending;
    }
}
