using Microsoft.Extensions.Logging;

namespace JobRelay.State;

internal static partial class StoreLog
{
    [LoggerMessage(EventId = 1900, Level = LogLevel.Information, Message = "Opened the state store {Location} (schema {SchemaVersion})")]
    public static partial void Opened(ILogger logger, string location, int schemaVersion);

    [LoggerMessage(EventId = 1901, Level = LogLevel.Warning, Message = "Took over claim {Key} (run {RunId}): its holder let the lease expire before calling the platform")]
    public static partial void TakenOver(ILogger logger, ClaimKey key, string runId);

    [LoggerMessage(EventId = 1902, Level = LogLevel.Error, Message = "Claim {Key} (run {RunId}) expired while its platform call may have been under way; its outcome is unknown and it is not resent")]
    public static partial void StartExpired(ILogger logger, ClaimKey key, string runId);

    [LoggerMessage(EventId = 1903, Level = LogLevel.Warning, Message = "Claim {Key} (run {RunId}) was taken by another instance before this one settled it")]
    public static partial void LeaseLost(ILogger logger, ClaimKey key, string runId);
}
