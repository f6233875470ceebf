using System.Globalization;
using JobRelay.Scheduling;
using NCrontab;

namespace JobRelay.Tests.Scheduling;

public class CronScheduleTests
{
    internal static readonly TimeZoneInfo Prague = TimeZoneInfo.FindSystemTimeZoneById("Europe/Prague");
    internal static readonly TimeZoneInfo NewYork = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");

    internal static DateTimeOffset Utc(string text)
        => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal).ToUniversalTime();

    [Fact]
    public void ADailyJobAtASkippedTimeFiresAtTheEndOfTheSpringGapInPrague()
    {
        var schedule = new CronSchedule("0 30 2 * * *", Prague);

        var occurrences = schedule.GetOccurrences(Utc("2026-03-27T12:00:00"), Utc("2026-03-30T12:00:00"));

        // 02:30 CET, then the skipped 02:30 at 03:00 CEST, then 02:30 CEST.
        Assert.Equal([Utc("2026-03-28T01:30:00"), Utc("2026-03-29T01:00:00"), Utc("2026-03-30T00:30:00")], occurrences);
    }

    [Fact]
    public void ADailyJobAtARepeatedTimeFiresOnceAtItsDaylightInstanceInPrague()
    {
        var schedule = new CronSchedule("0 30 2 * * *", Prague);

        var occurrences = schedule.GetOccurrences(Utc("2026-10-23T12:00:00"), Utc("2026-10-26T12:00:00"));

        Assert.Equal([Utc("2026-10-24T00:30:00"), Utc("2026-10-25T00:30:00"), Utc("2026-10-26T01:30:00")], occurrences);
    }

    [Fact]
    public void ARepeatedTimeFiresOnceEvenWhenTheWindowStartsBetweenItsTwoInstances()
    {
        var schedule = new CronSchedule("0 30 2 * * *", Prague);

        // 01:30 UTC is 02:30 CET, the second instance of 02:30 on 2026-10-25; the first (00:30 UTC) is before the window.
        Assert.Empty(schedule.GetOccurrences(Utc("2026-10-25T01:00:00"), Utc("2026-10-25T02:00:00")));
    }

    [Fact]
    public void EveryFifteenMinutesKeepsFifteenRealMinutesAcrossTheSpringGapInPrague()
    {
        var schedule = new CronSchedule("0 */15 * * * *", Prague);

        var occurrences = schedule.GetOccurrences(Utc("2026-03-29T00:00:00"), Utc("2026-03-29T02:00:00")).ToList();

        Assert.Equal(8, occurrences.Count);
        Assert.Equal(Utc("2026-03-29T00:15:00"), occurrences[0]);
        Assert.Contains(Utc("2026-03-29T01:00:00"), occurrences); // 03:00 CEST, right after 01:45 CET
        Assert.All(occurrences.Zip(occurrences.Skip(1)), pair => Assert.Equal(TimeSpan.FromMinutes(15), pair.Second - pair.First));
    }

    [Fact]
    public void EveryFifteenMinutesFiresInBothInstancesOfTheRepeatedHourInPrague()
    {
        var schedule = new CronSchedule("0 */15 * * * *", Prague);

        var occurrences = schedule.GetOccurrences(Utc("2026-10-24T23:00:00"), Utc("2026-10-25T03:00:00")).ToList();

        Assert.Equal(16, occurrences.Count);
        Assert.Contains(Utc("2026-10-25T00:30:00"), occurrences); // 02:30 CEST
        Assert.Contains(Utc("2026-10-25T01:30:00"), occurrences); // 02:30 CET
        Assert.All(occurrences.Zip(occurrences.Skip(1)), pair => Assert.Equal(TimeSpan.FromMinutes(15), pair.Second - pair.First));
    }

    [Fact]
    public void ADailyJobAtASkippedTimeFiresAtTheEndOfTheSpringGapInNewYork()
    {
        var schedule = new CronSchedule("0 30 2 * * *", NewYork);

        var occurrences = schedule.GetOccurrences(Utc("2026-03-07T00:00:00"), Utc("2026-03-10T00:00:00"));

        // 02:30 EST, then the skipped 02:30 at 03:00 EDT, then 02:30 EDT.
        Assert.Equal([Utc("2026-03-07T07:30:00"), Utc("2026-03-08T07:00:00"), Utc("2026-03-09T06:30:00")], occurrences);
    }

    [Fact]
    public void ADailyJobAtTwoThirtyIsUntouchedByTheAutumnChangeInNewYorkWhileOneThirtyFiresOnce()
    {
        var twoThirty = new CronSchedule("0 30 2 * * *", NewYork);
        var oneThirty = new CronSchedule("0 30 1 * * *", NewYork);
        var from = Utc("2026-10-31T12:00:00");
        var to = Utc("2026-11-02T12:00:00");

        // New York repeats 01:00-01:59 (EDT, then EST); 02:30 exists once, in EST.
        Assert.Equal([Utc("2026-11-01T07:30:00"), Utc("2026-11-02T07:30:00")], twoThirty.GetOccurrences(from, to));
        Assert.Equal([Utc("2026-11-01T05:30:00"), Utc("2026-11-02T06:30:00")], oneThirty.GetOccurrences(from, to));
    }

    [Fact]
    public void EveryFifteenMinutesKeepsFifteenRealMinutesAcrossBothChangesInNewYork()
    {
        var schedule = new CronSchedule("0 */15 * * * *", NewYork);

        foreach (var (from, to) in new[]
                 {
                     (Utc("2026-03-08T05:00:00"), Utc("2026-03-08T09:00:00")),
                     (Utc("2026-11-01T04:00:00"), Utc("2026-11-01T08:00:00")),
                 })
        {
            var occurrences = schedule.GetOccurrences(from, to).ToList();
            Assert.Equal(16, occurrences.Count);
            Assert.All(occurrences.Zip(occurrences.Skip(1)), pair => Assert.Equal(TimeSpan.FromMinutes(15), pair.Second - pair.First));
        }
    }

    [Fact]
    public void SeveralSkippedTimesCollapseIntoOneFiringAtTheEndOfTheGap()
    {
        var schedule = new CronSchedule("0 0,20,40 2 * * *", Prague);

        var occurrences = schedule.GetOccurrences(Utc("2026-03-28T23:00:00"), Utc("2026-03-29T23:00:00"));

        Assert.Equal([Utc("2026-03-29T01:00:00")], occurrences);
    }

    [Fact]
    public void ASkippedTimeAndAnOccurrenceAtTheEndOfTheGapFireOnce()
    {
        var schedule = new CronSchedule("0 */30 2-3 * * *", Prague);

        var occurrences = schedule.GetOccurrences(Utc("2026-03-28T23:00:00"), Utc("2026-03-29T23:00:00"));

        // 02:00 and 02:30 are skipped and fire at 03:00 CEST, which is due itself; then 03:30 CEST.
        Assert.Equal([Utc("2026-03-29T01:00:00"), Utc("2026-03-29T01:30:00")], occurrences);
    }

    [Fact]
    public void AScheduleLimitedToSomeHoursFiresOnlyTheFirstInstanceOfRepeatedTimes()
    {
        var schedule = new CronSchedule("0 0,30 2 * * *", Prague);

        var occurrences = schedule.GetOccurrences(Utc("2026-10-24T22:00:00"), Utc("2026-10-25T22:00:00"));

        Assert.Equal([Utc("2026-10-25T00:00:00"), Utc("2026-10-25T00:30:00")], occurrences);
    }

    [Theory]
    [InlineData("0 0 * * * *", true)]
    [InlineData("0 */15 * * * *", true)]
    [InlineData("0 0 */1 * * *", true)]
    [InlineData("0 0 0-23 * * *", true)]
    [InlineData("0 0 2 * * *", false)]
    [InlineData("0 0 */2 * * *", false)]
    [InlineData("0 0 0-22 * * *", false)]
    public void AScheduleRepeatsEveryHourExactlyWhenItsHourFieldMatchesAllHours(string expression, bool expected)
        => Assert.Equal(expected, new CronSchedule(expression, Prague).RepeatsEveryHour);

    [Fact]
    public void TheYearEndsAndTheNextBeginsWithoutLosingASecond()
    {
        var everySecond = new CronSchedule("* * * * * *", TimeZoneInfo.Utc);
        var newYear = new CronSchedule("0 0 0 1 1 *", Prague);

        Assert.Equal(
            [Utc("2027-01-01T00:00:00"), Utc("2027-01-01T00:00:01")],
            everySecond.GetOccurrences(Utc("2026-12-31T23:59:59"), Utc("2027-01-01T00:00:01")));
        Assert.Equal(
            [Utc("2026-12-31T23:00:00")],
            newYear.GetOccurrences(Utc("2026-12-31T22:59:59"), Utc("2026-12-31T23:00:01")));
        Assert.Equal(Utc("2026-12-31T23:00:00"), newYear.GetNextOccurrence(Utc("2026-06-01T00:00:00")));
    }

    [Fact]
    public void TheTwentyNinthOfFebruaryNextComesIn2028()
    {
        var utc = new CronSchedule("0 0 12 29 2 *", TimeZoneInfo.Utc);
        var prague = new CronSchedule("0 0 12 29 2 *", Prague);

        Assert.Equal(Utc("2028-02-29T12:00:00"), utc.GetNextOccurrence(Utc("2026-01-01T00:00:00")));
        Assert.Equal(Utc("2028-02-29T11:00:00"), prague.GetNextOccurrence(Utc("2026-03-01T00:00:00")));
        Assert.Equal([Utc("2028-02-29T11:00:00")], prague.GetOccurrences(Utc("2026-01-01T00:00:00"), Utc("2029-01-01T00:00:00")));
    }

    [Fact]
    public void AScheduleThatNeverMatchesIsRefused()
        => Assert.Contains("never fires", Assert.Throws<FormatException>(() => new CronSchedule("0 0 0 30 2 *", TimeZoneInfo.Utc)).Message, StringComparison.Ordinal);

    [Fact]
    public void TheWindowExcludesItsStartAndIncludesItsEnd()
    {
        var schedule = new CronSchedule("0 * * * * *", TimeZoneInfo.Utc);

        Assert.Equal([Utc("2026-05-05T10:01:00")], schedule.GetOccurrences(Utc("2026-05-05T10:00:00"), Utc("2026-05-05T10:01:00")));
    }

    [Fact]
    public void AnEmptyOrReversedWindowHasNoOccurrences()
    {
        var schedule = new CronSchedule("* * * * * *", TimeZoneInfo.Utc);
        var at = Utc("2026-05-05T10:00:00");

        Assert.Empty(schedule.GetOccurrences(at, at));
        Assert.Empty(schedule.GetOccurrences(at, at.AddMinutes(-5)));
    }

    [Theory]
    [InlineData("0 2 * * *", "six fields")]
    [InlineData("0 0 0 2 * * *", "six fields")]
    [InlineData("0 0 25 * * *", "not a valid")]
    [InlineData("", "six fields")]
    [InlineData(null, "six fields")]
    public void AnExpressionThatIsNotSixValidFieldsIsRejectedWithAReason(string? expression, string reason)
    {
        Assert.False(CronSchedule.TryParse(expression, "Europe/Prague", out var schedule, out var error));
        Assert.Null(schedule);
        Assert.Contains(reason, error, StringComparison.Ordinal);
        Assert.Throws<FormatException>(() => new CronSchedule(expression!, Prague));
    }

    [Fact]
    public void AnUnknownOrMissingTimeZoneIsRejectedWithAReason()
    {
        Assert.False(CronSchedule.TryParse("0 0 2 * * *", "Europe/Atlantis", out _, out var unknown));
        Assert.Contains("Europe/Atlantis", unknown, StringComparison.Ordinal);
        Assert.False(CronSchedule.TryParse("0 0 2 * * *", " ", out _, out var missing));
        Assert.Contains("time zone is required", missing, StringComparison.Ordinal);
    }

    [Fact]
    public void AnIanaTimeZoneIdResolves()
    {
        Assert.True(CronSchedule.TryParse(" 0 0 2 * * * ", "America/New_York", out var schedule, out var error));
        Assert.Null(error);
        Assert.Equal("0 0 2 * * *", schedule.Expression);
        Assert.Equal("0 0 2 * * * (America/New_York)", schedule.ToString());
    }

    /// <summary>
    /// The rules, restated on the wall clock with TimeZoneInfo's own answers (invalid, ambiguous) for every local
    /// occurrence, must give the same instants over a whole year, in one window and in uneven contiguous windows.
    /// </summary>
    [Theory]
    [InlineData("Europe/Prague", 2026)]
    [InlineData("America/New_York", 2026)]
    [InlineData("Australia/Lord_Howe", 2026)]
    [InlineData("America/Sao_Paulo", 2018)]
    public void AYearOfOccurrencesMatchesTheWallClockDefinitionInEveryWindowing(string zoneId, int year)
    {
        var zone = TimeZoneInfo.FindSystemTimeZoneById(zoneId);
        var from = new DateTimeOffset(year, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var to = from.AddYears(1);
        foreach (var expression in new[] { "0 30 2 * * *", "0 */15 * * * *", "0 0 0 * * *", "0 0,20,40 1-3 * * *", "30 45 1 * * *", "0 0 * * * *" })
        {
            var schedule = new CronSchedule(expression, zone);
            var expected = ByWallClockDefinition(expression, schedule.RepeatsEveryHour, zone, from, to);

            Assert.Equal(expected, schedule.GetOccurrences(from, to).ToList());

            var windowed = new List<DateTimeOffset>();
            var step = TimeSpan.FromMinutes(97) + TimeSpan.FromSeconds(13);
            for (var start = from; start < to; start += step)
            {
                windowed.AddRange(schedule.GetOccurrences(start, start + step < to ? start + step : to));
            }

            Assert.Equal(expected, windowed);
        }
    }

    private static List<DateTimeOffset> ByWallClockDefinition(string expression, bool everyHour, TimeZoneInfo zone, DateTimeOffset from, DateTimeOffset to)
    {
        var crontab = CrontabSchedule.Parse(expression, new CrontabSchedule.ParseOptions { IncludingSeconds = true });
        var instants = new SortedSet<DateTimeOffset>();
        var localFrom = TimeZoneInfo.ConvertTime(from, zone).DateTime.AddHours(-3);
        var localTo = TimeZoneInfo.ConvertTime(to, zone).DateTime.AddHours(3);
        foreach (var local in crontab.GetNextOccurrences(localFrom, localTo))
        {
            if (zone.IsInvalidTime(local))
            {
                var firstValid = new DateTime(local.Ticks - (local.Ticks % TimeSpan.TicksPerMinute), DateTimeKind.Unspecified);
                while (zone.IsInvalidTime(firstValid))
                {
                    firstValid = firstValid.AddMinutes(1);
                }

                instants.Add(new DateTimeOffset(TimeZoneInfo.ConvertTimeToUtc(firstValid, zone)));
            }
            else if (zone.IsAmbiguousTime(local))
            {
                var offsets = zone.GetAmbiguousTimeOffsets(local);
                foreach (var offset in everyHour ? offsets : [offsets.Max()])
                {
                    instants.Add(new DateTimeOffset(local.Ticks - offset.Ticks, TimeSpan.Zero));
                }
            }
            else
            {
                instants.Add(new DateTimeOffset(TimeZoneInfo.ConvertTimeToUtc(local, zone)));
            }
        }

        return [.. instants.Where(i => i > from && i <= to)];
    }
}
