using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace JobRelay.Scheduling;

/// <summary>When a host's ticks are due: every fixed interval, or at the occurrences of the Functions timer's schedule.</summary>
internal sealed class TickCadence
{
    private readonly TimeSpan? _interval;
    private readonly CronSchedule? _schedule;

    private TickCadence(TimeSpan? interval, CronSchedule? schedule, string description)
    {
        _interval = interval;
        _schedule = schedule;
        Description = description;
    }

    /// <summary>How the cadence reads in an answer: <c>every 00:00:10</c>, or <c>0 */1 * * * *</c>.</summary>
    public string Description { get; }

    public static TickCadence Every(TimeSpan interval)
        => new(interval, null, "every " + interval.ToString("c", CultureInfo.InvariantCulture));

    /// <summary>The Functions timer's schedule, read the way the host reads it: an <c>hh:mm:ss</c> interval or an NCRONTAB
    /// expression with seconds, evaluated on <paramref name="timeZone"/> (UTC unless <c>WEBSITE_TIME_ZONE</c> says otherwise).</summary>
    public static bool TryParseSchedule(string schedule, TimeZoneInfo timeZone, [NotNullWhen(true)] out TickCadence? cadence, [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        if (TimeSpan.TryParseExact(schedule.Trim(), "c", CultureInfo.InvariantCulture, out var interval))
        {
            cadence = interval > TimeSpan.Zero ? Every(interval) : null;
            error = cadence is null ? "an interval must be longer than zero." : null;
            return cadence is not null;
        }

        if (CronSchedule.TryParse(schedule, timeZone, out var cron, out error))
        {
            cadence = new TickCadence(null, cron, cron.Expression);
            return true;
        }

        cadence = null;
        return false;
    }

    /// <summary>
    /// When the <paramref name="ticks"/>-th tick after <paramref name="since"/> is due, plus half of the interval before
    /// it: a tick that fires a little late, or is still writing its record, is not taken for a missing one. Null when
    /// the schedule has no such occurrence.
    /// </summary>
    public DateTimeOffset? Overdue(DateTimeOffset since, int ticks)
    {
        if (_interval is { } interval)
        {
            return since + (interval * ticks) + (interval / 2);
        }

        var due = since;
        var previous = since;
        for (var i = 0; i < ticks; i++)
        {
            previous = due;
            if (_schedule!.GetNextOccurrence(due) is not { } next)
            {
                return null;
            }

            due = next;
        }

        return due + ((due - previous) / 2);
    }
}
