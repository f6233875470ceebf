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

    /// <summary>
    /// Asks the platform to cancel a job, and returns its status read right after (usually still ending). Asking
    /// again is harmless. Throws <see cref="RelayException"/> (a conflict when the platform's credential cannot cancel).
    /// </summary>
    Task<JobStatus> CancelJobAsync(string jobId, CancellationToken cancellationToken);
}
