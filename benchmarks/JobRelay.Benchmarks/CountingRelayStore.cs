using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using JobRelay.Platforms;
using JobRelay.State;
using Microsoft.Extensions.DependencyInjection;

namespace JobRelay.Benchmarks;

/// <summary>
/// Counts the store operations JobRelay makes, split into reads and conditional writes as a store bills them. A claim
/// is a read followed by a write only when the key is free, so it is counted by what it did, from its result. Each
/// operation is also counted by its name (<see cref="Operations"/>), so a suite can say which operations a step made.
/// </summary>
internal sealed class CountingRelayStore(IRelayStore inner) : IRelayStore, IDisposable
{
    private long _reads;
    private long _writes;
    private long _claimsFirst;
    private long _claimsInFlight;
    private long _claimsSettled;
    private readonly ConcurrentDictionary<string, long> _operations = new(StringComparer.Ordinal);

    public long Reads => Interlocked.Read(ref _reads);

    public long Writes => Interlocked.Read(ref _writes);

    /// <summary>Claims that won their key.</summary>
    public long ClaimsFirst => Interlocked.Read(ref _claimsFirst);

    /// <summary>Claims that met the key claimed and not yet settled: two claimants at once.</summary>
    public long ClaimsInFlight => Interlocked.Read(ref _claimsInFlight);

    /// <summary>Claims that met the key settled: a redelivery after the original's outcome.</summary>
    public long ClaimsSettled => Interlocked.Read(ref _claimsSettled);

    /// <summary>The decorated store, for what a suite reads without counting it (and for its own counters).</summary>
    public IRelayStore Inner => inner;

    /// <summary>How many times each operation was called so far, by its name on <see cref="IRelayStore"/>.</summary>
    public IReadOnlyDictionary<string, long> Operations() => new Dictionary<string, long>(_operations, StringComparer.Ordinal);

    /// <summary>Wraps the store <see cref="StateServiceCollectionExtensions.AddJobRelayState"/> registered.</summary>
    public static void Decorate(IServiceCollection services)
    {
        var registered = services.Single(d => d.ServiceType == typeof(IRelayStore));
        var factory = registered.ImplementationFactory ?? throw new InvalidOperationException("The store is expected to be registered by a factory.");
        services.Remove(registered);
        services.AddSingleton<IRelayStore>(provider => new CountingRelayStore((IRelayStore)factory(provider)));
    }

    public void Dispose() => (inner as IDisposable)?.Dispose();

    public async Task<ClaimResult> ClaimAsync(NewRun run, TimeSpan lease, CancellationToken cancellationToken)
    {
        var result = await inner.ClaimAsync(run, lease, cancellationToken);
        Count(nameof(ClaimAsync));
        Interlocked.Increment(ref _reads);
        switch (result.Status)
        {
            case ClaimStatus.First:
                Interlocked.Increment(ref _writes);
                Interlocked.Increment(ref _claimsFirst);
                break;
            case ClaimStatus.InFlight:
                Interlocked.Increment(ref _claimsInFlight);
                break;
            default:
                Interlocked.Increment(ref _claimsSettled);
                break;
        }

        return result;
    }

    public Task<RunLease?> BeginStartAsync(RunLease lease, TimeSpan callLease, CancellationToken cancellationToken)
        => Write(inner.BeginStartAsync(lease, callLease, cancellationToken));

    public Task<bool> SettleAsync(RunLease lease, RunSettlement settlement, CancellationToken cancellationToken)
        => Write(inner.SettleAsync(lease, settlement, cancellationToken));

    public Task<bool> ReleaseAsync(RunLease lease, CancellationToken cancellationToken)
        => Write(inner.ReleaseAsync(lease, cancellationToken));

    public Task<RunRecord?> FindAsync(ClaimKey key, CancellationToken cancellationToken)
        => Read(inner.FindAsync(key, cancellationToken));

    public Task<RunRecord?> FindRunAsync(string runId, CancellationToken cancellationToken)
        => Read(inner.FindRunAsync(runId, cancellationToken));

    public Task<RunRecord?> FindRunByJobAsync(string platform, string jobId, CancellationToken cancellationToken)
        => Read(inner.FindRunByJobAsync(platform, jobId, cancellationToken));

    public Task<string?> FindJobSecretAsync(string platform, string jobId, CancellationToken cancellationToken)
        => Read(inner.FindJobSecretAsync(platform, jobId, cancellationToken));

    public Task<IReadOnlyList<RunRecord>> ListDueAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
        => Read(inner.ListDueAsync(now, max, cancellationToken));

    public Task<RunLease?> TakeDueAsync(RunRecord due, TimeSpan lease, CancellationToken cancellationToken)
        => Write(inner.TakeDueAsync(due, lease, cancellationToken));

    public Task<RunRecord?> ExpireStartAsync(RunRecord starting, CancellationToken cancellationToken)
        => Write(inner.ExpireStartAsync(starting, cancellationToken));

