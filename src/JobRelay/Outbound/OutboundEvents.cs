using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using JobRelay.Model;
using JobRelay.State;

namespace JobRelay.Outbound;

/// <summary>
/// Which outbound event each state change of a run reports, and the event built from the run as that change wrote it.
/// Pure: the stores call it while they prepare the write of the change, so the event is written in the same write.
/// </summary>
internal static class OutboundEvents
{
    /// <summary>The payload's JSON shape: camelCase names, nulls written (the schema names every member).</summary>
    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web);

    /// <summary>The event id of a run's event of <paramref name="type"/>: the same for every write and every retry.</summary>
    public static string IdOf(string runId, string type) => "evt_" + runId + "_" + type;

    /// <summary>The event a run transition reports, or null when it reports none.</summary>
    /// <param name="before">The run before the write (null for a new row).</param>
    /// <param name="after">The run as the write leaves it.</param>
    public static string? TypeOf(RunRecord? before, RunRecord after)
    {
        ArgumentNullException.ThrowIfNull(after);
        if (before?.State == after.State && before.Watch == after.Watch)
        {
            return before.OverdueAt is null && after.OverdueAt is not null ? OutboundEventTypes.JobOverdue : null;
        }

        if (before?.State != after.State)
        {
            return after.State switch
            {
                RunState.Claimed when before is null => OutboundEventTypes.RunAccepted,
                RunState.Pending when after.Attempts <= 1 => OutboundEventTypes.RunPending,
                RunState.Started => OutboundEventTypes.JobStarted,
                RunState.OutcomeUnknown => OutboundEventTypes.RunOutcomeUnknown,
                RunState.Refused => OutboundEventTypes.RunRefused,
                _ => null,
            };
        }

        return after.Watch switch
        {
            WatchState.Ended => after.JobState switch
            {
                JobState.Succeeded => OutboundEventTypes.JobSucceeded,
                JobState.Failed => OutboundEventTypes.JobFailed,
                JobState.Cancelled => OutboundEventTypes.JobCancelled,
                _ => null,
            },
            WatchState.Lost => OutboundEventTypes.JobLost,
            _ => null,
        };
    }

    /// <summary>The event of <paramref name="type"/> about <paramref name="run"/> as written at <paramref name="at"/>.</summary>
    public static OutboundEvent Of(RunRecord run, string type, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(run);
        if (!OutboundEventTypes.IsKnown(type))
        {
            throw new ArgumentException($"'{type}' is not an outbound event type.", nameof(type));
        }

        var started = run.JobStartedAt;
        var duration = started is { } from && run.JobFinishedAt is { } to && to >= from ? Math.Round((to - from).TotalSeconds, 3) : (double?)null;
        return new OutboundEvent(
            IdOf(run.RunId, type),
            type,
            at,
            new OutboundEventData(
                run.RunId,
                run.Trigger,
                run.Origin,
                run.Platform,
                run.JobId,
                run.JobUrl,
                run.State is RunState.Claimed or RunState.Starting ? "in-flight" : RunStateNames.Of(run.State),
                run.JobState?.ToString().ToLowerInvariant(),
                type == OutboundEventTypes.JobLost ? run.WatchReason : run.Reason,
                new OutboundEventTimes(run.CreatedAt, run.UpdatedAt, run.JobStartedAt, run.JobFinishedAt, run.OverdueAt, duration),
                run.ParentRunId,
                ClaimKeys.Shown(run.Key),
                JsonNode.Parse(run.Arguments) as JsonObject ?? [],
                new OutboundEventLinks("/api/runs/" + Uri.EscapeDataString(run.RunId))));
    }

    /// <summary>The event's body as every destination that sends the payload itself receives it.</summary>
    public static string Serialize(OutboundEvent outbound) => JsonSerializer.Serialize(outbound, Json);

    /// <summary>A duration for a human: seconds, minutes or hours.</summary>
    public static string Readable(double seconds) => seconds switch
    {
        < 60 => string.Create(CultureInfo.InvariantCulture, $"{seconds:0.#} s"),
        < 3600 => string.Create(CultureInfo.InvariantCulture, $"{Math.Floor(seconds / 60):0} min {seconds % 60:0} s"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{Math.Floor(seconds / 3600):0} h {Math.Floor(seconds % 3600 / 60):0} min"),
    };
}
