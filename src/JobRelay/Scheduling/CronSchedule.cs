using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using NCrontab;

namespace JobRelay.Scheduling;

/// <summary>
/// A six-field NCRONTAB expression (seconds, minutes, hours, day of month, month, day of week), evaluated on the
/// wall clock of one time zone and answered as UTC instants.
/// </summary>
/// <remarks>
/// <para>Daylight-saving transitions follow two rules:</para>
/// <list type="bullet">
/// <item><description>A wall-clock time skipped by a spring-forward transition fires once, at the first instant after
/// the gap (Europe/Prague, 2026-03-29: 02:30 fires at 03:00 local, 01:00 UTC). Several skipped times in the same gap
/// collapse into that one firing, which also merges with an occurrence due exactly when the gap ends.</description></item>
/// <item><description>A wall-clock time that occurs twice in a fall-back transition fires once, at its first (daylight)
/// instance, unless the hour field matches every hour (<c>*</c>, <c>*/1</c>, <c>0-23</c>): such schedules run at least
/// hourly and are interval-like, so they fire in both instances and "every 15 minutes" stays every 15 minutes of real
/// time across the repeated hour.</description></item>
/// </list>
/// <para>Transitions are found from the zone's UTC offsets, sampled hourly and pinned down to the tick; two transitions
/// less than an hour apart (which no real zone has) would be seen as one.</para>
/// </remarks>
public sealed class CronSchedule
{
    private static readonly CrontabSchedule.ParseOptions WithSeconds = new() { IncludingSeconds = true };
    private static readonly TimeSpan SampleStep = TimeSpan.FromHours(1);
    private static readonly TimeSpan TransitionLookBack = TimeSpan.FromDays(1);
    private static readonly TimeSpan NextOccurrenceHorizon = TimeSpan.FromDays(366 * 100);
    private static readonly DateTimeOffset Earliest = new(2, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Latest = new(9998, 12, 31, 0, 0, 0, TimeSpan.Zero);

    private readonly CrontabSchedule _crontab;
    private readonly bool _fixedOffset;

    /// <summary>Parses <paramref name="expression"/>; throws <see cref="FormatException"/> when it is not a valid
    /// six-field expression.</summary>
    public CronSchedule(string expression, TimeZoneInfo timeZone)
    {
        ArgumentNullException.ThrowIfNull(timeZone);
        if (!TryParseExpression(expression, out var crontab, out var repeatsEveryHour, out var error))
        {
            throw new FormatException(error);
        }

        Expression = expression.Trim();
        TimeZone = timeZone;
        RepeatsEveryHour = repeatsEveryHour;
        _crontab = crontab;
        _fixedOffset = timeZone.GetAdjustmentRules().Length == 0;
    }

    /// <summary>The expression as written, without surrounding white space.</summary>
    public string Expression { get; }

    /// <summary>The zone whose wall clock the expression is evaluated on.</summary>
    public TimeZoneInfo TimeZone { get; }

    /// <summary>Whether the hour field matches every hour, which makes the schedule fire in both instances of a
    /// repeated wall-clock hour.</summary>
    public bool RepeatsEveryHour { get; }

    /// <summary>Parses an expression and resolves an IANA time zone id (exactly as written), without throwing.</summary>
    public static bool TryParse(
        string? expression,
        string? timeZoneId,
        [NotNullWhen(true)] out CronSchedule? schedule,
        [NotNullWhen(false)] out string? error)
    {
        schedule = null;
        if (string.IsNullOrWhiteSpace(timeZoneId))
        {
            error = "A time zone is required, e.g. 'Europe/Prague' or 'UTC'.";
            return false;
        }

        return TryFindTimeZone(timeZoneId, out var timeZone, out error) && TryParse(expression, timeZone, out schedule, out error);
    }

    /// <summary>
    /// Resolves an IANA time zone id, spelled exactly (<c>Europe/Prague</c>, <c>UTC</c>). Windows ids are refused with
    /// their IANA equivalent named: one kind of id everywhere. Case matters whatever was looked up before: .NET on Linux
    /// finds <c>europe/prague</c> once <c>Europe/Prague</c> is cached, so a catalog would load or not depending on order.
    /// </summary>
    public static bool TryFindTimeZone(
        string timeZoneId,
        [NotNullWhen(true)] out TimeZoneInfo? timeZone,
        [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(timeZoneId);
        timeZone = null;
        TimeZoneInfo found;
        try
        {
            found = TimeZoneInfo.FindSystemTimeZoneById(timeZoneId);
        }
        catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            var near = TimeZoneInfo.GetSystemTimeZones().FirstOrDefault(z => string.Equals(z.Id, timeZoneId, StringComparison.OrdinalIgnoreCase));
            error = near is null
                ? $"'{timeZoneId}' is not an IANA time zone such as Europe/Prague or UTC."
                : $"'{timeZoneId}' is not an IANA time zone id: ids are case-sensitive, use '{near.Id}'.";
            return false;
        }

        if (!found.HasIanaId)
        {
            error = TimeZoneInfo.TryConvertWindowsIdToIanaId(timeZoneId, out var ianaId)
                ? $"'{timeZoneId}' is a Windows time zone id: use the IANA id '{ianaId}'."
                : $"'{timeZoneId}' is not an IANA time zone such as Europe/Prague or UTC.";
            return false;
        }

        if (!string.Equals(found.Id, timeZoneId, StringComparison.Ordinal))
        {
            error = $"'{timeZoneId}' is not an IANA time zone id: ids are case-sensitive, use '{found.Id}'.";
            return false;
        }

        timeZone = found;
        error = null;
        return true;
    }

    /// <summary>Parses an expression for a time zone, without throwing.</summary>
    public static bool TryParse(
        string? expression,
        TimeZoneInfo timeZone,
        [NotNullWhen(true)] out CronSchedule? schedule,
        [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(timeZone);
        if (!TryParseExpression(expression, out _, out _, out error))
        {
            schedule = null;
            return false;
        }

        schedule = new CronSchedule(expression!, timeZone);
        return true;
    }

    /// <summary>
    /// Every instant in (<paramref name="fromExclusive"/>, <paramref name="toInclusive"/>] at which the schedule fires,
    /// in UTC and in ascending order, each once. Empty when <paramref name="toInclusive"/> is not after
    /// <paramref name="fromExclusive"/>. The sequence is lazy: a long window costs only what is read of it.
    /// </summary>
    public IEnumerable<DateTimeOffset> GetOccurrences(DateTimeOffset fromExclusive, DateTimeOffset toInclusive)
    {
        var from = Clamp(fromExclusive.ToUniversalTime());
        var to = Clamp(toInclusive.ToUniversalTime());
        return to <= from ? [] : Enumerate(from, to);
    }

    /// <summary>The first instant after <paramref name="after"/> at which the schedule fires, looking up to a hundred
    /// years ahead; null when there is none (e.g. <c>0 0 0 30 2 *</c>).</summary>
    public DateTimeOffset? GetNextOccurrence(DateTimeOffset after)
    {
        foreach (var occurrence in GetOccurrences(after, Clamp(after.ToUniversalTime() + NextOccurrenceHorizon)))
        {
            return occurrence;
        }

        return null;
    }

    public override string ToString() => $"{Expression} ({TimeZone.Id})";

    private static bool TryParseExpression(
        string? expression,
        [NotNullWhen(true)] out CrontabSchedule? crontab,
        out bool repeatsEveryHour,
        [NotNullWhen(false)] out string? error)
    {
        crontab = null;
        repeatsEveryHour = false;
        var fields = expression?.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries) ?? [];
        if (fields.Length != 6)
        {
            error = $"'{expression}' is not a schedule: it needs six fields (second minute hour day-of-month month day-of-week), e.g. '0 0 2 * * *'.";
            return false;
        }

        for (var i = 0; i < fields.Length; i++)
        {
            if (FieldError(Fields[i], fields[i]) is { } problem)
            {
                error = $"'{expression}' is not a valid schedule: {problem}.";
                return false;
            }
        }

        crontab = CrontabSchedule.TryParse(expression, WithSeconds);
        if (crontab is null)
        {
            error = $"'{expression}' is not a valid NCRONTAB schedule (second minute hour day-of-month month day-of-week).";
            return false;
        }

        // 28 years hold every combination of a date and a weekday, leap days included.
        var start = new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Unspecified);
        var end = start.AddYears(29);
        if (crontab.GetNextOccurrence(start, end) >= end)
        {
            error = $"'{expression}' never fires: no date matches its day-of-month, month and day-of-week together (both day fields must match).";
            crontab = null;
            return false;
        }

        // Whether the hour field matches all 24 hours, judged by the parser itself so that '*/1' and '0-23' count too.
        var hoursOnly = CrontabSchedule.Parse(string.Create(CultureInfo.InvariantCulture, $"0 0 {fields[2]} * * *"), WithSeconds);
        var day = new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Unspecified);
        repeatsEveryHour = hoursOnly.GetNextOccurrences(day.AddTicks(-1), day.AddDays(1)).Count() == 24;
        error = null;
        return true;
    }

    /// <summary>What is wrong with one field, in its own terms: a value out of range or a step of zero.</summary>
    private static string? FieldError(CronField field, string text)
    {
        foreach (var part in text.Split(','))
        {
            var slash = part.IndexOf('/', StringComparison.Ordinal);
            if (slash >= 0 && int.TryParse(part.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var step) && step == 0)
            {
                return $"the {field.Name} field has a step of 0 ('{part}'), which never moves on; write '*' for every {field.Unit}";
            }

            var range = slash >= 0 ? part[..slash] : part;
            foreach (var bound in range.Split('-'))
            {
                if (int.TryParse(bound, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && (value < field.Min || value > field.Max))
                {
                    return $"{value} is out of range in the {field.Name} field ({field.Min}–{field.Max}{field.Note})";
                }
            }
        }

        return null;
    }

    private sealed record CronField(string Name, string Unit, int Min, int Max, string Note = "");

    private static readonly CronField[] Fields =
    [
        new("second", "second", 0, 59),
        new("minute", "minute", 0, 59),
        new("hour", "hour", 0, 23),
        new("day-of-month", "day", 1, 31),
        new("month", "month", 1, 12),
        new("day-of-week", "day", 0, 6, ", Sunday is 0; 7 is not accepted"),
    ];

    private static DateTimeOffset Clamp(DateTimeOffset instant)
        => instant < Earliest ? Earliest : instant > Latest ? Latest : instant;

    private IEnumerable<DateTimeOffset> Enumerate(DateTimeOffset from, DateTimeOffset to)
    {
        DateTimeOffset? last = null;
        foreach (var segment in Segments(from, to))
        {
            if (segment.GapFiringAt is { } gapEnd && gapEnd > from && GapHasOccurrence(segment))
            {
                last = gapEnd;
                yield return gapEnd;
            }

            var offset = segment.Offset;
            var localFrom = DateTime.SpecifyKind((segment.AfterUtc + offset).DateTime, DateTimeKind.Unspecified);
            var localThrough = DateTime.SpecifyKind((segment.ThroughUtc + offset).DateTime, DateTimeKind.Unspecified);
            foreach (var local in _crontab.GetNextOccurrences(localFrom, localThrough.AddTicks(1)))
            {
                var instant = new DateTimeOffset(local.Ticks - offset.Ticks, TimeSpan.Zero);
                if (instant <= segment.AfterUtc || instant > segment.ThroughUtc || instant <= last)
                {
                    continue;
                }

                if (!RepeatsEveryHour && instant < segment.RepeatedBeforeUtc)
                {
                    continue; // the second instance of a wall-clock time the first instance already fired for
                }

                last = instant;
                yield return instant;
            }
        }
    }

    /// <summary>Whether any wall-clock time skipped by the spring-forward transition that starts the segment is due.</summary>
    private bool GapHasOccurrence(Segment segment)
    {
        var transition = segment.TransitionUtc!.Value;
        var gapStart = (transition + segment.PreviousOffset).DateTime;
        var gapEnd = (transition + segment.Offset).DateTime;
        return _crontab.GetNextOccurrences(gapStart.AddTicks(-1), gapEnd).Any();
    }

    /// <summary>
    /// Cuts (<paramref name="from"/>, <paramref name="to"/>] into stretches of one UTC offset, each at most an hour
    /// long, carrying the latest transition at or before its start.
    /// </summary>
    private IEnumerable<Segment> Segments(DateTimeOffset from, DateTimeOffset to)
    {
        var offset = Offset(from);
        if (_fixedOffset)
        {
            yield return new Segment(from, to, offset, offset, null);
            yield break;
        }

        var previousOffset = offset;
        DateTimeOffset? transition = null;
        var lookBackFrom = from - TransitionLookBack;
        var lookBackOffset = Offset(lookBackFrom);
        if (lookBackOffset != offset)
        {
            transition = FirstInstantWithOtherOffset(lookBackFrom, from, lookBackOffset);
            previousOffset = lookBackOffset;
        }

        var after = from;
        while (after < to)
        {
            var through = after + SampleStep < to ? after + SampleStep : to;
            if (Offset(through) != offset)
            {
                var next = FirstInstantWithOtherOffset(after, through, offset);
                var lastTick = next.AddTicks(-1);
                yield return new Segment(after, lastTick, offset, previousOffset, transition);
                previousOffset = offset;
                offset = Offset(next);
                transition = next;
                after = lastTick;
                continue;
            }

            yield return new Segment(after, through, offset, previousOffset, transition);
            after = through;
        }
    }

    /// <summary>The first tick in (<paramref name="low"/>, <paramref name="high"/>] whose offset differs from
    /// <paramref name="lowOffset"/>, given that the offset at <paramref name="high"/> does.</summary>
    private DateTimeOffset FirstInstantWithOtherOffset(DateTimeOffset low, DateTimeOffset high, TimeSpan lowOffset)
    {
        var lo = low.UtcTicks;
        var hi = high.UtcTicks;
        while (hi - lo > 1)
        {
            var mid = lo + ((hi - lo) / 2);
            if (Offset(new DateTimeOffset(mid, TimeSpan.Zero)) == lowOffset)
            {
                lo = mid;
            }
            else
            {
                hi = mid;
            }
        }

        return new DateTimeOffset(hi, TimeSpan.Zero);
    }

    private TimeSpan Offset(DateTimeOffset instant) => TimeZone.GetUtcOffset(instant);

    /// <param name="AfterUtc">Exclusive start.</param>
    /// <param name="ThroughUtc">Inclusive end.</param>
    /// <param name="Offset">The UTC offset of every instant in the segment.</param>
    /// <param name="PreviousOffset">The offset before <paramref name="TransitionUtc"/>.</param>
    /// <param name="TransitionUtc">The latest transition at or before the segment's first instant, when known.</param>
    private readonly record struct Segment(
        DateTimeOffset AfterUtc,
        DateTimeOffset ThroughUtc,
        TimeSpan Offset,
        TimeSpan PreviousOffset,
        DateTimeOffset? TransitionUtc)
    {
        /// <summary>Set when the segment starts right at a spring-forward transition: the instant skipped times fire at.</summary>
        public DateTimeOffset? GapFiringAt
            => TransitionUtc is { } t && Offset > PreviousOffset && AfterUtc.AddTicks(1) == t ? t : null;

        /// <summary>Instants before this one repeat wall-clock times that an earlier instant already showed.</summary>
        public DateTimeOffset RepeatedBeforeUtc
            => TransitionUtc is { } t && PreviousOffset > Offset ? t + (PreviousOffset - Offset) : DateTimeOffset.MinValue;
    }
}
