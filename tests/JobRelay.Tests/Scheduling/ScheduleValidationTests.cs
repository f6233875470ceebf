using JobRelay.Scheduling;
using JobRelay.Triggers;

namespace JobRelay.Tests.Scheduling;

public sealed class ScheduleValidationTests
{
    [Theory]
    [InlineData("61 * * * * *", "61 is out of range in the second field (0–59)")]
    [InlineData("0 60 * * * *", "60 is out of range in the minute field (0–59)")]
    [InlineData("0 0 24 * * *", "24 is out of range in the hour field (0–23)")]
    [InlineData("0 0 0 0 * *", "0 is out of range in the day-of-month field (1–31)")]
    [InlineData("0 0 0 1 13 *", "13 is out of range in the month field (1–12)")]
    [InlineData("0 0 0 * * 7", "7 is out of range in the day-of-week field (0–6, Sunday is 0; 7 is not accepted)")]
    [InlineData("0 0 0 * * 1-7", "7 is out of range in the day-of-week field")]
    [InlineData("0 10-70/5 * * * *", "70 is out of range in the minute field")]
    public void AnOutOfRangeFieldIsNamedWithItsRange(string expression, string reason)
    {
        Assert.False(CronSchedule.TryParse(expression, "UTC", out _, out var error));

        Assert.Equal($"'{expression}' is not a valid schedule: {reason}", error.TrimEnd('.')[..($"'{expression}' is not a valid schedule: ".Length + reason.Length)]);
    }

    [Theory]
    [InlineData("*/0 * * * * *", "second")]
    [InlineData("0 5/0 * * * *", "minute")]
    [InlineData("0 0 0-12/0 * * *", "hour")]
    public void AStepOfZeroIsRefused(string expression, string field)
    {
        Assert.False(CronSchedule.TryParse(expression, "UTC", out _, out var error));

        Assert.Contains($"the {field} field has a step of 0", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0 0 0 31 2 *")]
    [InlineData("0 0 0 30 2 *")]
    [InlineData("0 0 0 31 4,6,9,11 *")]
    public void AnExpressionThatCanNeverFireIsRefused(string expression)
    {
        Assert.False(CronSchedule.TryParse(expression, "UTC", out _, out var error));

        Assert.Equal($"'{expression}' never fires: no date matches its day-of-month, month and day-of-week together (both day fields must match).", error);
    }

    [Theory]
    [InlineData("0 0 0 29 2 *")]
    [InlineData("0 0 12 13 * 5")]
    [InlineData("0 0 0 29 2 1")]
    [InlineData("0 0 9 * JAN-MAR MON-FRI")]
    public void RareButPossibleExpressionsAreAccepted(string expression)
        => Assert.True(CronSchedule.TryParse(expression, "UTC", out _, out var error), error);

    [Theory]
    [InlineData("Ju", 6)]
    [InlineData("J", 1)]
    [InlineData("january", 1)]
    [InlineData("Sept", 9)]
    public void MonthNamesMatchByPrefixTheFirstMonthTheyBegin(string name, int month)
    {
        Assert.True(CronSchedule.TryParse($"0 0 0 1 {name} *", "UTC", out var schedule, out var error), error);

        Assert.Equal(month, schedule.GetNextOccurrence(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).AddTicks(-1))!.Value.Month);
    }

    [Fact]
    public void ATimeZoneIdMustBeSpelledExactlyWhateverWasLookedUpBefore()
    {
        Assert.False(CronSchedule.TryFindTimeZone("europe/prague", out _, out var before));
        Assert.True(CronSchedule.TryFindTimeZone("Europe/Prague", out var zone, out _));
        Assert.False(CronSchedule.TryFindTimeZone("europe/prague", out _, out var after));

        Assert.Equal("Europe/Prague", zone.Id);
        Assert.Equal("'europe/prague' is not an IANA time zone id: ids are case-sensitive, use 'Europe/Prague'.", before);
        Assert.Equal(before, after);
    }

    [Theory]
    [InlineData("Europe/Prague", "europe/prague", "$.triggers.b.schedule.timeZone")]
    [InlineData("europe/prague", "Europe/Prague", "$.triggers.a.schedule.timeZone")]
    public void ACatalogRefusesAMiscasedZoneInEitherOrder(string first, string second, string path)
    {
        var result = TriggerCatalogLoader.Parse($$"""
            {
              "platforms": { "kbc": { "type": "keboola", "stack": "eu-frankfurt-aws", "tokenSecret": "kbc-token" } },
              "triggers": {
                "a": { "platform": "kbc", "keboola": { "component": "c" }, "schedule": { "cron": "0 0 2 * * *", "timeZone": "{{first}}" } },
                "b": { "platform": "kbc", "keboola": { "component": "c" }, "schedule": { "cron": "0 0 2 * * *", "timeZone": "{{second}}" } }
              }
            }
            """);

        var error = Assert.Single(result.Errors);
        Assert.Equal(path, error.Path);
        Assert.Equal("'europe/prague' is not an IANA time zone id: ids are case-sensitive, use 'Europe/Prague'.", error.Message);
    }

    [Fact]
    public void AWindowsZoneIdIsRefusedWithItsIanaId()
    {
        Assert.False(CronSchedule.TryFindTimeZone("Central Europe Standard Time", out _, out var error));

        Assert.StartsWith("'Central Europe Standard Time' is a Windows time zone id: use the IANA id 'Europe/", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("UTC")]
    [InlineData("Etc/UTC")]
    [InlineData("America/New_York")]
    [InlineData("Asia/Kolkata")]
    public void IanaIdsResolveToThemselves(string id)
    {
        Assert.True(CronSchedule.TryFindTimeZone(id, out var zone, out var error), error);
        Assert.Equal(id, zone.Id);
    }
}
