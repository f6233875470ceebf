using JobRelay.Model;

namespace JobRelay.Platforms;

/// <summary>One configured platform (a catalog entry) that can start jobs and report on them.</summary>
internal interface IJobPlatform
{
    /// <summary>The platform's name in the catalog.</summary>
    string Name { get; }

    PlatformKind Kind { get; }

    /// <summary>Starts one job. Throws <see cref="RelayException"/> on every expected failure.</summary>
    /// <remarks>A job-starting request is never sent twice once the platform may have received it:
    /// such a failure is <see cref="RelayErrorKind.OutcomeUnknown"/>.</remarks>
    Task<StartedJob> StartJobAsync(JobRequest request, CancellationToken cancellationToken);

    /// <summary>Reads a job's current status.</summary>
    Task<JobStatus> GetJobStatusAsync(string jobId, CancellationToken cancellationToken);

    /// <summary>The controls this platform, as configured, offers on the jobs it started; any other is answered <see cref="JobControlOutcome.NotSupported"/>.</summary>
    IReadOnlySet<JobControl> Controls { get; }

    /// <summary>
    /// Asks the platform to cancel a job. Asking again is harmless. Applied carries the status read right after
    /// (usually still ending). Throws <see cref="RelayException"/> only when the platform cannot be reached or understood.
    /// </summary>
    Task<JobControlOutcome> CancelJobAsync(string jobId, CancellationToken cancellationToken);

    /// <summary>Approves a job that waits for approval.</summary>
    Task<JobControlOutcome> ApproveJobAsync(string jobId, CancellationToken cancellationToken);

    /// <summary>Rejects a job that waits for approval.</summary>
    Task<JobControlOutcome> RejectJobAsync(string jobId, CancellationToken cancellationToken);

    /// <summary>
    /// Runs a completed job once more, with the parameters of <paramref name="request"/> (the job's trigger and
    /// arguments, built again). Like a start, it is never sent twice once the platform may have received it.
    /// </summary>
    Task<JobControlOutcome> RestartJobAsync(string jobId, JobRequest request, CancellationToken cancellationToken);
}
