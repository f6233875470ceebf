using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobRelay.Webhooks;

/// <summary>
/// The delivery ledger of one process: bounded by <see cref="WebhookOptions.DeduplicationCapacity"/> entries (the
/// oldest forgotten first) and by <see cref="WebhookOptions.DeduplicationRetention"/> from each delivery's admission.
/// Several instances of the app do not share it; a durable ledger can replace it behind <see cref="IDeliveryLedger"/>.
/// </summary>
public sealed class InMemoryDeliveryLedger : IDeliveryLedger
{
    private readonly Lock _gate = new();
    private readonly Dictionary<DeliveryKey, Entry> _entries = [];
    private readonly LinkedList<Entry> _byAdmission = new();
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly TimeSpan _retention;
    private readonly int _capacity;

    public InMemoryDeliveryLedger(IOptions<WebhookOptions> options, TimeProvider clock, ILogger<InMemoryDeliveryLedger> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(logger);
        _retention = options.Value.DeduplicationRetention;
        _capacity = options.Value.DeduplicationCapacity;
        _clock = clock;
        _logger = logger;
    }

    /// <summary>How many deliveries are remembered now, in flight or finished.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _entries.Count;
            }
        }
    }

    public ValueTask<DeliveryAdmission> AdmitAsync(string trigger, string deliveryId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(trigger);
        ArgumentException.ThrowIfNullOrEmpty(deliveryId);
        cancellationToken.ThrowIfCancellationRequested();
        var key = new DeliveryKey(trigger, deliveryId);
        var inFlight = TryAdmit(key, out var admission);
        return inFlight is null ? ValueTask.FromResult(admission!) : WaitForOriginalAsync(key, inFlight, cancellationToken);
    }

    /// <summary>Admits the delivery, or returns the in-flight original to wait for.</summary>
    private Entry? TryAdmit(DeliveryKey key, out DeliveryAdmission? admission)
    {
        lock (_gate)
        {
            var now = _clock.GetUtcNow();
            ForgetExpired(now);
            if (_entries.TryGetValue(key, out var existing))
            {
                admission = existing.Outcome is { } outcome ? DeliveryAdmission.Duplicate(outcome) : null;
                if (admission is not null)
                {
                    WebhookLog.Duplicate(_logger, key.Trigger, key.DeliveryId);
                    return null;
                }

                return existing;
            }

            var entry = new Entry(key, now);
            entry.Node = _byAdmission.AddLast(entry);
            _entries.Add(key, entry);
            if (_entries.Count > _capacity)
            {
                var oldest = _byAdmission.First!.Value;
                Forget(oldest);
                WebhookLog.Evicted(_logger, _capacity, oldest.Key.Trigger, oldest.Key.DeliveryId);
            }

            admission = DeliveryAdmission.First(new Claim(this, entry));
            return null;
        }
    }

    private async ValueTask<DeliveryAdmission> WaitForOriginalAsync(DeliveryKey key, Entry original, CancellationToken cancellationToken)
    {
        while (true)
        {
            WebhookLog.WaitingForOriginal(_logger, key.Trigger, key.DeliveryId);
            var outcome = await original.Completion.Task.WaitAsync(cancellationToken);
            if (outcome is not null)
            {
                WebhookLog.Duplicate(_logger, key.Trigger, key.DeliveryId);
                return DeliveryAdmission.Duplicate(outcome);
            }

            // The original was abandoned: this delivery may be the one that starts the job now.
            var next = TryAdmit(key, out var admission);
            if (next is null)
            {
                return admission!;
            }

            original = next;
        }
    }

    private void ForgetExpired(DateTimeOffset now)
    {
        while (_byAdmission.First is { } oldest && oldest.Value.AdmittedAt + _retention <= now)
        {
            Forget(oldest.Value);
        }
    }

    private void Forget(Entry entry)
    {
        if (entry.Node is not null)
        {
            _byAdmission.Remove(entry.Node);
            entry.Node = null;
        }

        if (_entries.TryGetValue(entry.Key, out var current) && ReferenceEquals(current, entry))
        {
            _entries.Remove(entry.Key);
        }
    }

    private void Finish(Entry entry, DeliveryOutcome? outcome)
    {
        lock (_gate)
        {
            if (outcome is null)
            {
                Forget(entry);
                WebhookLog.Abandoned(_logger, entry.Key.Trigger, entry.Key.DeliveryId);
            }
            else
            {
                entry.Outcome = outcome;
            }
        }

        entry.Completion.TrySetResult(outcome);
    }

    private readonly record struct DeliveryKey(string Trigger, string DeliveryId);

    private sealed class Entry(DeliveryKey key, DateTimeOffset admittedAt)
    {
        public DeliveryKey Key { get; } = key;

        public DateTimeOffset AdmittedAt { get; } = admittedAt;

        public LinkedListNode<Entry>? Node { get; set; }

        public DeliveryOutcome? Outcome { get; set; }

        /// <summary>Completed with the outcome, or with null when the original is abandoned.</summary>
        public TaskCompletionSource<DeliveryOutcome?> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed class Claim(InMemoryDeliveryLedger ledger, Entry entry) : DeliveryClaim
    {
        protected override void OnFinished(DeliveryOutcome? outcome) => ledger.Finish(entry, outcome);
    }
}
