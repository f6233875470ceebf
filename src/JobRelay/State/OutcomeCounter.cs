using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobRelay.State;

/// <summary>How often the counts of outcomes that create no run are written to the store.</summary>
internal sealed class HistoryOptions
{
    public const string SectionName = "JobRelay:History";

    /// <summary>At most this much of the duplicate and rejected counts is lost when the process dies.</summary>
    public TimeSpan CountFlushInterval { get; set; } = TimeSpan.FromSeconds(30);
}

internal sealed class HistoryOptionsValidator : IValidateOptions<HistoryOptions>
{
    public ValidateOptionsResult Validate(string? name, HistoryOptions options)
        => options.CountFlushInterval >= TimeSpan.FromSeconds(1) && options.CountFlushInterval <= TimeSpan.FromHours(1)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail("JobRelay:History:CountFlushInterval must be between 00:00:01 and 01:00:00.");
}

/// <summary>
/// Counts deliveries that create no run (duplicates, rejected ones) in memory, per trigger and hour, so that counting
/// costs the hot path no store operation: the counts reach the store in one write per trigger, outcome and hour at
/// each flush.
/// </summary>
internal sealed class OutcomeCounter(TimeProvider clock)
{
    private readonly Lock _gate = new();
    private Dictionary<(string Trigger, CountedOutcome Outcome, DateTimeOffset Hour), long> _counts = [];

    public void Count(string trigger, CountedOutcome outcome)
    {
        ArgumentException.ThrowIfNullOrEmpty(trigger);
        var now = clock.GetUtcNow();
        var hour = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 0, 0, TimeSpan.Zero);
        lock (_gate)
        {
            _counts[(trigger, outcome, hour)] = _counts.GetValueOrDefault((trigger, outcome, hour)) + 1;
        }
    }

    /// <summary>Writes the counts gathered since the last flush; on failure they are kept for the next one.</summary>
    public async Task FlushAsync(IRelayStore store, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        Dictionary<(string Trigger, CountedOutcome Outcome, DateTimeOffset Hour), long> taken;
        lock (_gate)
        {
            if (_counts.Count == 0)
            {
                return;
            }

            taken = _counts;
            _counts = [];
        }

        try
        {
            await store.AddOutcomeCountsAsync([.. taken.Select(c => new OutcomeCount(c.Key.Trigger, c.Key.Outcome, c.Key.Hour, c.Value))], cancellationToken);
        }
        catch
        {
            lock (_gate)
            {
                foreach (var (key, count) in taken)
                {
                    _counts[key] = _counts.GetValueOrDefault(key) + count;
                }
            }

            throw;
        }
    }
}

/// <summary>Flushes <see cref="OutcomeCounter"/> at every interval, and once more when the host stops.</summary>
internal sealed partial class OutcomeCountFlushService(
    OutcomeCounter counter,
    IRelayStore store,
    IOptions<HistoryOptions> options,
    TimeProvider clock,
    ILogger<OutcomeCountFlushService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.CountFlushInterval, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await FlushAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await FlushAsync(cancellationToken);
    }

    private async Task FlushAsync(CancellationToken cancellationToken)
    {
        try
        {
            await counter.FlushAsync(store, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            FlushFailed(logger, ex);
        }
    }

    [LoggerMessage(EventId = 2000, Level = LogLevel.Warning, Message = "The duplicate and rejected delivery counts could not be written; they are kept for the next flush")]
    private static partial void FlushFailed(ILogger logger, Exception exception);
}
