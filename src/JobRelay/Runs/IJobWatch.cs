namespace JobRelay.Runs;

/// <summary>What the sweep's tick does besides the outbox: it follows the started jobs whose watch is due.</summary>
internal interface IJobWatch
{
    /// <summary>Checks the watches due now, each once, on at most one instance.</summary>
    Task<WatchReport> CheckDueAsync(CancellationToken cancellationToken);
}

/// <summary>What one tick's watch did.</summary>
/// <param name="Due">Watches found due.</param>
/// <param name="Checked">Watches this instance took and read.</param>
/// <param name="Ended">Jobs found ended (their chains started).</param>
/// <param name="Running">Jobs still running, read again later.</param>
/// <param name="Failed">Reads that failed (kept with backoff).</param>
/// <param name="Lost">Jobs the platform no longer knows.</param>
/// <param name="Abandoned">Watches past their horizon.</param>
/// <param name="Deferred">Due watches left for the next tick, the tick's time budget spent.</param>
internal sealed record WatchReport(int Due, int Checked, int Ended, int Running, int Failed, int Lost, int Abandoned, int Deferred);
