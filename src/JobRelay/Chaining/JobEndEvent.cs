using System.Text.Json;
using System.Text.Json.Nodes;
using JobRelay.Model;

namespace JobRelay.Chaining;

/// <summary>A job that ended on a platform, as a job-end notification reports it.</summary>
/// <param name="Platform">The catalog platform the event came from.</param>
/// <param name="JobId">The platform's job id.</param>
/// <param name="State">How the job ended.</param>
/// <param name="RawStatus">The platform's own word for it (Keboola event type, TheEye state).</param>
/// <param name="Payload">The event as received; chained triggers read it with <c>event:$.path</c>.</param>
internal sealed record JobEndEvent(string Platform, string JobId, JobState State, string RawStatus, JsonNode Payload)
{
    /// <summary>Keboola: the component id of the job.</summary>
    public string? Component { get; init; }

    /// <summary>Keboola: the configuration id of the job.</summary>
    public string? Config { get; init; }

    /// <summary>TheEye: the task id of the job.</summary>
    public string? Task { get; init; }

    /// <summary>The id the de-duplication ledger knows the event by: a redelivered event starts nothing twice.</summary>
    public string DeliveryId => $"{JobId}:{RawStatus}";
}

/// <summary>Reads job-end events from the bodies platforms send.</summary>
internal static class JobEndEvents
{
    /// <summary>
    /// A Keboola notification (<c>{"job":{"id",...,"component","configuration"},"eventType":"job-succeeded"}</c>).
    /// Returns null with a reason for events that are not a job's end (<c>job-processing-long</c>, phase events).
    /// </summary>
    public static JobEndEvent? FromKeboola(string platform, JsonNode payload, out string? ignoredReason)
    {
        ArgumentNullException.ThrowIfNull(payload);
        var job = payload["job"] as JsonObject
            ?? throw Invalid("a Keboola notification has a \"job\" object");
        var eventType = Text(payload["eventType"]) ?? Text(payload["event"])
            ?? throw Invalid("a Keboola notification has an \"eventType\"");
        var jobId = Text(job["id"]) ?? throw Invalid("a Keboola notification's job has an \"id\"");
        JobState? state = eventType switch
        {
            "job-succeeded" or "job-succeeded-with-warning" => JobState.Succeeded,
            "job-failed" => JobState.Failed,
            "job-cancelled" or "job-terminated" => JobState.Cancelled,
            _ => null,
        };
        if (state is null)
        {
            ignoredReason = $"event '{eventType}' is not a job's end";
            return null;
        }

        ignoredReason = null;
        return new JobEndEvent(platform, jobId, state.Value, eventType, payload)
        {
            Component = Id(job["component"]),
            Config = Id(job["configuration"]) ?? Id(job["config"]),
        };
    }

    /// <summary>
    /// A TheEye job-end call, the JSON an "Outgoing Webhook/HTTP Request" task sends
    /// (<c>{"job":{"id","task_id","state","lifecycle","output"}}</c>; <c>task</c> may be an object with an id).
    /// Jobs still in progress are ignored.
    /// </summary>
    public static JobEndEvent? FromTheEye(string platform, JsonNode payload, out string? ignoredReason)
    {
        ArgumentNullException.ThrowIfNull(payload);
        var job = payload["job"] as JsonObject ?? throw Invalid("a TheEye job-end call has a \"job\" object");
        var jobId = Text(job["id"]) ?? throw Invalid("a TheEye job-end call's job has an \"id\"");
        var stateText = Text(job["state"]) ?? throw Invalid("a TheEye job-end call's job has a \"state\"");
        JobState? state = stateText switch
        {
            "success" => JobState.Succeeded,
            "failure" or "error" or "timeout" => JobState.Failed,
            "canceled" or "cancelled" => JobState.Cancelled,
            _ => null,
        };
        if (state is null)
        {
            ignoredReason = $"job state '{stateText}' is not an end";
            return null;
        }

        ignoredReason = null;
        return new JobEndEvent(platform, jobId, state.Value, stateText, payload)
        {
            Task = Text(job["task_id"]) ?? Id(job["task"]),
        };
    }

    private static string? Id(JsonNode? node) => node switch
    {
        JsonObject obj => Text(obj["id"]),
        _ => Text(node),
    };

    private static string? Text(JsonNode? node) => JsonScalars.Text(node);

    private static RelayException Invalid(string expectation)
        => new(RelayErrorKind.InvalidInput, $"The event is not a job-end event: {expectation}.");
}
