using System.Text.Json.Nodes;
using JobRelay.Model;

namespace JobRelay.Platforms;

/// <summary>A job's status as read from its platform.</summary>
/// <param name="JobId">The platform's job id.</param>
/// <param name="State">The normalised state.</param>
/// <param name="RawStatus">The platform's own status word (Keboola <c>status</c>, TheEye <c>lifecycle/state</c>).</param>
/// <param name="IsFinal">Whether the job has ended and its state will not change again.</param>
public sealed record JobStatus(string JobId, JobState State, string RawStatus, bool IsFinal)
{
    /// <summary>Where a person can look at the job, when the platform gives one.</summary>
    public Uri? Url { get; init; }

    /// <summary>The platform's message about the outcome (an error text, for instance).</summary>
    public string? Message { get; init; }

    public DateTimeOffset? CreatedAt { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    public DateTimeOffset? FinishedAt { get; init; }
}

/// <summary>A job the platform accepted.</summary>
/// <param name="JobId">The platform's job id.</param>
/// <param name="Status">The status the platform reported when it accepted the job.</param>
internal sealed record StartedJob(string JobId, JobStatus Status)
{
    /// <summary>The platform's run id (Keboola <c>runId</c>), when it has one.</summary>
    public string? RunId { get; init; }

    /// <summary>The per-job secret TheEye gives with a job started by task secret key; internal, so a record's text never shows it.</summary>
    internal string? JobSecret { get; init; }
}

/// <summary>Fully resolved parameters of one job, ready to be sent. Built from a trigger and its argument values.</summary>
public abstract record JobRequest
{
    /// <summary>The catalog name of the trigger the job is started for (for logs and traces).</summary>
    public required string Trigger { get; init; }
}

/// <summary>The variable values of a Keboola job (<c>variableValuesData.values[]</c>).</summary>
internal sealed record KeboolaVariableValue(string Name, string Value);

/// <summary>The backend of a Keboola job (<c>backend</c>): an object, never a bare string.</summary>
internal sealed record KeboolaBackend(string? Type, string? Context);

/// <summary>A Keboola Job Queue <c>POST /jobs</c> request. Only <see cref="Component"/> is required by the API.</summary>
internal sealed record KeboolaJobRequest : JobRequest
{
    public required string Component { get; init; }

    /// <summary><c>run</c> (the default), <c>debug</c> or <c>forceRun</c> (runs a disabled configuration).</summary>
    public string Mode { get; init; } = "run";

    public string? Config { get; init; }

    public IReadOnlyList<string>? ConfigRowIds { get; init; }

    /// <summary>Configuration data that fully overrides <see cref="Config"/>.</summary>
    public JsonObject? ConfigData { get; init; }

    /// <summary>The component image tag.</summary>
    public string? Tag { get; init; }

    /// <summary>The development branch; the main branch when null.</summary>
    public string? BranchId { get; init; }

    /// <summary>Stored variable values by id; exclusive with <see cref="VariableValues"/>.</summary>
    public string? VariableValuesId { get; init; }

    /// <summary>Inline variable values (<c>variableValuesData</c>); exclusive with <see cref="VariableValuesId"/>.</summary>
    public IReadOnlyList<KeboolaVariableValue>? VariableValues { get; init; }

    public KeboolaBackend? Backend { get; init; }

    /// <summary>When the job may start at the earliest; exclusive with <see cref="DelaySeconds"/>.</summary>
    public DateTimeOffset? DelayedStartTime { get; init; }

    /// <summary>A start delay in seconds; exclusive with <see cref="DelayedStartTime"/>.</summary>
    public int? DelaySeconds { get; init; }

    /// <summary>Row parallelism: an integer 2–100 as text, or <c>infinity</c>.</summary>
    public string? Parallelism { get; init; }

    /// <summary>A parent run id, sent as <c>X-KBC-RunId</c>: the new job becomes a child of that run.</summary>
    public string? ParentRunId { get; init; }
}

/// <summary>A TheEye request that runs a task by creating a job.</summary>
internal sealed record TheEyeJobRequest : JobRequest
{
    public required string TaskId { get; init; }

    /// <summary>One slot per argument definition, in order; null for fixed or unused ones. Always sent, even empty.</summary>
    public IReadOnlyList<JsonNode?> TaskArguments { get; init; } = [];

    public TheEyeAuthentication Authentication { get; init; } = TheEyeAuthentication.AccessToken;

    /// <summary>The name of the secret holding the task's secret key; required unless <see cref="Authentication"/> is an access token.</summary>
    public string? SecretKeySecretName { get; init; }
}
