using JobRelay.Hosting;
using JobRelay.Tests.Http;
using Microsoft.Extensions.Options;

namespace JobRelay.Tests.Hosting;

/// <summary>An endpoint set through <c>JobRelay__Catalog__PlatformUrls__&lt;platform&gt;</c> obeys the catalog's own URL rules.</summary>
public sealed class PlatformUrlOverrideTests
{
    private const string Catalog = """
        {
          "platforms": { "kbc": { "type": "keboola", "stack": "eu-frankfurt-aws", "tokenSecret": "kbc-token" } },
          "triggers": { "load": { "platform": "kbc", "keboola": { "component": "keboola.ex-db", "config": "42" } } }
        }
        """;

    [Theory]
    [InlineData("http://192.0.2.1:9/", "must use https")]
    [InlineData("https://user:pass@queue.example.com/", "must not carry credentials")]
    [InlineData("https://queue.example.com/?token=x", "must not carry credentials, a query or a fragment")]
    [InlineData("ftp://queue.example.com/", "must be an absolute http(s) URL")]
    public async Task AnOverrideThatBreaksTheCatalogsUrlRulesStopsTheHostAtStart(string url, string rule)
    {
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(
            () => RelayHost.StartAsync(Catalog, new Dictionary<string, Uri> { ["kbc"] = new(url) }));

        var failure = Assert.Single(ex.Failures);
        Assert.StartsWith("JobRelay:Catalog:PlatformUrls:kbc: overrides the endpoint of platform 'kbc' (environment variable JobRelay__Catalog__PlatformUrls__kbc) and is refused: it ", failure, StringComparison.Ordinal);
        Assert.Contains(rule, failure, StringComparison.Ordinal);
        Assert.DoesNotContain("pass", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void AnHttpsOverrideAndAPlainHttpLoopbackOverrideAreTaken()
    {
        var folder = Directory.CreateTempSubdirectory("jobrelay-override-").FullName;
        try
        {
            var path = Path.Combine(folder, "triggers.json");
            File.WriteAllText(path, Catalog.Replace("\"kbc\": { \"type\"", "\"eye\": { \"type\": \"theeye\", \"customer\": \"acme\", \"accessTokenSecret\": \"eye-token\" }, \"kbc\": { \"type\"", StringComparison.Ordinal));
            var options = new CatalogOptions { Path = path };
            options.PlatformUrls["kbc"] = new Uri("https://queue.staging.example.com/");
            options.PlatformUrls["eye"] = new Uri("http://127.0.0.1:5081/theeye/");

            var result = new CatalogLoadOnce().Get(options);

            Assert.True(result.IsValid, string.Join("\n", result.Errors));
            Assert.Equal(new Uri("https://queue.staging.example.com/"), result.Catalog!.Platforms["kbc"].Url);
            Assert.Equal(new Uri("http://127.0.0.1:5081/theeye/"), result.Catalog.Platforms["eye"].Url);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
