using JobRelay.Model;

namespace JobRelay.Triggers;

/// <summary>Which triggers follow which: the graph the catalog's <c>after</c> rules draw.</summary>
internal static class ChainGraph
{
    /// <summary>
    /// Whether a job of trigger <paramref name="source"/> may match <paramref name="rule"/>. A rule naming a platform
    /// matches a source whose component, config or task is a template, since any value may come out of it: a chain
    /// that could loop is refused rather than left to loop.
    /// </summary>
    public static bool MayFollow(AfterRule rule, TriggerDefinition source)
    {
        ArgumentNullException.ThrowIfNull(rule);
        ArgumentNullException.ThrowIfNull(source);
        if (rule.Trigger is not null)
        {
            return rule.Trigger == source.Name;
        }

        if (rule.Platform != source.Platform)
        {
            return false;
        }

        return source.PlatformKind switch
        {
            PlatformKind.Keboola => MayEqual(rule.Component, source.Keboola?.Component) && MayEqual(rule.Config, source.Keboola?.Config),
            PlatformKind.TheEye => MayEqual(rule.Task, source.TheEye?.Task),
            _ => false,
        };
    }

    /// <summary>Every cycle of follow-ups, each as the list of trigger names along it.</summary>
    public static IReadOnlyList<IReadOnlyList<string>> FindCycles(TriggerCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var followers = catalog.Triggers.Values.ToDictionary(
            t => t.Name,
            t => catalog.Triggers.Values.Where(f => f.After.Any(rule => MayFollow(rule, t))).Select(f => f.Name).ToList(),
            StringComparer.Ordinal);

        var cycles = new List<IReadOnlyList<string>>();
        var state = new Dictionary<string, int>(StringComparer.Ordinal);
        var stack = new List<string>();
        foreach (var name in followers.Keys.Order(StringComparer.Ordinal))
        {
            Visit(name);
        }

        return cycles;

        void Visit(string name)
        {
            state[name] = 1;
            stack.Add(name);
            foreach (var next in followers[name])
            {
                if (state.GetValueOrDefault(next) == 1)
                {
                    cycles.Add(stack[stack.IndexOf(next)..]);
                }
                else if (state.GetValueOrDefault(next) == 0)
                {
                    Visit(next);
                }
            }

            stack.RemoveAt(stack.Count - 1);
            state[name] = 2;
        }
    }

    private static bool MayEqual(string? expected, Template? actual)
        => expected is null || (actual is not null && (!actual.IsLiteral || actual.Source == expected));
}
