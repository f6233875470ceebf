using Microsoft.Extensions.Options;

namespace JobRelay.Outbound;

/// <summary>How JobRelay sends outbound events (section <c>JobRelay:Outbound</c>): retries, the horizon, and each tick's batch.</summary>
internal sealed class OutboundOptions
{
    public const string SectionName = "JobRelay:Outbound";

    /// <summary>How long a delivery is retried after its event was written; past it, the next failure dead-letters it.</summary>
    public TimeSpan Horizon { get; set; } = TimeSpan.FromHours(24);

    /// <summary>The wait after the first failed attempt: it doubles with each failure (with jitter) up to <see cref="MaxDelay"/>.</summary>
    public TimeSpan FirstDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The longest wait between two attempts (a Retry-After longer than this is honoured up to the horizon).</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How many deliveries one tick takes at most.</summary>
    public int BatchSize { get; set; } = 200;

    /// <summary>The dashboard's public address: Slack and Teams messages link each run there (<c>…/dashboard#run=ID</c>); without it they name the run only.</summary>
    public Uri? DashboardUrl { get; set; }
}

/// <summary>Checks <see cref="OutboundOptions"/> at start, listing every problem by its configuration key.</summary>
internal sealed class OutboundOptionsValidator : IValidateOptions<OutboundOptions>
{
    public ValidateOptionsResult Validate(string? name, OutboundOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        void Between<T>(T value, T min, T max, string key)
            where T : IComparable<T>
        {
            if (value.CompareTo(min) < 0 || value.CompareTo(max) > 0)
            {
                failures.Add($"{OutboundOptions.SectionName}:{key} must be between {min} and {max}.");
            }
        }

        Between(options.Horizon, TimeSpan.FromMinutes(1), TimeSpan.FromDays(30), nameof(OutboundOptions.Horizon));
        Between(options.FirstDelay, TimeSpan.FromMilliseconds(10), TimeSpan.FromHours(1), nameof(OutboundOptions.FirstDelay));
        Between(options.MaxDelay, options.FirstDelay, TimeSpan.FromDays(1), nameof(OutboundOptions.MaxDelay));
        Between(options.BatchSize, 1, 10_000, nameof(OutboundOptions.BatchSize));
        if (options.DashboardUrl is { } dashboard && (!dashboard.IsAbsoluteUri || dashboard.Scheme is not ("https" or "http") || dashboard.UserInfo.Length > 0))
        {
            failures.Add($"{OutboundOptions.SectionName}:{nameof(OutboundOptions.DashboardUrl)} must be an absolute http(s) URL without credentials.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
