using JobRelay.Model;
using JobRelay.Platforms;
using JobRelay.Runs;

namespace JobRelay.Web;

/// <summary>The answer to a started run: <c>{runId, trigger, platform, jobId, status, jobUrl}</c>.</summary>
internal sealed record RunResponse(string RunId, string Trigger, string Platform, string JobId, string Status, Uri? JobUrl)
{
    public static RunResponse From(RelayRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        return new RunResponse(run.RunId, run.Trigger, run.Platform, run.JobId, StateName(run.Status.State), run.JobUrl);
    }

    public static string StateName(JobState state) => state switch
    {
        JobState.Queued => "queued",
        JobState.Running => "running",
        JobState.Succeeded => "succeeded",
        JobState.Failed => "failed",
        JobState.Cancelled => "cancelled",
        _ => "unknown",
    };
}

/// <summary>A job's status as the status route answers it.</summary>
public sealed record JobStatusResponse(
    string Trigger,
    string Platform,
    string JobId,
    string State,
    string RawStatus,
    bool IsFinal,
    Uri? Url,
    string? Message,
    DateTimeOffset? CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt)
{
    public static JobStatusResponse From(string trigger, string platform, JobStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        return new JobStatusResponse(
            trigger,
            platform,
            status.JobId,
            RunResponse.StateName(status.State),
            status.RawStatus,
            status.IsFinal,
            status.Url,
            status.Message,
            status.CreatedAt,
            status.StartedAt,
            status.FinishedAt);
    }
}
