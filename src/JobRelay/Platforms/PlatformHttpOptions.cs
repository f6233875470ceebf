using System.ComponentModel.DataAnnotations;

namespace JobRelay.Platforms;

/// <summary>Time budgets and retry limits for every call to a platform (section <c>JobRelay:Platforms:Http</c>).</summary>
public sealed class PlatformHttpOptions
{
    public const string SectionName = "JobRelay:Platforms:Http";

    /// <summary>How long one attempt may take, from connecting to the last byte of the answer.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:05:00")]
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(8);

    /// <summary>How long connecting may take; shorter than an attempt so that a failed connect is known not to have sent anything.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00")]
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>How long one call may take with all its retries and waits.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan TotalTimeout { get; set; } = TimeSpan.FromSeconds(25);

    /// <summary>Retries after the first attempt, for failures that are safe to retry.</summary>
    [Range(0, 10)]
    public int MaxRetries { get; set; } = 3;

    /// <summary>The first backoff delay; later ones grow exponentially, with jitter.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The longest <c>Retry-After</c> honoured by waiting; a longer one is handed back to the caller instead.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00")]
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromSeconds(10);
}
