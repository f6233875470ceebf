namespace JobRelay.State;

/// <summary>What the holder of a delivery writes after one attempt, in one conditional write; the lease is freed.</summary>
internal sealed record DeliveryUpdate(DeliveryTransition Transition, DeliveryAttempt Attempt)
{
    /// <summary>How many attempts a delivery keeps in its log; the count goes on.</summary>
    public const int MaxLog = 20;

    /// <summary>The next attempt, for <see cref="DeliveryTransition.DeliveryRetry"/>.</summary>
    public DateTimeOffset? NextAt { get; init; }

    /// <summary>The delivery as it is after this update, from the copy the holder took.</summary>
    public OutboxDelivery Apply(OutboxDelivery taken)
    {
        ArgumentNullException.ThrowIfNull(taken);
        if (Transition is DeliveryTransition.Enqueue or DeliveryTransition.DeliveryTake)
        {
            throw new InvalidOperationException("An update ends an attempt: it retries, delivers, dead-letters or disables.");
        }

        return taken with
        {
            State = DeliveryTransitions.To(Transition),
            Version = taken.Version + 1,
            Attempts = taken.Attempts + 1,
            Log = [.. taken.Log.Append(Attempt).TakeLast(MaxLog)],
            NextAt = NextAt ?? taken.NextAt,
            LeaseUntil = null,
        };
    }
}
