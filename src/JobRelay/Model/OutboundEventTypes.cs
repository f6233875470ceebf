namespace JobRelay.Model;

/// <summary>One kind of outbound event: its wire name and what it reports.</summary>
public sealed record OutboundEventType(string Name, string Description);

/// <summary>
/// Every outbound event JobRelay sends: the one catalog of them, which the catalog's subscriptions, the payload's JSON
/// Schema (<c>events.schema.json</c>) and the OpenAPI document's <c>webhooks</c> section all name. Each type is sent at
/// most once per run, so a run's event of one type keeps one id across every retry.
/// </summary>
public static class OutboundEventTypes
{
    public const string RunAccepted = "run.accepted";
    public const string RunPending = "run.pending";
    public const string JobStarted = "job.started";
    public const string JobSucceeded = "job.succeeded";
    public const string JobFailed = "job.failed";
    public const string JobCancelled = "job.cancelled";
    public const string JobOverdue = "job.overdue";
    public const string RunOutcomeUnknown = "run.outcome-unknown";
    public const string RunRefused = "run.refused";
    public const string JobLost = "job.lost";

    /// <summary>Every type, in the order of a run's life.</summary>
    public static IReadOnlyList<OutboundEventType> All { get; } =
    [
        new(RunAccepted, "A trigger was accepted: the run is claimed and its job is about to be started."),
        new(RunPending, "The platform provably did not get the start (it is down or refused for now): JobRelay starts the job later."),
        new(JobStarted, "The platform accepted the job: the payload carries its id and URL."),
        new(JobSucceeded, "The job ended successfully, as the platform reported it."),
        new(JobFailed, "The job ended in failure, as the platform reported it."),
        new(JobCancelled, "The job was cancelled or terminated on the platform."),
        new(JobOverdue, "The job is still running past its trigger's maxDuration."),
        new(RunOutcomeUnknown, "The start may have reached the platform, but no answer came back: JobRelay never resends it by itself."),
        new(RunRefused, "The platform refused the job, or a pending start's deadline passed."),
        new(JobLost, "The platform no longer knows the job: it answered 404 to repeated reads."),
    ];

    /// <summary>Every type's wire name, in the order of <see cref="All"/>.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. All.Select(type => type.Name)];

    /// <summary>Whether <paramref name="name"/> is a type of this catalog (exact, case-sensitive).</summary>
    public static bool IsKnown(string name) => Names.Contains(name, StringComparer.Ordinal);
}
