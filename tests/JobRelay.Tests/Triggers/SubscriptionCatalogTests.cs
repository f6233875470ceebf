using JobRelay.Model;
using JobRelay.Tests.Support;
using JobRelay.Triggers;

namespace JobRelay.Tests.Triggers;

/// <summary>The catalog's destinations and subscriptions: read, filtered, and every bad input refused at its JSON path.</summary>
public sealed class SubscriptionCatalogTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("jobrelay-subscriptions-");

    private const string Base = """
        "platforms": {
          "kbc": { "type": "keboola", "stack": "eu-frankfurt-aws", "tokenSecret": "kbc-token" },
          "eye": { "type": "theeye", "customer": "acme", "accessTokenSecret": "eye-token" }
        },
        "triggers": {
          "nightly-load": { "platform": "kbc", "keboola": { "component": "keboola.ex-db", "config": "42" } },
          "deploy": { "platform": "eye", "theeye": { "task": "t1" } }
        }
        """;

    private const string Destinations = """
        "destinations": {
          "ops-slack": { "type": "slack", "urlSecret": "ops-slack-url" },
          "ops-teams": { "type": "teams", "urlSecret": "ops-teams-url", "timeout": "PT3S", "concurrency": 2 },
          "warehouse": { "type": "webhook", "url": "https://hooks.example.com/jobrelay/in", "signingSecret": "warehouse-signing" }
        }
        """;

    public void Dispose() => _folder.Delete(recursive: true);

    private static CatalogLoadResult Load(string outbound) => TriggerCatalogLoader.Parse($$"""{ {{Base}}, {{outbound}} }""");

    [Fact]
    public void Only_failures_of_the_nightly_load_is_one_line_and_matches_nothing_else()
    {
        var result = Load(Destinations + """
            , "subscriptions": [
              { "to": "ops-slack", "events": ["job.failed"], "triggers": ["nightly-load"] }
            ]
            """);

        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        var subscription = Assert.Single(result.Catalog!.Subscriptions);
        Assert.Equal("ops-slack#0", subscription.Name);
        Assert.True(subscription.Matches("job.failed", "nightly-load", "kbc"));
        Assert.False(subscription.Matches("job.succeeded", "nightly-load", "kbc"));
        Assert.False(subscription.Matches("job.failed", "deploy", "eye"));
    }

    [Fact]
    public void Destinations_keep_their_kind_url_secret_name_timeout_and_concurrency_and_their_secrets_are_the_catalogs()
    {
        var result = Load(Destinations + """
            , "subscriptions": [ { "to": "warehouse", "events": ["run.accepted", "job.succeeded"], "platforms": ["eye"] } ]
            """);

        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        var catalog = result.Catalog!;
        Assert.Equal(new DestinationDefinition("ops-slack", DestinationKind.Slack, null, "ops-slack-url", TimeSpan.FromSeconds(10), 4), catalog.Destinations["ops-slack"]);
        Assert.Equal(new DestinationDefinition("ops-teams", DestinationKind.Teams, null, "ops-teams-url", TimeSpan.FromSeconds(3), 2), catalog.Destinations["ops-teams"]);
        Assert.Equal(new Uri("https://hooks.example.com/jobrelay/in"), catalog.Destinations["warehouse"].Url);
        Assert.Equal(DestinationKind.Webhook, catalog.Destinations["warehouse"].Kind);
        var subscription = Assert.Single(catalog.Subscriptions);
        Assert.True(subscription.Matches("job.succeeded", "deploy", "eye"));
        Assert.False(subscription.Matches("job.succeeded", "nightly-load", "kbc"));
        Assert.False(subscription.Matches("job.succeeded", "deploy", null));
        Assert.Equal(["eye-token", "kbc-token", "ops-slack-url", "ops-teams-url", "warehouse-signing"], CatalogSecrets.Names(catalog));
    }

    [Fact]
    public void A_catalog_without_destinations_or_subscriptions_loads_with_none()
    {
        var result = TriggerCatalogLoader.Parse($$"""{ {{Base}} }""");

        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        Assert.Empty(result.Catalog!.Destinations);
        Assert.Empty(result.Catalog.Subscriptions);
    }

    [Theory]
    [InlineData("""{ "to": "ops-slack", "events": ["job.failed", "job.exploded"] }""", "$.subscriptions[0].events[1]", "'job.exploded' is not an event type")]
    [InlineData("""{ "to": "ops-slack", "events": [] }""", "$.subscriptions[0].events", "must name at least one event type")]
    [InlineData("""{ "to": "pager", "events": ["job.failed"] }""", "$.subscriptions[0].to", "'pager' is not a destination of this catalog (it declares ops-slack, ops-teams, warehouse)")]
    [InlineData("""{ "to": "ops-slack", "events": ["job.failed"], "triggers": ["nightly-lod"] }""", "$.subscriptions[0].triggers[0]", "'nightly-lod' is not a trigger of this catalog")]
    [InlineData("""{ "to": "ops-slack", "events": ["job.failed"], "platforms": ["kbc", "gcp"] }""", "$.subscriptions[0].platforms[1]", "'gcp' is not a platform of this catalog")]
    [InlineData("""{ "to": "ops-slack" }""", "$.subscriptions[0].events", "required")]
    [InlineData("""{ "to": "ops-slack", "events": ["job.failed"], "channel": "#ops" }""", "$.subscriptions[0].channel", "")]
    public void A_bad_subscription_fails_at_its_path(string subscription, string path, string message)
    {
        var result = Load(Destinations + ", \"subscriptions\": [ " + subscription + " ]");

        Assert.False(result.IsValid);
        var error = Assert.Single(result.Errors);
        Assert.Equal(path, error.Path);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "type": "pagerduty", "urlSecret": "pd" }""", "$.destinations.bad.type", "'pagerduty' is not a destination type")]
    [InlineData("""{ "type": "slack", "urlSecret": "https://hooks.slack.com/services/T0/B0/XXXX" }""", "$.destinations.bad.urlSecret", "is not a Key Vault secret name")]
    [InlineData("""{ "type": "webhook", "url": "https://hooks.example.com/in", "signingSecret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }""", "$.destinations.bad.signingSecret", "is not a Key Vault secret name")]
    [InlineData("""{ "type": "webhook", "url": "http://hooks.example.com/in", "signingSecret": "s" }""", "$.destinations.bad.url", "must use https")]
    [InlineData("""{ "type": "webhook", "signingSecret": "s" }""", "$.destinations.bad.url", "required")]
    [InlineData("""{ "type": "teams", "urlSecret": "t", "concurrency": 0 }""", "$.destinations.bad.concurrency", "")]
    [InlineData("""{ "type": "teams", "urlSecret": "t", "timeout": "10s" }""", "$.destinations.bad.timeout", "ISO 8601 duration")]
    [InlineData("""{ "type": "slack", "urlSecret": "s", "url": "https://hooks.slack.com/services/x" }""", "$.destinations.bad.url", "")]
    public void A_bad_destination_fails_at_its_path(string destination, string path, string message)
    {
        var result = Load("\"destinations\": { \"bad\": " + destination + " }");

        Assert.False(result.IsValid);
        var error = Assert.Single(result.Errors);
        Assert.Equal(path, error.Path);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_exits_with_1_and_names_each_bad_event_type_destination_kind_and_secret_name_by_its_path()
    {
        var path = Path.Combine(_folder.FullName, "triggers.json");
        await File.WriteAllTextAsync(path, $$"""
            { {{Base}},
              "destinations": {
                "ops": { "type": "slack", "urlSecret": "ops_slack/url" },
                "pager": { "type": "pagerduty", "urlSecret": "pd" }
              },
              "subscriptions": [ { "to": "ops", "events": ["job.failure"], "triggers": ["nightly-load"] } ]
            }
            """);

        using var cli = CliProcess.Start(_folder.FullName, new Dictionary<string, string>(), "validate", "--triggers", path);
        var exit = await cli.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(1, exit);
        var lines = cli.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal($"{path}: 3 error(s)", lines[0]);
        Assert.StartsWith("$.destinations.ops.urlSecret: 'ops_slack/url' is not a Key Vault secret name", lines[1], StringComparison.Ordinal);
        Assert.StartsWith("$.destinations.pager.type: 'pagerduty' is not a destination type", lines[2], StringComparison.Ordinal);
        Assert.StartsWith("$.subscriptions[0].events[0]: 'job.failure' is not an event type", lines[3], StringComparison.Ordinal);
        Assert.Equal(4, lines.Length);
    }
}
