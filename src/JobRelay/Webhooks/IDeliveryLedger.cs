using JobRelay.Runs;

namespace JobRelay.Webhooks;

/// <summary>
/// Remembers deliveries by id so that a sender's retry does not start a second job. The first delivery of an id gets
/// a <see cref="DeliveryClaim"/>; a duplicate gets the original's outcome, waiting for it while it is in flight.
/// </summary>
public interface IDeliveryLedger
{
    /// <summary>
    /// Admits a delivery of <paramref name="trigger"/>. Returns a claim for the first delivery of
    /// <paramref name="deliveryId"/> (or the first after an abandoned one); for a duplicate, waits until the original
    /// is completed and returns its outcome.
    /// </summary>
    ValueTask<DeliveryAdmission> AdmitAsync(string trigger, string deliveryId, CancellationToken cancellationToken);
}

/// <summary>What became of a delivery: the run it started, or why it was ignored.</summary>
/// <param name="Run">The run the original delivery started, or null when it was ignored.</param>
/// <param name="IgnoredReason">Why the original delivery started no job (filtered out, for instance).</param>
public sealed record DeliveryOutcome(RelayRun? Run, string? IgnoredReason)
{
    public bool IsIgnored => Run is null;
}

/// <summary>The ledger's answer: a <see cref="Claim"/> for the first delivery, or the <see cref="Outcome"/> of the original.</summary>
public sealed class DeliveryAdmission
{
    private DeliveryAdmission(DeliveryClaim? claim, DeliveryOutcome? outcome)
    {
        Claim = claim;
        Outcome = outcome;
    }

    /// <summary>Set for the first delivery: complete it with what the delivery did.</summary>
    public DeliveryClaim? Claim { get; }

    /// <summary>Set for a duplicate: the original delivery's outcome, to answer with.</summary>
    public DeliveryOutcome? Outcome { get; }

    public bool IsFirst => Claim is not null;

    public static DeliveryAdmission First(DeliveryClaim claim) => new(claim ?? throw new ArgumentNullException(nameof(claim)), null);

    public static DeliveryAdmission Duplicate(DeliveryOutcome outcome) => new(null, outcome ?? throw new ArgumentNullException(nameof(outcome)));
}

/// <summary>
/// The first delivery's hold on its id. Finish it exactly once: <see cref="Complete"/>, <see cref="CompleteIgnored"/>
/// or <see cref="Abandon"/>. Disposing an unfinished claim abandons it, so a failure never leaves duplicates waiting.
/// </summary>
public abstract class DeliveryClaim : IDisposable
{
    private int _finished;

    /// <summary>The delivery started <paramref name="run"/>: duplicates are answered with it.</summary>
    public void Complete(RelayRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        Finish(new DeliveryOutcome(run, null));
    }

    /// <summary>The delivery was accepted but started no job (filtered out): duplicates are told the same.</summary>
    public void CompleteIgnored(string reason)
    {
        ArgumentException.ThrowIfNullOrEmpty(reason);
        Finish(new DeliveryOutcome(null, reason));
    }

    /// <summary>The delivery failed before a job was started: the sender's retry (or a waiting duplicate) may start it.</summary>
    public void Abandon() => Finish(null);

    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing && Volatile.Read(ref _finished) == 0)
        {
            Abandon();
        }
    }

    /// <summary>Records the outcome (null: abandoned) and releases the duplicates waiting for it.</summary>
    protected abstract void OnFinished(DeliveryOutcome? outcome);

    private void Finish(DeliveryOutcome? outcome)
    {
        if (Interlocked.Exchange(ref _finished, 1) != 0)
        {
            throw new InvalidOperationException("This delivery claim was already completed or abandoned.");
        }

        OnFinished(outcome);
    }
}
