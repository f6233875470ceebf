using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using JobRelay.Diagnostics;
using JobRelay.Model;
using JobRelay.State;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobRelay.Outbound;

/// <summary>What one pass of the outbox did.</summary>
internal sealed record OutboundReport(int Delivered, int Retrying, int DeadLettered, int Disabled);

/// <summary>
/// The outbox's sender, run by the tick that sweeps pending starts and checks watches: takes each due delivery under a
/// lease (one instance per delivery), sends it once, and writes the outcome by <see cref="DeliveryTransitions"/>:
/// delivered; retried with exponential backoff and jitter (or the receiver's Retry-After); dead-lettered once the
/// horizon has passed; disabled, with its subscription, on 410 Gone. A run's later event to a subscription waits
/// until the earlier one is settled (the store lists only the head of each line). Each destination has its own
/// concurrency bound and timeout, so a hanging one holds up no other.
/// </summary>
internal sealed class OutboundDispatcher
{
    private static readonly Counter<long> Deliveries = RelayTelemetry.Meter.CreateCounter<long>(
        "jobrelay.outbound.deliveries", "{delivery}", "Outbound event deliveries by event type, destination kind and result (delivered, retry, dead-lettered, disabled).");

    private static readonly Counter<long> SubscriptionsDisabled = RelayTelemetry.Meter.CreateCounter<long>(
        "jobrelay.outbound.subscriptions.disabled", "{subscription}", "Subscriptions disabled because their destination answered 410 Gone.");

    private readonly IRelayStore _store;
    private readonly Func<TriggerCatalog> _catalog;
    private readonly OutboundSender _sender;
    private readonly OutboundOptions _options;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _bounds = new(StringComparer.Ordinal);

    public OutboundDispatcher(IRelayStore store, Func<TriggerCatalog> catalog, OutboundSender sender, IOptions<OutboundOptions> options, TimeProvider clock, ILogger<OutboundDispatcher> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _catalog = catalog;
        _sender = sender;
        _options = options.Value;
        _clock = clock;
        _logger = logger;
    }

    public async Task<OutboundReport> DispatchAsync(CancellationToken cancellationToken)
    {
        var catalog = _catalog();
        var due = await _store.ListDeliveriesDueAsync(_clock.GetUtcNow(), _options.BatchSize, cancellationToken);
        if (due.Count == 0)
        {
            return new OutboundReport(0, 0, 0, 0);
        }

        var disabled = (await _store.ListDisabledSubscriptionsAsync(cancellationToken)).ToHashSet(StringComparer.Ordinal);

        // One round per destination and tick (at most its concurrency), all destinations at once: a tick waits at most
        // about one timeout, however many deliveries a hanging receiver has due, so the next sweep is never held up.
        var round = due
            .GroupBy(d => d.Destination, StringComparer.Ordinal)
            .SelectMany(line => line.Take(catalog.Destinations.GetValueOrDefault(line.Key)?.Concurrency ?? 1))
            .ToList();
        var results = await Task.WhenAll(round.Select(delivery => SendBoundedAsync(catalog, disabled, delivery, cancellationToken)));
        var report = new OutboundReport(
            results.Count(r => r == DeliveryState.Delivered),
            results.Count(r => r == DeliveryState.Pending),
            results.Count(r => r == DeliveryState.DeadLettered),
            results.Count(r => r == DeliveryState.Disabled));
        OutboundLog.Dispatched(_logger, round.Count, report.Delivered, report.Retrying, report.DeadLettered, report.Disabled);
        return report;
    }

    private async Task<DeliveryState?> SendBoundedAsync(TriggerCatalog catalog, HashSet<string> disabled, OutboxDelivery delivery, CancellationToken cancellationToken)
    {
        var destination = catalog.Destinations.GetValueOrDefault(delivery.Destination);
        var bound = _bounds.GetOrAdd(delivery.Destination, _ => new SemaphoreSlim(destination?.Concurrency ?? 1));
        await bound.WaitAsync(cancellationToken);
        try
        {
            return await SendOneAsync(catalog, destination, disabled, delivery, cancellationToken);
        }
        finally
        {
            bound.Release();
        }
    }

