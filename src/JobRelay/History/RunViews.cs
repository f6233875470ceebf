using System.Text.Json.Nodes;
using JobRelay.Runs;
using JobRelay.State;
using JobRelay.Web;

namespace JobRelay.History;

/// <summary>A run as every history route and the CLI show it. It never holds TheEye's job secret or any secret value.</summary>
public sealed record RunView(
    string RunId,
    string Trigger,
    string Origin,
    string State,
    string? Platform,
    string? JobId,
    Uri? JobUrl,
    JobStatusView? JobStatus,
    string? Reason,
    int Attempts,
    string? ParentRunId,
    string DeliveryKey,
    JsonObject Arguments,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    RunLinks Links)
{
    /// <summary>How JobRelay follows the run's job to its end; null for a run that started no job.</summary>
    public WatchView? Watch { get; init; }
}

/// <summary>
/// The follow-through of a run's job: watching (with the next read), ended (with its end time and duration), lost or
/// abandoned (with the reason), and whether it ran past its trigger's <c>maxDuration</c>.
/// </summary>
public sealed record WatchView(
    string State,
    DateTimeOffset? NextCheckAt,
    int Checks,
    string? Reason,
    DateTimeOffset? JobStartedAt,
    DateTimeOffset? JobEndedAt,
    double? DurationSeconds,
    DateTimeOffset? OverdueAt);

/// <summary>The latest job status known for a run: the platform's state, its own word, and when it was read.</summary>
public sealed record JobStatusView(string State, string Raw, DateTimeOffset? CheckedAt);

public sealed record RunLinks(string Self);

/// <summary>What caused a run: its origin, and the delivery, schedule occurrence or parent run behind it.</summary>
public sealed record RunCause(string Kind, string? DeliveryKey, DateTimeOffset? Occurrence, string? ParentRunId);

/// <summary>An operator action in a run's history.</summary>
public sealed record RunHistoryEntry(DateTimeOffset At, string Action, string By, string? Detail);

/// <summary>A run with its lineage: what caused it, the chain parent and followers, and what operators did to it.</summary>
public sealed record RunDetail(RunView Run, RunCause Cause, RunView? Parent, IReadOnlyList<RunView> Followers, IReadOnlyList<RunHistoryEntry> History)
{
    /// <summary>The run's outbound events, one entry per event and subscription, in the order of the run's life.</summary>
    public IReadOnlyList<RunEventDelivery> Events { get; init; } = [];
}

/// <summary>
/// One outbound event of a run to one subscription: where its delivery stands (pending, delivered, dead-lettered,
/// disabled) and each attempt. It never holds a secret: the destination is named, its address and signing secret are not.
/// </summary>
public sealed record RunEventDelivery(
    string RunId,
    string EventId,
    string Type,
    string Subscription,
    string Destination,
    string State,
    DateTimeOffset CreatedAt,
    DateTimeOffset? NextAttemptAt,
    int AttemptCount,
    IReadOnlyList<RunEventAttempt> Attempts);

/// <summary>One delivery attempt: when, the receiver's status (null when no answer came) and what went wrong.</summary>
public sealed record RunEventAttempt(DateTimeOffset At, int? Status, string? Error);

/// <summary>One page of runs, newest first; <see cref="Next"/> is the cursor of the following page, null on the last.</summary>
public sealed record RunList(IReadOnlyList<RunView> Runs, string? Next);

/// <summary>A trigger's outcome counts over a window.</summary>
public sealed record OutcomeCounts(long Started, long Pending, long Duplicate, long Ignored, long Rejected, long OutcomeUnknown, long Refused)
{
    /// <summary>Started runs whose job the watch found running past the trigger's <c>maxDuration</c>.</summary>
    public long Overdue { get; init; }
}

/// <summary>Percentiles of the platform start latency: from the run's claim to the platform's acceptance.</summary>
public sealed record LatencyPercentiles(double P50, double P95);

public sealed record TriggerStats(string Trigger, DateTimeOffset From, DateTimeOffset To, OutcomeCounts Counts, LatencyPercentiles? StartLatencyMs);

/// <summary>The wire names of run states and the mapping of stored runs to views.</summary>
public static class RunWire
{
    /// <summary>Every run state as the API names it.</summary>
    public static IReadOnlyList<string> States => RunStateNames.All;

    /// <summary>Every origin as the API names it.</summary>
    public static IReadOnlyList<string> Origins { get; } = [.. Enum.GetValues<RunOrigin>().Select(TriggerRunner.OriginName)];

    /// <summary>The claim key in a form safe to show: its kind and its value within its scope.</summary>
    internal static string DeliveryKey(ClaimKey key) => ClaimKeys.Shown(key);

    internal static RunView View(RunRecord run) => new(
        run.RunId,
        run.Trigger,
        run.Origin,
        RunStateNames.Of(run.State),
        run.Platform,
        run.JobId,
        run.JobUrl,
        run.JobState is { } jobState ? new JobStatusView(RunResponse.StateName(jobState), run.RawStatus ?? "unknown", run.JobCheckedAt) : null,
        run.Reason,
        run.Attempts,
        run.ParentRunId,
        DeliveryKey(run.Key),
        JsonNode.Parse(run.Arguments) as JsonObject ?? [],
        run.CreatedAt,
        run.UpdatedAt,
        new RunLinks("/api/runs/" + Uri.EscapeDataString(run.RunId)))
    {
        Watch = WatchOf(run),
    };

    private static WatchView? WatchOf(RunRecord run)
    {
        if (run.Watch == WatchState.None)
        {
            return null;
        }

        var started = run.JobStartedAt ?? run.UpdatedAt;
        var duration = run.JobFinishedAt is { } ended && ended >= started ? Math.Round((ended - started).TotalSeconds, 3) : (double?)null;
        return new WatchView(
            WatchTransitions.Name(run.Watch),
            run.Watch == WatchState.Watching ? run.WatchNextAt : null,
            run.WatchChecks,
            run.WatchReason,
            run.JobStartedAt,
            run.JobFinishedAt,
            duration,
            run.OverdueAt);
    }

    internal static RunEventDelivery Delivery(OutboxDelivery delivery) => new(
        delivery.RunId,
        delivery.EventId,
        delivery.Type,
        delivery.Subscription,
        delivery.Destination,
        DeliveryTransitions.Name(delivery.State),
        delivery.CreatedAt,
        delivery.State == DeliveryState.Pending ? delivery.NextAt : null,
        delivery.Attempts,
        [.. delivery.Log.Select(a => new RunEventAttempt(a.At, a.Status, a.Error))]);

    internal static RunCause Cause(RunRecord run) => new(
        run.Origin,
        run.Key is State.DeliveryKey ? DeliveryKey(run.Key) : null,
        run.Key is OccurrenceKey occurrence ? occurrence.DueAt : null,
        run.ParentRunId);
}

/// <summary>
/// <c>GET /api/deliveries/failed</c>: the outbound deliveries that failed at least once and are not delivered (pending a
/// retry, or dead-lettered), newest first, each with its attempts and never a secret.
/// </summary>
public sealed record FailedDeliveryList(IReadOnlyList<RunEventDelivery> Deliveries);
