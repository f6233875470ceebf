using Microsoft.Extensions.Options;

namespace JobRelay.State;

/// <summary>
/// How JobRelay follows the jobs it started (section <c>JobRelay:Watch</c>): the default polling policy, which a
/// trigger's <c>watch</c> may override, and the bounds of each tick's status reads.
/// </summary>
internal sealed class WatchOptions
{
    public const string SectionName = "JobRelay:Watch";

    /// <summary>How long after the start the job's status is first read.</summary>
    public TimeSpan FirstCheck { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The longest wait between two reads of a running job: the wait doubles from <see cref="FirstCheck"/> up to this.</summary>
    public TimeSpan MaxInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The longest wait after a failed read (5xx, 429, timeout, network, Key Vault down): it doubles up to this.</summary>
    public TimeSpan MaxFailureDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long one instance holds a watch it took; past it, another instance's tick takes the watch over.</summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long one status read may take before it counts as failed.</summary>
    public TimeSpan ReadTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How many due watches one read of the store lists: a tick lists batch after batch until none is due.</summary>
    public int BatchSize { get; set; } = 200;

    /// <summary>How many status reads one instance runs at once.</summary>
    public int Parallelism { get; set; } = 8;

    /// <summary>After this many 404 answers in a row the job counts as lost.</summary>
    public int LostAfter { get; set; } = 3;

    /// <summary>A job with no final state this long after its start is no longer watched (abandoned).</summary>
    public TimeSpan Horizon { get; set; } = TimeSpan.FromDays(7);
}

/// <summary>Checks <see cref="WatchOptions"/> at start, listing every problem by its configuration key.</summary>
internal sealed class WatchOptionsValidator : IValidateOptions<WatchOptions>
{
    public ValidateOptionsResult Validate(string? name, WatchOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        void Between<T>(T value, T min, T max, string key)
            where T : IComparable<T>
        {
            if (value.CompareTo(min) < 0 || value.CompareTo(max) > 0)
            {
                failures.Add($"{WatchOptions.SectionName}:{key} must be between {min} and {max}.");
            }
        }

        Between(options.FirstCheck, TimeSpan.FromMilliseconds(10), TimeSpan.FromHours(1), nameof(WatchOptions.FirstCheck));
        Between(options.MaxInterval, options.FirstCheck, TimeSpan.FromHours(6), nameof(WatchOptions.MaxInterval));
        Between(options.MaxFailureDelay, TimeSpan.FromMilliseconds(10), TimeSpan.FromHours(6), nameof(WatchOptions.MaxFailureDelay));
        Between(options.ReadTimeout, TimeSpan.FromMilliseconds(10), TimeSpan.FromMinutes(5), nameof(WatchOptions.ReadTimeout));
        Between(options.Lease, options.ReadTimeout, TimeSpan.FromHours(1), nameof(WatchOptions.Lease));
        Between(options.BatchSize, 1, 10_000, nameof(WatchOptions.BatchSize));
        Between(options.Parallelism, 1, 256, nameof(WatchOptions.Parallelism));
        Between(options.LostAfter, 1, 100, nameof(WatchOptions.LostAfter));
        Between(options.Horizon, TimeSpan.FromMinutes(1), TimeSpan.FromDays(365), nameof(WatchOptions.Horizon));
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