    public Task<int> PurgeAsync(DateTimeOffset before, CancellationToken cancellationToken)
        => Write(inner.PurgeAsync(before, cancellationToken));

    public Task<RunPage> ListRunsAsync(RunFilter filter, CancellationToken cancellationToken)
        => Read(inner.ListRunsAsync(filter, cancellationToken));

    public Task<IReadOnlyList<RunRecord>> ListFollowersAsync(string parentRunId, CancellationToken cancellationToken)
        => Read(inner.ListFollowersAsync(parentRunId, cancellationToken));

    public Task<bool> SaveJobStatusAsync(string runId, JobStatus status, DateTimeOffset checkedAt, CancellationToken cancellationToken)
        => Write(inner.SaveJobStatusAsync(runId, status, checkedAt, cancellationToken));

    public Task<IReadOnlyList<RunRecord>> ListWatchesDueAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
        => Read(inner.ListWatchesDueAsync(now, max, cancellationToken));

    public Task<RunLease?> TakeWatchAsync(RunRecord due, TimeSpan lease, CancellationToken cancellationToken)
        => Write(inner.TakeWatchAsync(due, lease, cancellationToken));

    public Task<bool> UpdateWatchAsync(RunLease lease, WatchUpdate update, CancellationToken cancellationToken)
        => Write(inner.UpdateWatchAsync(lease, update, cancellationToken));

    public Task AppendActionAsync(RunAction action, CancellationToken cancellationToken)
        => Write(inner.AppendActionAsync(action, cancellationToken));

    public Task<IReadOnlyList<RunAction>> ListActionsAsync(string runId, CancellationToken cancellationToken)
        => Read(inner.ListActionsAsync(runId, cancellationToken));

    public Task AddOutcomeCountsAsync(IReadOnlyCollection<OutcomeCount> counts, CancellationToken cancellationToken)
        => Write(inner.AddOutcomeCountsAsync(counts, cancellationToken));

    public Task<RunSummary> SummarizeAsync(string trigger, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
        => Read(inner.SummarizeAsync(trigger, from, to, cancellationToken));

    public Task RecordTickAsync(SchedulerTick tick, CancellationToken cancellationToken)
        => Write(inner.RecordTickAsync(tick, cancellationToken));

    public Task<SchedulerTick?> FindLastTickAsync(CancellationToken cancellationToken)
        => Read(inner.FindLastTickAsync(cancellationToken));

    public Task<IReadOnlyList<OutboxDelivery>> ListDeliveriesDueAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
        => Read(inner.ListDeliveriesDueAsync(now, max, cancellationToken));

    public Task<DeliveryLease?> TakeDeliveryAsync(OutboxDelivery due, TimeSpan lease, CancellationToken cancellationToken)
        => Write(inner.TakeDeliveryAsync(due, lease, cancellationToken));

    public Task<bool> UpdateDeliveryAsync(DeliveryLease lease, DeliveryUpdate update, CancellationToken cancellationToken)
        => Write(inner.UpdateDeliveryAsync(lease, update, cancellationToken));

    public Task<IReadOnlyList<OutboxDelivery>> ListDeliveriesAsync(string runId, CancellationToken cancellationToken)
        => Read(inner.ListDeliveriesAsync(runId, cancellationToken));

    public Task DisableSubscriptionAsync(string subscription, string reason, DateTimeOffset at, CancellationToken cancellationToken)
        => Write(inner.DisableSubscriptionAsync(subscription, reason, at, cancellationToken));

    public Task<IReadOnlyCollection<string>> ListDisabledSubscriptionsAsync(CancellationToken cancellationToken)
        => Read(inner.ListDisabledSubscriptionsAsync(cancellationToken));

    public Task<IReadOnlyList<OutboxDelivery>> ListFailedDeliveriesAsync(int max, CancellationToken cancellationToken)
        => Read(inner.ListFailedDeliveriesAsync(max, cancellationToken));

    private void Count(string operation) => _operations.AddOrUpdate(operation, 1, (_, count) => count + 1);

    private Task Write(Task operation, [CallerArgumentExpression(nameof(operation))] string call = "")
    {
        Count(Name(call));
        Interlocked.Increment(ref _writes);
        return operation;
    }

    private Task<T> Read<T>(Task<T> operation, [CallerArgumentExpression(nameof(operation))] string call = "")
    {
        Count(Name(call));
        Interlocked.Increment(ref _reads);
        return operation;
    }

    private Task<T> Write<T>(Task<T> operation, [CallerArgumentExpression(nameof(operation))] string call = "")
    {
        Count(Name(call));
        Interlocked.Increment(ref _writes);
        return operation;
    }

    /// <summary>The operation's name from the call's text: <c>inner.TakeWatchAsync(due, …)</c> is <c>TakeWatchAsync</c>.</summary>
    private static string Name(string call)
    {
        var start = call.IndexOf('.', StringComparison.Ordinal) + 1;
        var end = call.IndexOf('(', StringComparison.Ordinal);
        return end > start ? call[start..end] : call;
    }
}
