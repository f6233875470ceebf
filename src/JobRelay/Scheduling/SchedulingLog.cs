using Microsoft.Extensions.Logging;

namespace JobRelay.Scheduling;

internal static partial class SchedulingLog
{
    [LoggerMessage(EventId = 1300, Level = LogLevel.Information, Message = "Started trigger {Trigger} for its schedule, due at {DueAt:o}")]
    public static partial void Started(ILogger logger, string trigger, DateTimeOffset dueAt);

    [LoggerMessage(EventId = 1301, Level = LogLevel.Error, Message = "The scheduled start of trigger {Trigger}, due at {DueAt:o}, failed; it is not retried")]
    public static partial void StartFailed(ILogger logger, Exception exception, string trigger, DateTimeOffset dueAt);

    [LoggerMessage(EventId = 1302, Level = LogLevel.Warning, Message = "Trigger {Trigger} missed {Skipped} scheduled occurrences due from {FirstSkipped:o} to {LastSkipped:o}, more than {MaxCatchUp} before {WindowEnd:o}: they are skipped and only the latest missed one, due at {CaughtUp:o}, is started")]
    public static partial void CatchUpSkipped(ILogger logger, string trigger, int skipped, DateTimeOffset firstSkipped, DateTimeOffset lastSkipped, TimeSpan maxCatchUp, DateTimeOffset windowEnd, DateTimeOffset caughtUp);

    [LoggerMessage(EventId = 1303, Level = LogLevel.Warning, Message = "Trigger {Trigger} missed {Skipped} scheduled occurrences due from {FirstSkipped:o} to {LastSkipped:o}, more than {MaxCatchUp} before {WindowEnd:o}: they are skipped, since a later missed one was already started")]
    public static partial void CatchUpSkippedAfterEarlierStart(ILogger logger, string trigger, int skipped, DateTimeOffset firstSkipped, DateTimeOffset lastSkipped, TimeSpan maxCatchUp, DateTimeOffset windowEnd);

    [LoggerMessage(EventId = 1304, Level = LogLevel.Information, Message = "Dispatched schedule window ({From:o}, {To:o}]: {Due} due, {Started} started, {Failed} failed, {SkippedByCatchUp} skipped by catch-up, {AlreadyStarted} already started by an earlier window")]
    public static partial void Dispatched(ILogger logger, DateTimeOffset from, DateTimeOffset to, int due, int started, int failed, int skippedByCatchUp, int alreadyStarted);

    [LoggerMessage(EventId = 1305, Level = LogLevel.Warning, Message = "Dispatch of schedule window ({From:o}, {To:o}] was cancelled: {NotLaunched} due occurrences were not started")]
    public static partial void DispatchCancelled(ILogger logger, DateTimeOffset from, DateTimeOffset to, int notLaunched);

    [LoggerMessage(EventId = 1310, Level = LogLevel.Debug, Message = "Schedule tick at {Now:o} has an empty window after {From:o}")]
    public static partial void EmptyWindow(ILogger logger, DateTimeOffset now, DateTimeOffset from);

    [LoggerMessage(EventId = 1320, Level = LogLevel.Information, Message = "Scheduler loop started, ticking every {Interval}")]
    public static partial void LoopStarted(ILogger logger, TimeSpan interval);

    [LoggerMessage(EventId = 1321, Level = LogLevel.Error, Message = "A scheduler tick failed; the loop goes on and the next tick covers the same window")]
    public static partial void TickFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1322, Level = LogLevel.Information, Message = "Scheduler loop stopped")]
    public static partial void LoopStopped(ILogger logger);
}
