using JobRelay.Tests.Support;
using JobRelay.Triggers;

namespace JobRelay.Tests.Triggers;

/// <summary>
/// A chain whose jobs' ends cannot reach JobRelay (no eventSecret on the platform whose events report them) loads, and
/// is a warning that names the fix, in validate's output and in serve's start log.
/// </summary>
public sealed class ChainFeedTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("jobrelay-chain-feed-");

    public void Dispose() => _folder.Delete(recursive: true);

    [Fact]
    public void TheShippedCatalogsChainAfterAKeboolaTriggerIsWatchedAndNeedsNoEventSecret()
    {
        var result = TriggerCatalogLoader.Parse(File.ReadAllText(CatalogLoaderTests.RepoFile("triggers.json")));

        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        Assert.Empty(result.Warnings);
        var feed = Assert.Single(ChainFeed.Of(result.Catalog!));
        Assert.Equal("sales-report", feed.Trigger);
        Assert.Equal([ChainFeed.WatchedSource], feed.Sources);
    }

    [Fact]
    public void ARuleFollowingAnyKeboolaJobWithoutAnEventSecretIsWatchedForTheJobsJobRelayStartsAndAWarningNamingTheFixForTheRest()
    {
        var result = TriggerCatalogLoader.Parse(File.ReadAllText(CatalogLoaderTests.RepoFile("triggers.json"))
            .Replace("""{ "trigger": "nightly-sales", "states": ["succeeded"] }""", """{ "platform": "keboola", "component": "keboola.ex-db-snowflake", "states": ["succeeded"] }""", StringComparison.Ordinal));

        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        var warning = Assert.Single(result.Warnings);
        Assert.Equal("$.triggers.sales-report.after[0]", warning.Path);
        Assert.Equal(
            "follows jobs on platform 'keboola': JobRelay watches the ends of the jobs its own triggers start there, but jobs started "
            + "elsewhere reach it only as job-end events from platform 'keboola', and 'keboola' has no 'eventSecret': the chain fires "
            + "only after jobs JobRelay started. Set 'eventSecret' on platform 'keboola' "
            + "(the Key Vault secret those events carry), then subscribe with 'jobrelay subscribe keboola sales-report --url https://<your app>'.",
            warning.Message);
        Assert.Equal([ChainFeed.WatchedSource], Assert.Single(ChainFeed.Of(result.Catalog!)).Sources);
    }

    [Fact]
    public void AChainOnAPlatformWithAnEventSecretIsFedByPlatformEventsAndWarnsNothing()
    {
        var result = TriggerCatalogLoader.Parse("""
            {
              "platforms": { "kbc": { "type": "keboola", "stack": "eu-frankfurt-aws", "tokenSecret": "kbc-token", "eventSecret": "kbc-events" } },
              "triggers": {
                "load": { "platform": "kbc", "keboola": { "component": "ex", "config": "1" } },
                "report": { "platform": "kbc", "keboola": { "component": "tr", "config": "2" }, "after": [{ "trigger": "load" }, { "platform": "kbc", "component": "ex" }] }
              }
            }
            """);

        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        Assert.Empty(result.Warnings);
        var feeds = ChainFeed.Of(result.Catalog!);
        Assert.Equal([ChainFeed.WatchedSource, ChainFeed.PlatformEventsSource], feeds[0].Sources);
        Assert.Equal([ChainFeed.WatchedSource, ChainFeed.PlatformEventsSource], feeds[1].Sources);
    }

    [Fact]
    public void ARuleFollowingTheeyeTasksWithoutAnEventSecretIsAWarningNamingTheTheeyeSideOfTheFix()
    {
        var result = TriggerCatalogLoader.Parse("""
            {
              "platforms": {
                "kbc": { "type": "keboola", "stack": "eu-frankfurt-aws", "tokenSecret": "kbc-token" },
                "eye": { "type": "theeye", "customer": "acme", "accessTokenSecret": "eye-token" }
              },
              "triggers": {
                "report": { "platform": "kbc", "keboola": { "component": "tr" }, "after": [{ "platform": "eye", "task": "t1", "states": ["failed"] }] }
              }
            }
            """);

        var warning = Assert.Single(result.Warnings);
        Assert.Equal("$.triggers.report.after[0]", warning.Path);
        Assert.StartsWith("follows jobs on platform 'eye', whose ends reach JobRelay only as job-end events from platform 'eye', "
            + "and 'eye' has no 'eventSecret': the chain never fires.", warning.Message, StringComparison.Ordinal);
        Assert.Empty(Assert.Single(ChainFeed.Of(result.Catalog!)).Sources);
        Assert.EndsWith("Set 'eventSecret' on platform 'eye' (the Key Vault secret those events carry), then have a TheEye task post each job's end to /api/events/eye (README, Chaining).", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ValidateOnTheShippedCatalogSaysItsChainIsWatchedWarnsNothingAndExitsZero()
    {
        var catalog = CatalogLoaderTests.RepoFile("triggers.json");
        using var validate = CliProcess.Start(_folder.FullName, new Dictionary<string, string>(), "validate", "--triggers", catalog);

        var exitCode = await validate.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(0, exitCode);
        Assert.Contains("    after[0] follows nightly-sales: job ends from watched: started by JobRelay\n", validate.Stdout.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.DoesNotContain("warning", validate.Stderr, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task ServeLogsTheWarningAsItStarts()
    {
        var catalog = Path.Combine(_folder.FullName, "triggers.json");
        File.WriteAllText(catalog, File.ReadAllText(CatalogLoaderTests.RepoFile("triggers.json"))
            .Replace("""{ "trigger": "nightly-sales", "states": ["succeeded"] }""", """{ "platform": "keboola", "component": "keboola.ex-db-snowflake", "states": ["succeeded"] }""", StringComparison.Ordinal));
        using var serve = CliProcess.Start(
            _folder.FullName, new Dictionary<string, string>(), "serve", "--triggers", catalog, "--urls", "http://127.0.0.1:0");
        try
        {
            await serve.WaitForLineAsync("JobRelay is listening on", TimeSpan.FromSeconds(60));
            const string Logged = "Catalog warning at $.triggers.sales-report.after[0]: follows jobs on platform 'keboola'";
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (!serve.Stdout.Contains(Logged, StringComparison.Ordinal) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }

            Assert.Contains(Logged, serve.Stdout, StringComparison.Ordinal);
            Assert.Contains("Set 'eventSecret' on platform 'keboola'", serve.Stdout, StringComparison.Ordinal);
        }
        finally
        {
            serve.Terminate();
            await serve.WaitForExitAsync(TimeSpan.FromSeconds(30));
        }
    }
}
