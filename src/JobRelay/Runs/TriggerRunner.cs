using System.Diagnostics;
using System.Text.Json.Nodes;
using JobRelay.Diagnostics;
using JobRelay.Hosting;
using JobRelay.Platforms;
using JobRelay.Triggers;
using Microsoft.Extensions.Logging;

namespace JobRelay.Runs;

/// <summary>Starts a trigger's job on its platform and reads the status of jobs it started: the one act every entry point ends in.</summary>
public sealed class TriggerRunner(CatalogSource catalog, JobPlatforms platforms, TimeProvider timeProvider, ILogger<TriggerRunner> logger)
{
    /// <summary>The catalog the runner works from.</summary>
    public TriggerCatalog Catalog => catalog.Catalog;

    /// <summary>The trigger of that name, or a <see cref="RelayErrorKind.NotFound"/> failure.</summary>
    public TriggerDefinition GetTrigger(string name)
        => Catalog.Triggers.TryGetValue(name, out var trigger)
            ? trigger
            : throw new RelayException(RelayErrorKind.NotFound, $"Trigger '{name}' is not in the catalog.");

    /// <summary>Builds the trigger's job from <paramref name="arguments"/> and starts it.</summary>
    public async Task<RelayRun> RunAsync(
        string triggerName,
        IReadOnlyDictionary<string, JsonNode?> arguments,
        RunOrigin origin,
        CancellationToken cancellationToken)
    {
        var trigger = GetTrigger(triggerName);
        if (!trigger.Enabled)
        {
            throw new RelayException(RelayErrorKind.Forbidden, $"Trigger '{trigger.Name}' is disabled in the catalog.");
        }

        using var activity = RelayTelemetry.Source.StartActivity("trigger run", ActivityKind.Internal);
        activity?.SetTag("jobrelay.trigger", trigger.Name);
        activity?.SetTag("jobrelay.platform", trigger.Platform);
        activity?.SetTag("jobrelay.origin", origin.ToString());

        var request = TriggerJobFactory.Create(trigger, Catalog, arguments);
        var platform = platforms.Get(trigger.Platform);
        try
        {
            var started = await platform.StartJobAsync(request, cancellationToken);
            var run = new RelayRun(NewRunId(), trigger.Name, platform.Name, started.JobId, started.Status, origin, timeProvider.GetUtcNow());
            activity?.SetTag("jobrelay.job_id", run.JobId);
            activity?.SetTag("jobrelay.run_id", run.RunId);
            RunLog.JobStarted(logger, run.Trigger, run.Platform, run.JobId, run.RunId, origin);
            return run;
        }
        catch (RelayException ex)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.Kind.ToString());
            RunLog.JobNotStarted(logger, trigger.Name, trigger.Platform, origin, ex.Kind, ex.Message);
            throw;
        }
    }

    /// <summary>Reads the current status of a job of the trigger's platform.</summary>
    public Task<JobStatus> GetStatusAsync(string triggerName, string jobId, CancellationToken cancellationToken)
    {
        var trigger = GetTrigger(triggerName);
        return platforms.Get(trigger.Platform).GetJobStatusAsync(jobId, cancellationToken);
    }

    private static string NewRunId() => Guid.CreateVersion7().ToString("n");
}

internal static partial class RunLog
{
    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "Started job {JobId} on platform {Platform} for trigger {Trigger} (run {RunId}, {Origin})")]
    public static partial void JobStarted(ILogger logger, string trigger, string platform, string jobId, string runId, RunOrigin origin);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Warning, Message = "No job started on platform {Platform} for trigger {Trigger} ({Origin}): {Kind}: {Reason}")]
    public static partial void JobNotStarted(ILogger logger, string trigger, string platform, RunOrigin origin, RelayErrorKind kind, string reason);
}
