using JobRelay.Platforms;

namespace JobRelay.Runs;

/// <summary>How a run came about.</summary>
public enum RunOrigin
{
    Api,
    Webhook,
    Schedule,
    Chain,
    Cli,

    /// <summary>An operator replayed an earlier run from its stored arguments.</summary>
    Replay,

    /// <summary>An operator started a run of unknown outcome again, knowing its first job may exist.</summary>
    StartAgain,
}

/// <summary>One job JobRelay started for a trigger: what callers get back and what duplicates are answered with.</summary>
/// <param name="RunId">JobRelay's own id of this run, for correlating logs and answers.</param>
/// <param name="Trigger">The trigger's catalog name.</param>
/// <param name="Platform">The platform's catalog name.</param>
/// <param name="JobId">The platform's job id.</param>
/// <param name="Status">The job's status when the platform accepted it.</param>
/// <param name="Origin">What started the run.</param>
/// <param name="StartedAt">When the platform accepted the job.</param>
public sealed record RelayRun(string RunId, string Trigger, string Platform, string JobId, JobStatus Status, RunOrigin Origin, DateTimeOffset StartedAt)
{
    /// <summary>Where a person can look at the job, when the platform gives one.</summary>
    public Uri? JobUrl => Status.Url;
}
