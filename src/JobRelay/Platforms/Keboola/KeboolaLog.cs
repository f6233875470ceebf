using JobRelay.Model;
using Microsoft.Extensions.Logging;

namespace JobRelay.Platforms.Keboola;

/// <summary>
/// Keboola adapter log lines (EventIds 1306–1309 and 1311–1319: the free ids of the 1300–1319 block, whose others
/// scheduling uses). They name platforms, components, jobs and secret names; never a token.
/// </summary>
internal static partial class KeboolaLog
{
    [LoggerMessage(EventId = 1306, Level = LogLevel.Debug, Message = "Starting a job of component {Component} on Keboola platform {Platform} for trigger {Trigger}")]
    public static partial void Starting(ILogger logger, string platform, string trigger, string component);

    [LoggerMessage(EventId = 1307, Level = LogLevel.Debug, Message = "Keboola platform {Platform} created job {JobId} (run {RunId}, status {Status}) of component {Component} for trigger {Trigger}")]
    private static partial void StartedInRun(ILogger logger, string platform, string trigger, string component, string jobId, string runId, string status);

    [LoggerMessage(EventId = 1317, Level = LogLevel.Debug, Message = "Keboola platform {Platform} created job {JobId} (status {Status}) of component {Component} for trigger {Trigger}")]
    private static partial void StartedWithoutRun(ILogger logger, string platform, string trigger, string component, string jobId, string status);

    /// <summary>A created job, with its run id when Keboola's answer carried one.</summary>
    public static void Started(ILogger logger, string platform, string trigger, string component, string jobId, string? runId, string status)
    {
        if (string.IsNullOrEmpty(runId))
        {
            StartedWithoutRun(logger, platform, trigger, component, jobId, status);
        }
        else
        {
            StartedInRun(logger, platform, trigger, component, jobId, runId, status);
        }
    }

    [LoggerMessage(EventId = 1308, Level = LogLevel.Warning, Message = "Keboola platform {Platform} refused the Storage API token of secret {SecretName} with HTTP {StatusCode}; re-reading the secret and trying {Operation} once more")]
    public static partial void TokenRefused(ILogger logger, string platform, string secretName, string operation, int statusCode);

    [LoggerMessage(EventId = 1309, Level = LogLevel.Error, Message = "Keboola platform {Platform} refused the Storage API token of secret {SecretName} for {Operation} with HTTP {StatusCode}, also after re-reading it")]
    public static partial void AuthenticationFailed(ILogger logger, string platform, string secretName, string operation, int statusCode);

    [LoggerMessage(EventId = 1311, Level = LogLevel.Warning, Message = "Keboola platform {Platform} rejected {Operation} with HTTP {StatusCode}: {Error} (exception id {ExceptionId})")]
    public static partial void Rejected(ILogger logger, string platform, string operation, int statusCode, string? error, string? exceptionId);

    [LoggerMessage(EventId = 1312, Level = LogLevel.Error, Message = "Keboola platform {Platform} answered {Operation} with HTTP {StatusCode} and a body that is not a Keboola job: {Problem}")]
    public static partial void InvalidResponse(ILogger logger, string platform, string operation, int statusCode, string problem);

    [LoggerMessage(EventId = 1313, Level = LogLevel.Debug, Message = "Keboola job {JobId} on platform {Platform} is {Status} (final: {IsFinal})")]
    public static partial void StatusRead(ILogger logger, string platform, string jobId, string status, bool isFinal);

    [LoggerMessage(EventId = 1314, Level = LogLevel.Warning, Message = "Keboola job {JobId} on platform {Platform} has the unknown status {Status}; treated as {State}")]
    public static partial void UnknownStatus(ILogger logger, string platform, string jobId, string status, JobState state);

    [LoggerMessage(EventId = 1315, Level = LogLevel.Information, Message = "Keboola platform {Platform} accepted the kill of job {JobId}")]
    public static partial void KillRequested(ILogger logger, string platform, string jobId);

    [LoggerMessage(EventId = 1316, Level = LogLevel.Error, Message = "The Storage API token in secret {SecretName} for Keboola platform {Platform} is empty or holds characters an HTTP header cannot carry")]
    public static partial void UnusableToken(ILogger logger, string platform, string secretName);
}
