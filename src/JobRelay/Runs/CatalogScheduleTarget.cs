using System.Text.Json.Nodes;
using JobRelay.Hosting;
using JobRelay.Scheduling;
using JobRelay.State;

namespace JobRelay.Runs;

/// <summary>
/// The catalog's enabled, scheduled triggers, started through the trigger runner with their default arguments. Each
/// occurrence is claimed in the store first, so two instances, or a restart within a window, fire it once.
/// </summary>
internal sealed class CatalogScheduleTarget : IScheduleTarget
{
    private static readonly Dictionary<string, JsonNode?> NoArguments = [];
    private readonly TriggerRunner _runner;
    private readonly Lazy<IReadOnlyList<ScheduledTrigger>> _triggers;

    public CatalogScheduleTarget(CatalogSource catalog, TriggerRunner runner)
    {
        _runner = runner;
        _triggers = new Lazy<IReadOnlyList<ScheduledTrigger>>(() =>
        [
            .. catalog.Catalog.Triggers.Values
                .Where(t => t.Enabled && t.Schedule is not null)
                .OrderBy(t => t.Name, StringComparer.Ordinal)
                .Select(t => new ScheduledTrigger(t.Name, new CronSchedule(t.Schedule!.Cron, t.Schedule.TimeZone))),
        ]);
    }

    public IReadOnlyList<ScheduledTrigger> GetScheduledTriggers() => _triggers.Value;

    public Task StartAsync(ScheduledOccurrence occurrence, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(occurrence);
        return _runner.StartOnceAsync(
            new OccurrenceKey(occurrence.Trigger, occurrence.DueAt), occurrence.Trigger, NoArguments, RunOrigin.Schedule, parentRunId: null, queueWhenUnavailable: true, cancellationToken);
    }
}
