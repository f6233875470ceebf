using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace JobRelay.Model;

/// <summary>A loaded, valid trigger catalog: the platforms JobRelay talks to and the triggers that start their jobs.</summary>
public sealed record TriggerCatalog(
    IReadOnlyDictionary<string, PlatformDefinition> Platforms,
    IReadOnlyDictionary<string, TriggerDefinition> Triggers)
{
    /// <summary>Where outbound events go, by name.</summary>
    public IReadOnlyDictionary<string, DestinationDefinition> Destinations { get; init; } = new Dictionary<string, DestinationDefinition>(StringComparer.Ordinal);

    /// <summary>Which events go to which destination, in the catalog's order.</summary>
    public IReadOnlyList<SubscriptionDefinition> Subscriptions { get; init; } = [];

    /// <summary>
    /// The same catalog with the endpoints of the named platforms replaced: one catalog can point at a staging
    /// stack or at the local sandbox without being edited. Names that are not platforms of the catalog are ignored.
    /// </summary>
    public TriggerCatalog WithPlatformUrls(IReadOnlyDictionary<string, Uri> overrides)
    {
        ArgumentNullException.ThrowIfNull(overrides);
        var platforms = Platforms.ToDictionary(
            p => p.Key,
            p => overrides.TryGetValue(p.Key, out var url) ? p.Value.WithUrl(url) : p.Value,
            StringComparer.Ordinal);
        return this with { Platforms = platforms };
    }

    /// <summary>
    /// The same catalog with the receivers of the named signed-webhook destinations replaced, as written (a receiver's
    /// path is its own). Names that are not webhook destinations of the catalog are ignored.
    /// </summary>
    public TriggerCatalog WithDestinationUrls(IReadOnlyDictionary<string, Uri> overrides)
    {
        ArgumentNullException.ThrowIfNull(overrides);
        var destinations = Destinations.ToDictionary(
            d => d.Key,
            d => d.Value.Kind == DestinationKind.Webhook && overrides.TryGetValue(d.Key, out var url) ? d.Value with { Url = url } : d.Value,
            StringComparer.Ordinal);
        return this with { Destinations = destinations };
    }
}

/// <summary>A platform entry of the catalog.</summary>
public abstract record PlatformDefinition(string Name)
{
    public abstract PlatformKind Kind { get; }

    /// <summary>The endpoint the adapter calls.</summary>
    public abstract Uri Url { get; }

    /// <summary>The names of the secrets the platform itself needs (not counting per-trigger secrets).</summary>
    public abstract IEnumerable<string> SecretNames { get; }

    /// <summary>
    /// The secret that authenticates the platform's job-end events at <c>/api/events/{platform}</c> (chaining);
    /// null when the platform sends none.
    /// </summary>
    public string? EventSecret { get; init; }

    /// <summary>The same platform at another endpoint.</summary>
    public abstract PlatformDefinition WithUrl(Uri url);
}

/// <summary>A Keboola project: its stack's Job Queue endpoint and the Key Vault secret holding its Storage API token.</summary>
/// <param name="Stack">The stack name when the platform was given by stack, else null.</param>
public sealed record KeboolaPlatformDefinition(string Name, string? Stack, Uri QueueUrl, string TokenSecret) : PlatformDefinition(Name)
{
    public override PlatformKind Kind => PlatformKind.Keboola;

    public override Uri Url => QueueUrl;

    public override IEnumerable<string> SecretNames => EventSecret is null ? [TokenSecret] : [TokenSecret, EventSecret];

    public override PlatformDefinition WithUrl(Uri url) => this with { QueueUrl = url };
}

/// <summary>A TheEye organisation: supervisor endpoint, customer (organisation) name and, optionally, an access-token secret.</summary>
public sealed record TheEyePlatformDefinition(string Name, Uri SupervisorUrl, string Customer, string? AccessTokenSecret) : PlatformDefinition(Name)
{
    public override PlatformKind Kind => PlatformKind.TheEye;

    public override Uri Url => SupervisorUrl;

    public override IEnumerable<string> SecretNames => new[] { AccessTokenSecret, EventSecret }.OfType<string>();

    public override PlatformDefinition WithUrl(Uri url) => this with { SupervisorUrl = url };
}

/// <summary>One trigger: what job to start, where, and what may start it.</summary>
public sealed record TriggerDefinition
{
    public required string Name { get; init; }

    public string? Description { get; init; }

