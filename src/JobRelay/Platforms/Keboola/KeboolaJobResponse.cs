using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using JobRelay.Model;

namespace JobRelay.Platforms.Keboola;

/// <summary>A Keboola Job as the queue answered it, read leniently.</summary>
/// <param name="Status">The job's status.</param>
/// <param name="RunId">The job's run id, when the answer has one.</param>
/// <param name="IsKnownStatus">Whether <see cref="JobStatus.RawStatus"/> is one of the documented statuses.</param>
internal sealed record KeboolaJob(JobStatus Status, string? RunId, bool IsKnownStatus);

/// <summary>An error answer of the queue: <c>{"error", "code", "status", "exceptionId", "context"}</c>, every member optional.</summary>
internal sealed record KeboolaError(string? Error, string? ExceptionId);

/// <summary>
/// Reads Keboola answers without a fixed schema: official clients have met ids as strings or numbers, empty objects
/// sent as <c>[]</c>, branch ids as numbers, strings or null, and empty parent run ids. Only what JobRelay uses is read,
/// and only the job id is required.
/// </summary>
internal static class KeboolaJobResponse
{
    private const string ChildJobFailed = "The job finished with a warning: a child job failed.";

    /// <summary>Reads a Job, or returns null with the reason when <paramref name="body"/> is not one.</summary>
    public static KeboolaJob? ReadJob(string body, out string? problem)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(body);
        }
        catch (JsonException)
        {
            problem = "the body is not JSON";
            return null;
        }

        if (root is not JsonObject job)
        {
            problem = "the body is not a JSON object";
            return null;
        }

        var id = Scalar(job["id"]);
        if (string.IsNullOrEmpty(id))
        {
            problem = "the job has no id";
            return null;
        }

        var rawStatus = Scalar(job["status"]) ?? string.Empty;
        var (state, known) = Map(rawStatus);
        var isFinished = Flag(job["isFinished"]) ?? IsEndStatus(rawStatus);
        if (!known)
        {
            state = isFinished ? JobState.Failed : JobState.Running;
        }

        var message = (job["result"] as JsonObject)?["message"] is JsonValue text && text.TryGetValue<string>(out var m) && m.Length > 0 ? m : null;
        if (string.Equals(rawStatus, "warning", StringComparison.Ordinal))
        {
            message = message is null ? ChildJobFailed : $"{message} ({ChildJobFailed})";
        }

        problem = null;
        var status = new JobStatus(id, state, rawStatus, isFinished)
        {
            Url = Uri.TryCreate(Scalar(job["url"]), UriKind.Absolute, out var url) ? url : null,
            Message = message,
            CreatedAt = Time(job["createdTime"]),
            StartedAt = Time(job["startTime"]),
            FinishedAt = Time(job["endTime"]),
        };
        return new KeboolaJob(status, NullIfEmpty(Scalar(job["runId"])), known);
    }

    /// <summary>Reads an error answer; members that are missing or of another shape are null.</summary>
    public static KeboolaError ReadError(string body)
    {
        try
        {
            return JsonNode.Parse(body) switch
            {
                JsonObject error => new KeboolaError(NullIfEmpty(Scalar(error["error"]) ?? Scalar(error["message"])), NullIfEmpty(Scalar(error["exceptionId"]))),
                JsonValue bare when bare.TryGetValue<string>(out var text) => new KeboolaError(NullIfEmpty(text), null),
                _ => new KeboolaError(null, null),
            };
        }
        catch (JsonException)
        {
            return new KeboolaError(null, null);
        }
    }

    private static (JobState State, bool Known) Map(string status) => status switch
    {
        "created" or "waiting" => (JobState.Queued, true),
        "processing" or "terminating" => (JobState.Running, true),
        "success" or "warning" => (JobState.Succeeded, true),
        "error" or "terminated" => (JobState.Failed, true),
        "cancelled" => (JobState.Cancelled, true),
        _ => (JobState.Running, false),
    };

    private static bool IsEndStatus(string status)
        => status is "success" or "warning" or "error" or "terminated" or "cancelled";

    /// <summary>A string or a number as text; null for anything else.</summary>
    private static string? Scalar(JsonNode? node)
    {
        if (node is not JsonValue value)
        {
            return null;
        }

        return value.GetValueKind() switch
        {
            JsonValueKind.String => value.GetValue<string>(),
            JsonValueKind.Number => value.ToJsonString(),
            _ => null,
        };
    }

    private static bool? Flag(JsonNode? node)
    {
        if (node is not JsonValue value)
        {
            return null;
        }

        return value.GetValueKind() switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Number => value.ToJsonString() != "0",
            JsonValueKind.String => bool.TryParse(value.GetValue<string>(), out var flag) ? flag : null,
            _ => null,
        };
    }

    private static DateTimeOffset? Time(JsonNode? node)
        => Scalar(node) is { Length: > 0 } text
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            ? time
            : null;

    private static string? NullIfEmpty(string? text) => string.IsNullOrEmpty(text) ? null : text;
}
