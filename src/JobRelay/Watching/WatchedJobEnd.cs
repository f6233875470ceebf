using System.Globalization;
using System.Text.Json.Nodes;
using JobRelay.Chaining;
using JobRelay.Model;
using JobRelay.Platforms;
using JobRelay.State;
using JobRelay.Triggers;

namespace JobRelay.Watching;

/// <summary>
/// The job-end event a watch makes of a final status read: the same record the platform's notification would give
/// the chain processor, shaped like that notification's body, so that chain rules and <c>event:$.path</c> arguments
/// read alike whichever of the two saw the end.
/// </summary>
internal static class WatchedJobEnd
{
    public static JobEndEvent From(RunRecord run, JobStatus status, TriggerDefinition? trigger, TriggerCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(status);
        ArgumentNullException.ThrowIfNull(catalog);
        var request = trigger is null ? null : Request(run, trigger, catalog);
        var platform = run.Platform!;
        if (trigger?.PlatformKind == PlatformKind.TheEye || request is TheEyeJobRequest)
        {
            var task = (request as TheEyeJobRequest)?.TaskId;
            var slash = status.RawStatus.IndexOf('/', StringComparison.Ordinal);
            var lifecycle = slash < 0 ? "finished" : status.RawStatus[..slash];
            var state = slash < 0 ? status.RawStatus : status.RawStatus[(slash + 1)..];
            var job = new JsonObject { ["id"] = status.JobId, ["task_id"] = task, ["state"] = state, ["lifecycle"] = lifecycle };
            return new JobEndEvent(platform, status.JobId, status.State, state, new JsonObject { ["job"] = job }) { Task = task };
        }

        var keboola = request as KeboolaJobRequest;
        var eventType = status.State switch
        {
            JobState.Succeeded when status.RawStatus == "warning" => "job-succeeded-with-warning",
            JobState.Succeeded => "job-succeeded",
            JobState.Cancelled => "job-cancelled",
            _ => "job-failed",
        };
        var body = new JsonObject
        {
            ["id"] = status.JobId,
            ["url"] = status.Url?.ToString(),
            ["status"] = status.RawStatus,
            ["startTime"] = Time(status.StartedAt),
            ["endTime"] = Time(status.FinishedAt),
            ["component"] = keboola is null ? null : new JsonObject { ["id"] = keboola.Component },
            ["configuration"] = keboola?.Config is { } config ? new JsonObject { ["id"] = config } : null,
        };
        return new JobEndEvent(platform, status.JobId, status.State, eventType, new JsonObject { ["job"] = body, ["eventType"] = eventType })
        {
            Component = keboola?.Component,
            Config = keboola?.Config,
        };
    }

    /// <summary>The job the run started, rebuilt from its stored arguments: its component and config, or task.</summary>
    private static JobRequest? Request(RunRecord run, TriggerDefinition trigger, TriggerCatalog catalog)
    {
        var arguments = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        if (JsonNode.Parse(run.Arguments) is JsonObject stored)
        {
            foreach (var (name, value) in stored)
            {
                arguments[name] = value?.DeepClone();
            }
        }

        try
        {
            return TriggerJobFactory.Create(trigger, catalog, arguments);
        }
        catch (RelayException)
        {
            // The catalog changed since the start: the event then matches only rules that need no component or task.
            return null;
        }
    }

    private static string? Time(DateTimeOffset? time) => time?.ToString("yyyy-MM-dd'T'HH:mm:ssK", CultureInfo.InvariantCulture);
}
