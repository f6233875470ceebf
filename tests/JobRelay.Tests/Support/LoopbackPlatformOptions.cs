namespace JobRelay.Tests.Support;

/// <summary>How the <see cref="LoopbackPlatforms"/> answer: the jobs' ids, states and secrets, and where Keboola listens.</summary>
internal sealed class LoopbackPlatformOptions
{
    /// <summary>The id of the first Keboola job; each start takes the next.</summary>
    public int FirstJobId { get; init; } = 1;

    /// <summary>The status a Keboola job reads as, until a kill makes it <c>terminating</c>.</summary>
    public string KeboolaJobStatus { get; init; } = "success";

    /// <summary>How long Keboola takes to answer a start (the request's abort ends the wait).</summary>
    public TimeSpan KeboolaStartDelay { get; init; }

    /// <summary>Keboola's port; 0 for a free one, another to take over a port the relay found refusing.</summary>
    public int KeboolaPort { get; init; }

    /// <summary>The id of every job TheEye starts.</summary>
    public string TheEyeJobId { get; init; } = "64f000000000000000000001";

    /// <summary>The task every TheEye job reports.</summary>
    public string TheEyeTask { get; init; } = "task-1";

    /// <summary>The job secret TheEye hands back with every job (a credential the relay must never show).</summary>
    public string TheEyeJobSecret { get; init; } = "job-secret-0001";

    /// <summary>Whether TheEye's task lets a job be cancelled; when not, a cancel answers 403 <c>Job is not cancellable</c>, as to a non-admin token.</summary>
    public bool TheEyeCancellable { get; init; } = true;

    /// <summary>Whether TheEye's jobs are approval jobs, on hold until approved or rejected (once; then 409).</summary>
    public bool TheEyeApproval { get; init; }
}
