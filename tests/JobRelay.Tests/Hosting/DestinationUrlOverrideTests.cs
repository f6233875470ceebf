using JobRelay.Hosting;

namespace JobRelay.Tests.Hosting;

/// <summary>A receiver set through <c>JobRelay__Catalog__DestinationUrls__&lt;destination&gt;</c> obeys the catalog's own URL rules.</summary>
public sealed class DestinationUrlOverrideTests : IDisposable
{
    private const string Catalog = """
        {
          "platforms": { "kbc": { "type": "keboola", "stack": "eu-frankfurt-aws", "tokenSecret": "kbc-token" } },
          "triggers": { "load": { "platform": "kbc", "keboola": { "component": "keboola.ex-db", "config": "42" } } },
          "destinations": {
            "warehouse": { "type": "webhook", "url": "https://hooks.example.com/jobrelay", "signingSecret": "warehouse-signing" },
            "ops": { "type": "slack", "urlSecret": "ops-slack-url" }
          },
          "subscriptions": [{ "to": "warehouse", "events": ["job.failed"] }, { "to": "ops", "events": ["job.failed"] }]
        }
        """;

    private readonly string _folder = Directory.CreateTempSubdirectory("jobrelay-destination-override-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void A_plain_http_loopback_override_replaces_a_webhook_destinations_url_as_written_and_leaves_the_rest()
    {
        var options = Options();
        options.DestinationUrls["warehouse"] = new Uri("http://127.0.0.1:5090/sandbox/receiver/webhook");
        options.DestinationUrls["ops"] = new Uri("https://elsewhere.example.com/");
        options.DestinationUrls["unknown"] = new Uri("https://elsewhere.example.com/");

        var result = new CatalogLoadOnce().Get(options);

        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        Assert.Equal(new Uri("http://127.0.0.1:5090/sandbox/receiver/webhook"), result.Catalog!.Destinations["warehouse"].Url);
        Assert.Null(result.Catalog.Destinations["ops"].Url);
        Assert.Equal(2, result.Catalog.Destinations.Count);
    }

    [Theory]
    [InlineData("http://192.0.2.1:9/in", "must use https")]
    [InlineData("https://user:pass@hooks.example.com/in", "must not carry credentials")]
    [InlineData("ftp://hooks.example.com/in", "must be an absolute http(s) URL")]
    public void An_override_that_breaks_the_catalogs_url_rules_is_refused_with_its_setting_named(string url, string rule)
    {
        var options = Options();
        options.DestinationUrls["warehouse"] = new Uri(url);

        var result = new CatalogLoadOnce().Get(options);

        Assert.Null(result.Catalog);
        var error = Assert.Single(result.Errors);
        Assert.Equal("JobRelay:Catalog:DestinationUrls:warehouse", error.Path);
        Assert.StartsWith("overrides the receiver of destination 'warehouse' (environment variable JobRelay__Catalog__DestinationUrls__warehouse) and is refused: it ", error.Message, StringComparison.Ordinal);
        Assert.Contains(rule, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("pass", error.Message, StringComparison.Ordinal);
    }

    private CatalogOptions Options()
    {
        var path = Path.Combine(_folder, "triggers.json");
        File.WriteAllText(path, Catalog);
        return new CatalogOptions { Path = path };
    }
}