    /// <summary>The platform's name in the catalog.</summary>
    public required string Platform { get; init; }

    public required PlatformKind PlatformKind { get; init; }

    /// <summary>A disabled trigger is listed but starts nothing.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>The trigger's arguments by name: the values its job templates refer to as <c>{{name}}</c>.</summary>
    public IReadOnlyDictionary<string, ArgumentDefinition> Arguments { get; init; } = new Dictionary<string, ArgumentDefinition>();

    /// <summary>The Keboola job, for a Keboola trigger.</summary>
    public KeboolaJobTemplate? Keboola { get; init; }

    /// <summary>The TheEye job, for a TheEye trigger.</summary>
    public TheEyeJobTemplate? TheEye { get; init; }

    public ScheduleDefinition? Schedule { get; init; }

    public WebhookDefinition? Webhook { get; init; }

    /// <summary>Chaining rules: the trigger starts when a job matching any rule ends.</summary>
    public IReadOnlyList<AfterRule> After { get; init; } = [];

    /// <summary>How often the trigger's jobs are read until they end; null parts take the host's defaults.</summary>
    public WatchPolicy? Watch { get; init; }

    /// <summary>How long the trigger's job may run before it is overdue; null for no limit.</summary>
    public TimeSpan? MaxDuration { get; init; }

    /// <summary>What happens to a job running past <see cref="MaxDuration"/>.</summary>
    public TimeoutAction OnTimeout { get; init; } = TimeoutAction.Mark;
}

/// <summary>A trigger's polling policy: the first status read after the start, and the longest wait between reads.</summary>
public sealed record WatchPolicy(TimeSpan? FirstCheck, TimeSpan? MaxInterval);

/// <summary>What JobRelay does with a job that runs past its trigger's <c>maxDuration</c>.</summary>
public enum TimeoutAction
{
    /// <summary>The run is marked overdue (counted, shown); the job runs on.</summary>
    Mark,

    /// <summary>The run is marked overdue and the job is cancelled on its platform.</summary>
    Cancel,
}

/// <summary>An argument of a trigger.</summary>
/// <param name="Default">The value when nothing supplies one.</param>
/// <param name="Required">A run without a value (and without a default) fails with the argument's name.</param>
/// <param name="Overridable">Whether an API or CLI run may set it.</param>
/// <param name="From">Where a webhook delivery or a job-end event supplies it.</param>
public sealed record ArgumentDefinition(string Name, JsonNode? Default, bool Required, bool Overridable, ValueSource? From);

/// <summary>A Keboola create-job body whose strings may hold <c>{{argument}}</c> templates.</summary>
public sealed record KeboolaJobTemplate
{
    public required Template Component { get; init; }

    public Template? Mode { get; init; }

    public Template? Config { get; init; }

    public IReadOnlyList<Template>? ConfigRowIds { get; init; }

    /// <summary>A JSON object whose string leaves may hold templates.</summary>
    public JsonObject? ConfigData { get; init; }

    public Template? Tag { get; init; }

    public Template? BranchId { get; init; }

    public Template? VariableValuesId { get; init; }

    /// <summary>Variable values by name (sent as <c>variableValuesData</c>).</summary>
    public IReadOnlyList<KeyValuePair<string, Template>>? Variables { get; init; }

    public Template? BackendType { get; init; }

    public Template? BackendContext { get; init; }

    public Template? DelayedStartTime { get; init; }

    public int? DelaySeconds { get; init; }

    /// <summary>2–100 or <c>infinity</c>.</summary>
    public string? Parallelism { get; init; }

    /// <summary>The parent run (<c>X-KBC-RunId</c>).</summary>
    public Template? ParentRunId { get; init; }
}

/// <summary>A TheEye job: the task, its arguments and how to authenticate.</summary>
public sealed record TheEyeJobTemplate
{
    public required Template Task { get; init; }

    /// <summary>One slot per task argument, in the task's order; a slot may be null (fixed or unused arguments).</summary>
    public IReadOnlyList<JsonNode?> TaskArguments { get; init; } = [];

    public TheEyeAuthentication Authentication { get; init; } = TheEyeAuthentication.AccessToken;

    /// <summary>The secret holding the task's secret key, for the secret-key authentications.</summary>
    public string? SecretKeySecret { get; init; }
}

/// <summary>A cron schedule: six fields (seconds first) in an IANA time zone.</summary>
public sealed record ScheduleDefinition(string Cron, TimeZoneInfo TimeZone);

