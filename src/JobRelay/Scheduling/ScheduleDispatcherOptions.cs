using Microsoft.Extensions.Options;

namespace JobRelay.Scheduling;

/// <summary>How schedules are dispatched; bound from <c>JobRelay:Scheduling</c>.</summary>
public sealed class ScheduleDispatcherOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "JobRelay:Scheduling";

    /// <summary>How many starts may run at once (1 to 64).</summary>
    public int MaxParallelism { get; set; } = 4;

    /// <summary>
    /// How far back missed occurrences are started one by one. Of the occurrences a trigger missed before
    /// <c>windowEnd - MaxCatchUp</c> only the latest is started; the rest are logged as skipped.
    /// </summary>
    public TimeSpan MaxCatchUp { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>The local host's tick (1 s to 1 h). The Functions app ticks on its timer's schedule instead; this
    /// interval is then only the length of the very first window.</summary>
    public TimeSpan TickInterval { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary>Checks <see cref="ScheduleDispatcherOptions"/> when the host starts, naming every bad value.</summary>
internal sealed class ScheduleDispatcherOptionsValidator : IValidateOptions<ScheduleDispatcherOptions>
{
    public ValidateOptionsResult Validate(string? name, ScheduleDispatcherOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var section = ScheduleDispatcherOptions.SectionName;
        var failures = new List<string>();
        if (options.MaxParallelism is < 1 or > 64)
        {
            failures.Add($"{section}:MaxParallelism must be between 1 and 64; it is {options.MaxParallelism}.");
        }

        if (options.MaxCatchUp <= TimeSpan.Zero)
        {
            failures.Add($"{section}:MaxCatchUp must be longer than zero; it is {options.MaxCatchUp}.");
        }

        if (options.TickInterval < TimeSpan.FromSeconds(1) || options.TickInterval > TimeSpan.FromHours(1))
        {
            failures.Add($"{section}:TickInterval must be between 00:00:01 and 01:00:00; it is {options.TickInterval}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
