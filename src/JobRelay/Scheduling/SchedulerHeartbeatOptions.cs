using Microsoft.Extensions.Options;

namespace JobRelay.Scheduling;

/// <summary>
/// Which host ticks and how often, as the scheduler heartbeat judges a missing tick. Set by the hosts, not bound from
/// configuration: the Functions app from its timer's schedule (<c>JOBRELAY_TICK</c>), <c>jobrelay serve</c> from its
/// sweep interval. A host that sets neither runs no tick (the one-shot CLI commands), and readiness does not wait for one.
/// </summary>
public sealed class SchedulerHeartbeatOptions
{
    /// <summary>How many ticks in a row may be missed before readiness says the scheduler stopped.</summary>
    public const int MissedTicks = 3;

    /// <summary>The name the host's ticks are recorded under: <c>functions</c> or <c>serve</c>.</summary>
    public string? Host { get; set; }

    /// <summary>The tick's fixed interval (serve's sweep interval).</summary>
    public TimeSpan? Interval { get; set; }

    /// <summary>The Functions timer's schedule: an NCRONTAB expression with seconds, or a <c>hh:mm:ss</c> interval.</summary>
    public string? Schedule { get; set; }

    /// <summary>Where <see cref="Schedule"/> comes from, as an error names it: the app setting the timer reads.</summary>
    public string ScheduleSource { get; set; } = "the timer's schedule";

    /// <summary>Whether this host runs a tick that readiness should wait for.</summary>
    internal bool Ticks => Interval is not null || Schedule is not null;
}

/// <summary>Checks <see cref="SchedulerHeartbeatOptions"/> at start: a host that ticks names itself and one valid cadence.</summary>
internal sealed class SchedulerHeartbeatOptionsValidator : IValidateOptions<SchedulerHeartbeatOptions>
{
    public ValidateOptionsResult Validate(string? name, SchedulerHeartbeatOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.Ticks)
        {
            return ValidateOptionsResult.Success;
        }

        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Host))
        {
            failures.Add("The scheduler heartbeat needs the name of the host that ticks.");
        }

        if (options.Interval is not null && options.Schedule is not null)
        {
            failures.Add("The scheduler heartbeat takes an interval or a schedule, not both.");
        }

        if (options.Interval is { } interval && interval <= TimeSpan.Zero)
        {
            failures.Add($"The scheduler heartbeat's interval must be longer than zero; it is {interval}.");
        }

        if (options.Schedule is not null && string.IsNullOrWhiteSpace(options.Schedule))
        {
            failures.Add($"{options.ScheduleSource} must be set to the Scheduler timer's schedule, such as 0 */1 * * * *.");
        }
        else if (options.Schedule is not null && !TickCadence.TryParseSchedule(options.Schedule, TimeZoneInfo.Utc, out _, out var error))
        {
            failures.Add($"{options.ScheduleSource} must be the timer's NCRONTAB schedule with seconds (such as 0 */1 * * * *) or an hh:mm:ss interval: {error}");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
