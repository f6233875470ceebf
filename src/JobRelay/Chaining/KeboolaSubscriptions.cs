using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using JobRelay.Hosting;
using JobRelay.Model;
using JobRelay.Platforms;
using JobRelay.Secrets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobRelay.Chaining;

/// <summary>One Keboola Notification API subscription a chained trigger needs.</summary>
/// <param name="Platform">The Keboola platform whose jobs are watched.</param>
/// <param name="EventType"><c>job-succeeded</c>, <c>job-succeeded-with-warning</c> or <c>job-failed</c>.</param>
/// <param name="Component">The component whose jobs are watched, when the rule names one.</param>
/// <param name="Config">The configuration whose jobs are watched, when the rule names one.</param>
public sealed record KeboolaSubscriptionPlan(string Platform, string EventType, string? Component, string? Config)
{
    /// <summary>The jobs watched, as a person reads them: <c>keboola.ex-db/42</c>, <c>keboola.ex-db</c> or <c>any component</c>.</summary>
    public string Jobs => Component is null ? "any component" : Config is null ? Component : $"{Component}/{Config}";
}

/// <summary>A subscription Keboola created.</summary>
public sealed record KeboolaSubscription(KeboolaSubscriptionPlan Plan, string Id);

/// <summary>
/// Creates the Keboola notification subscriptions that deliver job-end events to <c>/api/events/{platform}</c>, so
/// that a trigger's <c>after</c> rules fire (<c>jobrelay subscribe keboola TRIGGER --url PUBLIC_URL</c>). The
/// notifications are not signed: the URL carries the platform's <c>eventSecret</c> as its <c>token</c>.
/// </summary>
public sealed partial class KeboolaSubscriptions(
    CatalogSource catalog,
    IHttpClientFactory httpClientFactory,
    ISecretStore secrets,
    IOptions<PlatformHttpOptions> httpOptions,
    TimeProvider timeProvider,
    ILoggerFactory loggerFactory)
{
    private readonly ILogger _logger = loggerFactory.CreateLogger<KeboolaSubscriptions>();

    /// <summary>The subscriptions <paramref name="triggerName"/>'s Keboola <c>after</c> rules need.</summary>
    public static IReadOnlyList<KeboolaSubscriptionPlan> Plan(TriggerCatalog catalog, string triggerName)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        if (!catalog.Triggers.TryGetValue(triggerName, out var trigger))
        {
            throw new RelayException(RelayErrorKind.NotFound, $"Trigger '{triggerName}' is not in the catalog.");
        }

        var plans = new List<KeboolaSubscriptionPlan>();
        foreach (var rule in trigger.After)
        {
            string platform;
            string? component;
            string? config;
            if (rule.Trigger is { } sourceName)
            {
                var source = catalog.Triggers[sourceName];
                if (source.Keboola is not { } job)
                {
                    continue;
                }

                platform = source.Platform;
                component = job.Component.IsLiteral ? job.Component.Source : null;
                config = job.Config is { IsLiteral: true } literal ? literal.Source : null;
            }
            else if (catalog.Platforms.TryGetValue(rule.Platform!, out var definition) && definition.Kind == PlatformKind.Keboola)
            {
                (platform, component, config) = (definition.Name, rule.Component, rule.Config);
            }
            else
            {
                continue;
            }

            foreach (var eventType in rule.States.SelectMany(EventTypes))
            {
                plans.Add(new KeboolaSubscriptionPlan(platform, eventType, component, config));
            }
        }

        if (plans.Count == 0)
        {
            throw new RelayException(RelayErrorKind.InvalidInput, $"Trigger '{triggerName}' has no 'after' rule that follows a Keboola job: there is nothing to subscribe to.");
        }

        return [.. plans.Distinct()];
    }

    /// <summary>Creates every subscription <paramref name="triggerName"/> needs, delivering to <paramref name="publicUrl"/>.</summary>
    public async Task<IReadOnlyList<KeboolaSubscription>> SubscribeAsync(string triggerName, Uri publicUrl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(publicUrl);
        var created = new List<KeboolaSubscription>();
        foreach (var plan in Plan(catalog.Catalog, triggerName))
        {
            var platform = (KeboolaPlatformDefinition)catalog.Catalog.Platforms[plan.Platform];
            var eventSecret = platform.EventSecret ?? throw new RelayException(RelayErrorKind.InvalidInput,
                $"Keboola platform '{platform.Name}' names no 'eventSecret': add one, so that its notifications can be told from anyone else's.");
            created.Add(await CreateAsync(platform, plan, publicUrl, eventSecret, cancellationToken));
        }

        return created;
    }

    /// <summary>The Notification API of the stack a queue endpoint belongs to (<c>queue.</c> → <c>notification.</c>).</summary>
    public static Uri NotificationUrl(Uri queueUrl)
    {
        ArgumentNullException.ThrowIfNull(queueUrl);
        var builder = new UriBuilder(queueUrl);
        if (builder.Host.StartsWith("queue.", StringComparison.OrdinalIgnoreCase))
        {
            builder.Host = "notification." + builder.Host["queue.".Length..];
        }

        builder.Path = builder.Path.TrimEnd('/') + "/project-subscriptions";
        return builder.Uri;
    }

    private async Task<KeboolaSubscription> CreateAsync(KeboolaPlatformDefinition platform, KeboolaSubscriptionPlan plan, Uri publicUrl, string eventSecret, CancellationToken cancellationToken)
    {
        var token = await secrets.GetAsync(eventSecret, cancellationToken);
        var recipient = $"{publicUrl.GetLeftPart(UriPartial.Path).TrimEnd('/')}/api/events/{Uri.EscapeDataString(platform.Name)}?token={Uri.EscapeDataString(token.Value)}";
        var filters = new JsonArray();
        if (plan.Component is not null)
        {
            filters.Add(new JsonObject { ["field"] = "job.component.id", ["value"] = plan.Component });
        }

        if (plan.Config is not null)
        {
            filters.Add(new JsonObject { ["field"] = "job.configuration.id", ["value"] = plan.Config });
        }

        var body = Encoding.UTF8.GetBytes(new JsonObject
        {
            ["event"] = plan.EventType,
            ["filters"] = filters,
            ["recipient"] = new JsonObject { ["channel"] = "webhook", ["url"] = recipient },
        }.ToJsonString());

        var sender = new PlatformSender(httpClientFactory.CreateClient(JobPlatforms.HttpClientName), platform.Name, httpOptions.Value, timeProvider, loggerFactory.CreateLogger<PlatformSender>());
        var url = NotificationUrl(platform.QueueUrl);
        var storageToken = await secrets.GetAsync(platform.TokenSecret, cancellationToken);
        using var response = await sender.SendAsync(PlatformRequestKind.StartJob, "subscribe", () =>
        {
            var message = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
            message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            message.Headers.TryAddWithoutValidation("X-StorageApi-Token", storageToken.Value);
            return message;
        }, cancellationToken);

        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            var error = ErrorText(text)?.Replace(token.Value, "[redacted]", StringComparison.Ordinal).Replace(storageToken.Value, "[redacted]", StringComparison.Ordinal);
            throw new RelayException(
                (int)response.StatusCode is 401 or 403 ? RelayErrorKind.PlatformAuthenticationFailed : RelayErrorKind.PlatformRejected,
                $"Keboola platform '{platform.Name}' refused the {plan.EventType} subscription (HTTP {(int)response.StatusCode}{(error is null ? string.Empty : ": " + error)}).")
            {
                Platform = platform.Name,
                PlatformStatusCode = (int)response.StatusCode,
            };
        }

        var id = Id(text) ?? "(no id)";
        SubscriptionLog.Created(_logger, platform.Name, plan.EventType, plan.Jobs, id);
        return new KeboolaSubscription(plan, id);
    }

    private static IEnumerable<string> EventTypes(JobState state) => state switch
    {
        JobState.Succeeded => ["job-succeeded", "job-succeeded-with-warning"],
        JobState.Failed => ["job-failed"],
        _ => [],
    };

    private static string? Id(string text)
    {
        try
        {
            return JsonNode.Parse(text)?["id"] is JsonValue id ? id.ToJsonString().Trim('"') : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? ErrorText(string text)
    {
        try
        {
            return (string?)(JsonNode.Parse(text)?["error"]);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return null;
        }
    }

    private static partial class SubscriptionLog
    {
        [LoggerMessage(EventId = 1710, Level = LogLevel.Information, Message = "Keboola platform {Platform} subscribed {EventType} of {Jobs} (subscription {Id})")]
        public static partial void Created(ILogger logger, string platform, string eventType, string jobs, string id);
    }
}
