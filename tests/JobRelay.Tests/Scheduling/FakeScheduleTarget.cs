using System.Collections.Concurrent;
using System.Threading.Channels;
using JobRelay.Scheduling;

namespace JobRelay.Tests.Scheduling;

/// <summary>A schedule target with fixed triggers that records each start and can fail its next reads on demand.</summary>
internal sealed class FakeScheduleTarget(params ScheduledTrigger[] triggers) : IScheduleTarget
{
    private readonly Channel<ScheduledOccurrence> _starts = Channel.CreateUnbounded<ScheduledOccurrence>();
    private readonly Channel<bool> _reads = Channel.CreateUnbounded<bool>();
    private int _failingReads;

    public ConcurrentQueue<ScheduledOccurrence> Started { get; } = new();

    /// <summary>Makes the next <paramref name="count"/> reads of the triggers throw.</summary>
    public void FailNextReads(int count) => Interlocked.Exchange(ref _failingReads, count);

    public IReadOnlyList<ScheduledTrigger> GetScheduledTriggers()
    {
        var failing = Interlocked.Decrement(ref _failingReads) >= 0;
        _reads.Writer.TryWrite(failing);
        return failing ? throw new InvalidOperationException("the catalog could not be read") : triggers;
    }

    public Task StartAsync(ScheduledOccurrence occurrence, CancellationToken cancellationToken)
    {
        Started.Enqueue(occurrence);
        _starts.Writer.TryWrite(occurrence);
        return Task.CompletedTask;
    }

    /// <summary>Waits for the next start, failing the test after ten seconds without one.</summary>
    public async Task<ScheduledOccurrence> NextStartAsync()
        => await _starts.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));

    /// <summary>Waits for the next read of the triggers and tells whether it failed.</summary>
    public async Task<bool> NextReadFailedAsync()
        => await _reads.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
}
