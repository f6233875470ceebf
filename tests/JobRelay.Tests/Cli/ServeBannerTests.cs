using JobRelay.Cli;
using JobRelay.Model;
using JobRelay.Triggers;
using Microsoft.Extensions.Configuration;

namespace JobRelay.Tests.Cli;

/// <summary>What <c>jobrelay serve</c> prints at start goes to stdout, which container logs keep.</summary>
public sealed class ServeBannerTests
{
    private const string ConfiguredKey = "configured-api-key-3f7c1e9a";

    private static readonly TriggerCatalog Catalog = TriggerCatalogLoader.Parse("""
        {
          "platforms": { "kbc": { "type": "keboola", "stack": "eu-frankfurt-aws", "tokenSecret": "kbc-token" } },
          "triggers": { "load": { "platform": "kbc", "keboola": { "component": "keboola.ex-db", "config": "42" } } }
        }
        """).Catalog!;

    [Fact]
    public void AKeyFromTheSettingsIsNeverPrinted()
    {
        var key = ServeApiKey.Choose(option: null, configured: ConfiguredKey, sandbox: false);

        var banner = Print(key);

        Assert.Equal(ConfiguredKey, key.Value);
        Assert.DoesNotContain(ConfiguredKey, banner, StringComparison.Ordinal);
        Assert.Contains("  API key   x-functions-key: as configured (--api-key or JobRelay:Serve:ApiKey), not printed", banner, StringComparison.Ordinal);
    }

    [Fact]
    public void AKeyGivenOnTheCommandLineIsNeverPrinted()
    {
        var key = ServeApiKey.Choose(option: ConfiguredKey, configured: "other-key", sandbox: false);

        var banner = Print(key);

        Assert.Equal(ConfiguredKey, key.Value);
        Assert.DoesNotContain(ConfiguredKey, banner, StringComparison.Ordinal);
        Assert.DoesNotContain("other-key", banner, StringComparison.Ordinal);
    }

    [Fact]
    public void AKeyServeGeneratedIsPrintedSoItCanBeUsed()
    {
        var key = ServeApiKey.Choose(option: null, configured: null, sandbox: false);

        var banner = Print(key);

        Assert.Matches("^[0-9a-f]{32}$", key.Value);
        Assert.Contains($"  API key   x-functions-key: {key.Value}{Environment.NewLine}", banner, StringComparison.Ordinal);
    }

    [Fact]
    public void TheSandboxKeyIsPrintedWhenNoneIsConfigured()
    {
        var key = ServeApiKey.Choose(option: null, configured: null, sandbox: true);

        Assert.Equal(ServeCommand.SandboxApiKey, key.Value);
        Assert.Contains("  API key   x-functions-key: sandbox", Print(key), StringComparison.Ordinal);
    }

    [Fact]
    public void TheBannerNamesTheDashboardAtTheAddressServeListensOn()
    {
        var banner = Print(ServeApiKey.Choose(option: null, configured: null, sandbox: true));

        Assert.Contains($"  dashboard http://127.0.0.1:5080/dashboard (runs, lineage, operator actions; it asks for the API key){Environment.NewLine}", banner, StringComparison.Ordinal);
    }

    private static string Print(ServeApiKey key)
    {
        using var output = new StringWriter();
        Banner.Write(output, "http://127.0.0.1:5080", Catalog, key, sandbox: null, new ConfigurationBuilder().Build());
        return output.ToString();
    }
}
