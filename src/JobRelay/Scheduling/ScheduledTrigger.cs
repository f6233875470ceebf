namespace JobRelay.Scheduling;

/// <summary>A trigger that has a schedule, under its catalog name.</summary>
public sealed record ScheduledTrigger(string Name, CronSchedule Schedule);

/// <summary>One firing of a trigger's schedule: the trigger's name and the UTC instant it was due.</summary>
public sealed record ScheduledOccurrence(string Trigger, DateTimeOffset DueAt);

/// <summary>A start that failed: which occurrence, and the exception's message.</summary>
public sealed record ScheduleFailure(string Trigger, DateTimeOffset DueAt, string Message);
