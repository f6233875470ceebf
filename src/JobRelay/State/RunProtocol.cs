using Microsoft.Extensions.Logging;

namespace JobRelay.State;

/// <summary>
/// The steps of <see cref="RunTransitions"/> that act on a copy of the record read (a claim, the sweep's take, an
/// expired call), driven the same way for every store: the table decides, the store performs the conditional write.
/// </summary>
internal static class RunProtocol
{
    /// <summary>
    /// Claims <paramref name="run"/>'s key: inserts its first record, takes over an abandoned claim, or answers with the
    /// run found (settling an expired platform call as unknown on the way). A lost race reads again.
    /// </summary>
    public static async Task<ClaimResult> ClaimAsync(IRunWrites store, NewRun run, TimeSpan lease, TimeProvider clock, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(run);
        while (true)
        {
            var now = clock.GetUtcNow();
            var found = await store.FindAsync(run.Key, cancellationToken);
            switch (RunTransitions.OnClaim(found, now))
            {
                case ClaimStep.Insert:
                    if (await store.InsertAsync(run.ToClaimedRecord(now, lease), cancellationToken) is { } inserted)
                    {
                        return ClaimResult.First(inserted);
                    }

                    break;
                case ClaimStep.TakeOver:
                    if (await store.ReplaceAsync(RunTransitions.TakeOver, found!, RunTransitions.TakeOver.Apply(found!, now, lease), cancellationToken) is { } taken)
                    {
                        StoreLog.TakenOver(logger, found!.Key, found.RunId);
                        return ClaimResult.First(taken);
                    }

                    break;
                case ClaimStep.ExpireStart:
                    if (await ExpireAsync(store, found!, now, logger, cancellationToken) is { } expired)
                    {
                        return new ClaimResult(ClaimStatus.Settled, expired, null);
                    }

                    break;
                case ClaimStep.InFlight:
                    return new ClaimResult(ClaimStatus.InFlight, found!, null);
                default:
                    return new ClaimResult(ClaimStatus.Settled, found!, null);
            }
        }
    }

    /// <summary>Takes a run the sweep listed as due (a pending start, or an abandoned claim) at the copy read; null when it is no longer that.</summary>
    public static async Task<RunLease?> TakeDueAsync(IRunWrites store, RunRecord due, TimeSpan lease, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (RunTransitions.OnDue(due, now) is not { } take || ReferenceEquals(take, RunTransitions.ExpireStart))
        {
            return null;
        }

        var taken = await store.ReplaceAsync(take, due, take.Apply(due, now, lease), cancellationToken);
        return taken is null ? null : new RunLease(taken.Key, taken.RunId, taken.Version) { ETag = taken.ETag };
    }

    /// <summary>Settles a platform call whose lease expired as of unknown outcome, at the copy read; null when it is no longer that.</summary>
    public static Task<RunRecord?> ExpireStartAsync(IRunWrites store, RunRecord starting, DateTimeOffset now, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(starting);
        return RunTransitions.ExpireStart.Allows(starting, now) ? ExpireAsync(store, starting, now, logger, cancellationToken) : Task.FromResult<RunRecord?>(null);
    }

    private static async Task<RunRecord?> ExpireAsync(IRunWrites store, RunRecord starting, DateTimeOffset now, ILogger logger, CancellationToken cancellationToken)
    {
        var expire = RunTransitions.ExpireStart;
        var expired = await store.ReplaceAsync(expire, starting, expire.Apply(starting, now, outcome: RunTransitions.ExpiredStart), cancellationToken);
        if (expired is not null)
        {
            StoreLog.StartExpired(logger, starting.Key, starting.RunId);
        }

        return expired;
    }
}
