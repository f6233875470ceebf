namespace JobRelay.Platforms;

/// <summary>
/// How a platform answered a <see cref="JobControl"/> on one of its jobs: it applied it, it does not offer it as
/// configured, or it refused it for this job. Failures to reach or understand the platform are not outcomes: they
/// are a <see cref="Model.RelayException"/>, as for every other platform call.
/// </summary>
public abstract record JobControlOutcome
{
    private JobControlOutcome()
    {
    }

    /// <summary>The platform took the control.</summary>
    /// <param name="Summary">What was asked of the platform, in its own terms, such as <c>kill of job 7001 requested</c>.</param>
    /// <param name="Status">The job's status read right after (usually still changing).</param>
    public sealed record Applied(string Summary, JobStatus Status) : JobControlOutcome;

    /// <summary>The platform, as configured, does not offer the control: nothing was sent. <paramref name="Reason"/> says why, and what would.</summary>
    public sealed record NotSupported(string Reason) : JobControlOutcome;

    /// <summary>
    /// The platform received the control and refused it for this job: a task set not cancellable, a job that is not
    /// an approval, an approval no longer on hold. <paramref name="PlatformStatusCode"/> is its answer's status and
    /// <paramref name="Reason"/> carries its words.
    /// </summary>
    public sealed record Refused(int PlatformStatusCode, string Reason) : JobControlOutcome;

    /// <summary>The answer of a platform that has no such control at all.</summary>
    internal static NotSupported NotOffered(IJobPlatform platform, JobControl control)
    {
        ArgumentNullException.ThrowIfNull(platform);
        return new NotSupported($"Platform '{platform.Name}' ({platform.Kind}) has no {JobControlNames.Of(control)} of a job{(control is JobControl.Approve or JobControl.Reject ? ": only TheEye approval jobs are approved or rejected" : control == JobControl.Restart ? ": only TheEye restarts a completed job" : string.Empty)}.");
    }
}