/// <summary>How a trigger takes webhooks: the verification scheme, its secrets, and which deliveries apply.</summary>
public sealed record WebhookDefinition
{
    public required WebhookScheme Scheme { get; init; }

    /// <summary>Secret names; several may be active at once while a secret is rotated.</summary>
    public IReadOnlyList<string> Secrets { get; init; } = [];

    public TimeSpan? Tolerance { get; init; }

    public string? Header { get; init; }

    public WebhookHmacAlgorithm Algorithm { get; init; } = WebhookHmacAlgorithm.Sha256;

    public WebhookSignatureEncoding Encoding { get; init; } = WebhookSignatureEncoding.Hex;

    public string? Prefix { get; init; }

    /// <summary>Where the delivery id is, for schemes that do not define one.</summary>
    public ValueSource? DeliveryId { get; init; }

    /// <summary>
    /// How a replayed delivery is told apart, for schemes whose signature covers no timestamp: by the digest of its
    /// signed content (the default), or, for shared-token schemes only, not at all.
    /// </summary>
    public WebhookReplay Replay { get; init; } = WebhookReplay.Digest;

    /// <summary>The digest window of a scheme that signs nothing, when the catalog sets none.</summary>
    public static readonly TimeSpan DefaultDigestWindow = TimeSpan.FromHours(1);

    /// <summary>
    /// For shared-token schemes (token, GitLab), which sign nothing: how long, from the first delivery, the same content
    /// without a delivery id is a retry. After it, the same content is a new event: a holder of the token may send
    /// anything anyway, so a repeat is not a replay to refuse but, say, a daily cron call. Signed schemes keep their
    /// digest for the whole retention, where a repeat is a replay.
    /// </summary>
    public TimeSpan DigestWindow { get; init; } = DefaultDigestWindow;

    /// <summary>Event types that apply; empty means every event.</summary>
    public IReadOnlyList<string> Events { get; init; } = [];

    /// <summary>Conditions every applicable delivery meets.</summary>
    public IReadOnlyList<DeliveryFilter> Filters { get; init; } = [];
}

/// <summary>The catalog's <c>webhook.replay</c>: what keeps a captured delivery from starting its job again.</summary>
public enum WebhookReplay
{
    /// <summary>A repeat of the signed content within the retention window is a duplicate, whatever its delivery id.</summary>
    Digest,

    /// <summary>Only the delivery id de-duplicates (token schemes whose sender sends the same body on purpose).</summary>
    None,
}

/// <summary>A condition on one value of a delivery: equals, is one of, or matches a regular expression.</summary>
public sealed record DeliveryFilter(string Field, ValueSource Source)
{
    public JsonNode? EqualsValue { get; init; }

    public bool HasEquals { get; init; }

    public IReadOnlyList<JsonNode?>? In { get; init; }

    public Regex? Matches { get; init; }
}

/// <summary>
/// A chaining rule: when a job matching it ends in one of <see cref="States"/>, the trigger starts. It names another
/// trigger of the catalog, or a platform with a component/config (Keboola) or a task (TheEye).
/// </summary>
public sealed record AfterRule
{
    public string? Trigger { get; init; }

    public string? Platform { get; init; }

    public string? Component { get; init; }

    public string? Config { get; init; }

    public string? Task { get; init; }

    /// <summary>The end states that start the trigger; by default only success.</summary>
    public IReadOnlyList<JobState> States { get; init; } = [JobState.Succeeded];
}

/// <summary>A problem found while loading a catalog, with the JSON path where it is.</summary>
public sealed record CatalogError(string Path, string Message)
{
    public override string ToString() => $"{Path}: {Message}";
}

/// <summary>
/// Something in a valid catalog that will not work as written (a chain whose jobs' ends cannot reach JobRelay), with
/// the JSON path where it is and what to set. The catalog loads; the host starts and says so.
/// </summary>
public sealed record CatalogWarning(string Path, string Message)
{
    public override string ToString() => $"{Path}: {Message}";
}

/// <summary>A loaded catalog, or every error that kept it from loading.</summary>
public sealed record CatalogLoadResult(TriggerCatalog? Catalog, IReadOnlyList<CatalogError> Errors)
{
    public bool IsValid => Catalog is not null && Errors.Count == 0;

    /// <summary>What a valid catalog holds that will not work as written; empty when the catalog has errors.</summary>
    public IReadOnlyList<CatalogWarning> Warnings { get; init; } = [];
}
