using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using JobRelay.Model;

namespace JobRelay.Platforms.TheEye;

/// <summary>Reads TheEye's job and error answers.</summary>
internal static class TheEyeJob
{
    private static readonly string[] FinishedLifecycles = ["finished", "terminated", "canceled", "expired", "completed"];

    /// <summary>The job's status and its per-job secret, or null when the body is not a job.</summary>
    public static (JobStatus Status, string? JobSecret)? Read(string body)
    {
        JsonObject? job;
        try
        {
            job = JsonNode.Parse(body) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }

        var id = Text(job?["id"]) ?? Text(job?["_id"]);
        if (job is null || id is null)
        {
            return null;
        }

        var lifecycle = Text(job["lifecycle"]) ?? "ready";
        var state = Text(job["state"]) ?? "in_progress";
        var finished = FinishedLifecycles.Contains(lifecycle, StringComparer.Ordinal);
        var jobState = finished
            ? state switch
            {
                "success" => JobState.Succeeded,
                "canceled" or "cancelled" => JobState.Cancelled,
                _ => lifecycle == "canceled" ? JobState.Cancelled : JobState.Failed,
            }
            : lifecycle is "ready" or "onhold" ? JobState.Queued : JobState.Running;
        var status = new JobStatus(id, jobState, $"{lifecycle}/{state}", finished)
        {
            CreatedAt = Date(job["creation_date"]),
            StartedAt = Date(job["trigger_date"]) ?? Date(job["start_date"]),
            FinishedAt = finished ? Date(job["last_update"]) ?? Date(job["end_date"]) : null,
            Message = finished && jobState != JobState.Succeeded ? Message(job) : null,
        };
        return (status, Text(job["secret"]));
    }

    /// <summary>TheEye's error text: a bare JSON string, <c>{"statusCode","message"}</c>, or plain text.</summary>
    public static string? Error(string body)
    {
        if (string.IsNullOrWhiteSpace(body))
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(body) switch
            {
                JsonValue value when value.GetValueKind() == JsonValueKind.String => value.GetValue<string>(),
                JsonObject obj => Text(obj["message"]) ?? Text(obj["error"]) ?? Text(obj["statusMessage"]),
                _ => null,
            };
        }
        catch (JsonException)
        {
            return body.Trim();
        }
    }

    private static string? Message(JsonObject job)
        => Text(job["output"] is JsonArray output && output.Count > 0 ? output[^1] : null) ?? Text(job["result"]?["message"]);

    private static string? Text(JsonNode? node) => JsonScalars.Text(node);

    private static DateTimeOffset? Date(JsonNode? node)
        => Text(node) is { } text && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date) ? date : null;
}
