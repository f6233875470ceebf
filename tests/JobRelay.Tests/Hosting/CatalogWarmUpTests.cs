using JobRelay.Hosting;
using JobRelay.Triggers;
using Microsoft.Extensions.Configuration;

namespace JobRelay.Tests.Hosting;

/// <summary>The catalog's first check, run in the background while a host is built, changes nothing the start reports.</summary>
public sealed class CatalogWarmUpTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("jobrelay-warmup-").FullName;

    [Fact]
    public async Task AWarmUpOfACatalogWithErrorsCompletesAndTheStartStillReportsEachErrorAsAFreshLoadDoes()
    {
        var path = Path.Combine(_folder, "triggers.json");
        const string json = """
            {
              "platforms": { "kbc": { "type": "keboola", "stack": "eu-frankfurt-aws", "tokenSecret": "kbc-token" } },
              "triggers": { "load": { "platform": "kbc", "keboola": { "component": "keboola.ex-db" }, "schedul": "0 * * * *" } }
            }
            """;
        await File.WriteAllTextAsync(path, json);
        var fresh = TriggerCatalogLoader.Parse(json, path);

        await CatalogWarmUp.Start(Configuration(path));
        var afterWarmUp = new CatalogLoadOnce().Get(new CatalogOptions { Path = path });

        Assert.Null(afterWarmUp.Catalog);
        Assert.Equal(fresh.Errors, afterWarmUp.Errors);
        var error = Assert.Single(afterWarmUp.Errors);
        Assert.Equal("$.triggers.load.schedul", error.Path);
        Assert.Equal("is not a known field here; known fields: description, platform, enabled, arguments, keboola, theeye, schedule, webhook, watch, maxDuration, onTimeout, after.", error.Message);
    }

    [Fact]
    public async Task AWarmUpOfACatalogThatCannotBeReadCompletesAndLeavesTheErrorToTheStart()
    {
        var path = Path.Combine(_folder, "missing.json");

        var warmUp = CatalogWarmUp.Start(Configuration(path));
        await warmUp;

        Assert.True(warmUp.IsCompletedSuccessfully);
        var error = Assert.Single(new CatalogLoadOnce().Get(new CatalogOptions { Path = path }).Errors);
        Assert.Equal("$", error.Path);
        Assert.StartsWith($"The trigger catalog '{path}' cannot be read: ", error.Message, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static IConfiguration Configuration(string path)
        => new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["JobRelay:Catalog:Path"] = path }).Build();
}
