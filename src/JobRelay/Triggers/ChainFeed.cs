using JobRelay.Model;

namespace JobRelay.Triggers;

/// <summary>
/// Where the ends of the jobs one chaining rule follows reach JobRelay from: its own watch over the jobs it started,
/// and the platform's job-end events at <c>/api/events/{platform}</c>, which need the platform's <c>eventSecret</c> and
/// a subscription. A rule whose jobs' ends can reach JobRelay from neither never fires: the catalog is valid, and
/// <see cref="Warning"/> says what to set.
/// </summary>
/// <param name="Trigger">The chained trigger.</param>
/// <param name="Index">The rule's index in the trigger's <c>after</c> list.</param>
/// <param name="Rule">The rule.</param>
/// <param name="Platform">The platform whose jobs the rule follows.</param>
/// <param name="Watched">Whether JobRelay sees ends itself: the rule names a trigger of this catalog, whose jobs JobRelay
/// starts and follows to their end, or names a platform some trigger of the catalog starts jobs on (then only the
/// ends of those jobs: jobs started elsewhere are reported by the platform's events alone).</param>
/// <param name="PlatformEvents">Whether the platform can send its job-end events: it names an <c>eventSecret</c>.</param>
public sealed record ChainFeed(string Trigger, int Index, AfterRule Rule, PlatformDefinition Platform, bool Watched, bool PlatformEvents)
{
    /// <summary>The source label of ends JobRelay sees itself, for jobs it started.</summary>
    public const string WatchedSource = "watched: started by JobRelay";

    /// <summary>The source label of ends the platform reports.</summary>
    public const string PlatformEventsSource = "platform events: needs eventSecret";

    /// <summary>
    /// Whether JobRelay sees, by itself, the end of every job it starts: it does, through the durable watch the start
    /// arms (Runs/JobWatch), so a rule naming a trigger of the catalog needs no platform events.
    /// </summary>
    internal static bool JobRelayWatchesItsJobs => true;

    /// <summary>Where the ends come from, as labels; empty when from nowhere.</summary>
    public IReadOnlyList<string> Sources => [.. new[] { Watched ? WatchedSource : null, PlatformEvents ? PlatformEventsSource : null }.OfType<string>()];

    /// <summary>
    /// Whether some of the jobs the rule follows end unseen: a rule naming a platform follows jobs started by anyone,
    /// and only the platform's events report those JobRelay did not start; a rule naming a trigger is seen whole when
    /// JobRelay watches it.
    /// </summary>
    public bool EndsUnseen => !PlatformEvents && (Rule.Trigger is null || !Watched);

    /// <summary>The warning for a rule whose jobs' ends reach JobRelay only as platform events that cannot come; null otherwise.</summary>
    public string? Warning
    {
        get
        {
            if (!EndsUnseen)
            {
                return null;
            }

            var followed = Rule.Trigger is { } parent ? $"the jobs of trigger '{parent}'" : $"jobs on platform '{Platform.Name}'";
            var subscribe = Platform.Kind == PlatformKind.Keboola
                ? $"subscribe with 'jobrelay subscribe keboola {Trigger} --url https://<your app>'"
                : $"have a TheEye task post each job's end to /api/events/{Platform.Name} (README, Chaining)";
            var fix = $"Set 'eventSecret' on platform '{Platform.Name}' (the Key Vault secret those events carry), then {subscribe}.";
            return Watched
                ? $"follows {followed}: JobRelay watches the ends of the jobs its own triggers start there, but jobs started "
                    + $"elsewhere reach it only as job-end events from platform '{Platform.Name}', and '{Platform.Name}' has no "
                    + $"'eventSecret': the chain fires only after jobs JobRelay started. {fix}"
                : $"follows {followed}, whose ends reach JobRelay only as job-end events from platform '{Platform.Name}', "
                    + $"and '{Platform.Name}' has no 'eventSecret': the chain never fires. {fix}";
        }
    }

    /// <summary>The JSON path of the rule.</summary>
    public string Path => CatalogReader.Index(CatalogReader.Child(CatalogReader.Child("$.triggers", Trigger), "after"), Index);

    /// <summary>Every chaining rule of a valid catalog, in trigger-name order, with where its ends come from.</summary>
    public static IReadOnlyList<ChainFeed> Of(TriggerCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var feeds = new List<ChainFeed>();
        foreach (var trigger in catalog.Triggers.Values.OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            for (var i = 0; i < trigger.After.Count; i++)
            {
                var rule = trigger.After[i];
                var platformName = rule.Trigger is { } parent ? catalog.Triggers[parent].Platform : rule.Platform!;
                var platform = catalog.Platforms[platformName];
                var watched = JobRelayWatchesItsJobs
                    && (rule.Trigger is not null || catalog.Triggers.Values.Any(t => string.Equals(t.Platform, platformName, StringComparison.Ordinal)));
                feeds.Add(new ChainFeed(trigger.Name, i, rule, platform, watched, platform.EventSecret is not null));
            }
        }

        return feeds;
    }

    /// <summary>A warning for each rule of a valid catalog whose jobs' ends cannot all reach JobRelay.</summary>
    public static IReadOnlyList<CatalogWarning> Warnings(TriggerCatalog catalog)
        => [.. Of(catalog).Where(f => f.Warning is not null).Select(f => new CatalogWarning(f.Path, f.Warning!))];
}