    private async Task<DeliveryState?> SendOneAsync(TriggerCatalog catalog, DestinationDefinition? destination, HashSet<string> disabled, OutboxDelivery due, CancellationToken cancellationToken)
    {
        // The lease outlasts one attempt: past it, another instance may take the delivery and send it again (at least once).
        var lease = await _store.TakeDeliveryAsync(due, (destination?.Timeout ?? TimeSpan.FromSeconds(10)) + TimeSpan.FromSeconds(30), cancellationToken);
        if (lease is null)
        {
            return null;
        }

        var now = _clock.GetUtcNow();
        DeliveryUpdate update;
        if (disabled.Contains(due.Subscription))
        {
            update = new DeliveryUpdate(DeliveryTransition.DeliveryDisable, new DeliveryAttempt(now, null, "the subscription is disabled: its destination answered 410 Gone"));
        }
        else if (destination is null || !catalog.Subscriptions.Any(s => s.Name == due.Subscription && s.Destination == due.Destination))
        {
            update = Failed(due, now, new OutboundSendResult(null, null, $"the catalog no longer has the subscription {due.Subscription}"), force: true);
        }
        else
        {
            var result = await _sender.SendAsync(destination, due, cancellationToken);
            now = _clock.GetUtcNow();
            if (result.Received)
            {
                update = new DeliveryUpdate(DeliveryTransition.DeliveryDone, new DeliveryAttempt(now, result.Status, null));
            }
            else if (result.Gone)
            {
                update = new DeliveryUpdate(DeliveryTransition.DeliveryDisable, new DeliveryAttempt(now, result.Status, "410 Gone: the subscription is disabled"));
                await _store.DisableSubscriptionAsync(due.Subscription, "410 Gone", now, CancellationToken.None);
                disabled.Add(due.Subscription);
                SubscriptionsDisabled.Add(1, new KeyValuePair<string, object?>("jobrelay.subscription", due.Subscription));
                OutboundLog.SubscriptionDisabled(_logger, due.Subscription, due.Destination);
            }
            else
            {
                update = Failed(due, now, result, force: false);
            }
        }

        if (!await _store.UpdateDeliveryAsync(lease, update, CancellationToken.None))
        {
            return null;
        }

        var state = DeliveryTransitions.To(update.Transition);
        Deliveries.Add(1,
            new KeyValuePair<string, object?>("jobrelay.event.type", due.Type),
            new KeyValuePair<string, object?>("jobrelay.destination.kind", destination is null ? "unknown" : DestinationDefinition.KindName(destination.Kind)),
            new KeyValuePair<string, object?>("jobrelay.outcome", state == DeliveryState.Pending ? "retry" : DeliveryTransitions.Name(state)));
        if (state == DeliveryState.DeadLettered)
        {
            OutboundLog.DeadLettered(_logger, due.EventId, due.Subscription, due.Attempts + 1, update.Attempt.Error ?? "failed");
        }
        else if (state == DeliveryState.Pending)
        {
            OutboundLog.WillRetry(_logger, due.EventId, due.Subscription, due.Attempts + 1, update.Attempt.Error ?? "failed", update.NextAt!.Value);
        }

        return state;
    }

    /// <summary>A failed attempt: retried after the backoff (or the receiver's Retry-After, if longer), dead-lettered past the horizon.</summary>
    private DeliveryUpdate Failed(OutboxDelivery due, DateTimeOffset now, OutboundSendResult result, bool force)
    {
        var attempt = new DeliveryAttempt(now, result.Status, result.Error);
        var horizon = due.CreatedAt + _options.Horizon;
        var next = now + Longer(Backoff(due.Attempts + 1), result.RetryAfter ?? TimeSpan.Zero);
        return force || now >= horizon
            ? new DeliveryUpdate(DeliveryTransition.DeliveryDeadLetter, attempt)
            : new DeliveryUpdate(DeliveryTransition.DeliveryRetry, attempt) { NextAt = next };
    }

    /// <summary>Exponential backoff with full jitter in its upper half: the wait after the <paramref name="failures"/>th failure.</summary>
    private TimeSpan Backoff(int failures)
    {
        var ceiling = Math.Min(_options.MaxDelay.TotalMilliseconds, _options.FirstDelay.TotalMilliseconds * Math.Pow(2, Math.Min(failures - 1, 30)));
#pragma warning disable CA5394 // jitter spreads retries; it protects nothing
        return TimeSpan.FromMilliseconds(ceiling / 2 + Random.Shared.NextDouble() * ceiling / 2);
#pragma warning restore CA5394
    }

    private static TimeSpan Longer(TimeSpan a, TimeSpan b) => a >= b ? a : b;
}

internal static partial class OutboundLog
{
    [LoggerMessage(EventId = 2200, Level = LogLevel.Information, Message = "Sent {Due} outbound deliveries: {Delivered} delivered, {Retrying} to retry, {DeadLettered} dead-lettered, {Disabled} disabled")]
    public static partial void Dispatched(ILogger logger, int due, int delivered, int retrying, int deadLettered, int disabled);

    [LoggerMessage(EventId = 2201, Level = LogLevel.Warning, Message = "Event {EventId} to {Subscription} was not received (attempt {Attempts}: {Error}); next attempt at {NextAt}")]
    public static partial void WillRetry(ILogger logger, string eventId, string subscription, int attempts, string error, DateTimeOffset nextAt);

    [LoggerMessage(EventId = 2202, Level = LogLevel.Error, Message = "Event {EventId} to {Subscription} is dead-lettered after {Attempts} attempts: {Error}")]
    public static partial void DeadLettered(ILogger logger, string eventId, string subscription, int attempts, string error);

    [LoggerMessage(EventId = 2203, Level = LogLevel.Warning, Message = "Subscription {Subscription} is disabled: destination {Destination} answered 410 Gone")]
    public static partial void SubscriptionDisabled(ILogger logger, string subscription, string destination);
}
