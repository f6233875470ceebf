using JobRelay.Model;
using JobRelay.Platforms;
using JobRelay.State;

namespace JobRelay.Runs;

/// <summary>
/// When a watched job's status is read: first <c>firstCheck</c> after the start, then at waits that double up to
/// <c>maxInterval</c> (the trigger's <c>watch</c>, else <see cref="WatchOptions"/>); after a failed read, at waits that
/// double up to <see cref="WatchOptions.MaxFailureDelay"/>, or later when the platform asked for more.
/// </summary>
internal static class WatchSchedule
{
    /// <summary>The first read of a job just started; at once when the platform's answer already reports its end.</summary>
    public static DateTimeOffset FirstCheck(DateTimeOffset startedAt, TriggerDefinition trigger, WatchOptions options, JobStatus status)
    {
        ArgumentNullException.ThrowIfNull(trigger);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(status);
        return status.IsFinal ? startedAt : startedAt + (trigger.Watch?.FirstCheck ?? options.FirstCheck);
    }

    /// <summary>The read after <paramref name="checks"/> reads of a job still running.</summary>
    public static DateTimeOffset Next(DateTimeOffset now, int checks, TriggerDefinition? trigger, WatchOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var first = trigger?.Watch?.FirstCheck ?? options.FirstCheck;
        var max = trigger?.Watch?.MaxInterval ?? options.MaxInterval;
        return now + Doubled(first, checks, max < first ? first : max);
    }

    /// <summary>The read after <paramref name="failures"/> failed reads in a row.</summary>
    public static DateTimeOffset AfterFailure(DateTimeOffset now, int failures, TriggerDefinition? trigger, WatchOptions options, TimeSpan? retryAfter)
    {
        ArgumentNullException.ThrowIfNull(options);
        var first = trigger?.Watch?.FirstCheck ?? options.FirstCheck;
        var wait = Doubled(first, failures - 1, options.MaxFailureDelay);
        return now + (retryAfter is { } asked && asked > wait ? asked : wait);
    }

    private static TimeSpan Doubled(TimeSpan first, int doublings, TimeSpan max)
        => TimeSpan.FromTicks(Math.Min(max.Ticks, first.Ticks * (1L << Math.Clamp(doublings, 0, 30))));
}
