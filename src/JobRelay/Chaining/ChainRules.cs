using JobRelay.Model;

namespace JobRelay.Chaining;

/// <summary>Which triggers a job-end event starts.</summary>
internal static class ChainRules
{
    /// <summary>
    /// Every enabled trigger with an <c>after</c> rule the event meets: the rule names the event's platform with a
    /// matching component/config or task, or names a trigger whose job is the one that ended; and the end state is
    /// one the rule lists. Each trigger appears once, in catalog name order.
    /// </summary>
    public static IReadOnlyList<TriggerDefinition> Followers(TriggerCatalog catalog, JobEndEvent jobEnd)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(jobEnd);
        return [.. catalog.Triggers.Values
            .Where(t => t.Enabled && t.After.Any(rule => Matches(rule, catalog, jobEnd)))
            .OrderBy(t => t.Name, StringComparer.Ordinal)];
    }

    public static bool Matches(AfterRule rule, TriggerCatalog catalog, JobEndEvent jobEnd)
    {
        ArgumentNullException.ThrowIfNull(rule);
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(jobEnd);
        if (!rule.States.Contains(jobEnd.State))
        {
            return false;
        }

        if (rule.Trigger is not null)
        {
            return catalog.Triggers.TryGetValue(rule.Trigger, out var source) && IsJobOf(source, jobEnd);
        }

        return rule.Platform == jobEnd.Platform
            && (rule.Component is null || rule.Component == jobEnd.Component)
            && (rule.Config is null || rule.Config == jobEnd.Config)
            && (rule.Task is null || rule.Task == jobEnd.Task);
    }

    /// <summary>Whether the ended job is the one the trigger starts: same platform and the same component and config, or task.</summary>
    private static bool IsJobOf(TriggerDefinition source, JobEndEvent jobEnd)
    {
        if (source.Platform != jobEnd.Platform)
        {
            return false;
        }

        return source.PlatformKind switch
        {
            PlatformKind.Keboola => source.Keboola is { } job
                && SameOrTemplated(job.Component, jobEnd.Component)
                && (job.Config is null || SameOrTemplated(job.Config, jobEnd.Config)),
            PlatformKind.TheEye => source.TheEye is { } task && SameOrTemplated(task.Task, jobEnd.Task),
            _ => false,
        };
    }

    private static bool SameOrTemplated(Template template, string? value)
        => value is not null && (!template.IsLiteral || template.Source == value);
}
