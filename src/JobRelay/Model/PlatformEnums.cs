namespace JobRelay.Model;

/// <summary>The kinds of job platform JobRelay can start jobs on.</summary>
public enum PlatformKind
{
    Keboola,
    TheEye,
}

/// <summary>A job's state, normalised across platforms.</summary>
public enum JobState
{
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

/// <summary>How a TheEye job is authorised.</summary>
public enum TheEyeAuthentication
{
    /// <summary>The platform's access token, as <c>Authorization: Bearer</c>: <c>POST /job?customer=</c>.</summary>
    AccessToken,

    /// <summary>The task's secret key, documented route: <c>POST /job/secret/{key}?customer=</c>.</summary>
    SecretKey,

    /// <summary>The task's secret key, task-scoped route: <c>POST /task/{task}/secret/{key}/job</c> (organisation taken from the task).</summary>
    TaskSecretKey,
}
