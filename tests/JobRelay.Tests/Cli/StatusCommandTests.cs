using System.Text.RegularExpressions;
using JobRelay.Cli;
using JobRelay.State;
using JobRelay.State.Sqlite;
using JobRelay.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace JobRelay.Tests.Cli;

/// <summary><c>jobrelay status</c> as a process over a data folder: the scheduler's last tick, as the store holds it.</summary>
public sealed class StatusCommandTests : IDisposable
{
    private const string Catalog = """
        {
          "platforms": { "kbc": { "type": "keboola", "url": "http://127.0.0.1:1/", "tokenSecret": "kbc-token" } },
          "triggers": { "load": { "platform": "kbc", "keboola": { "component": "keboola.ex-db", "config": "1" } } }
        }
        """;

    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("jobrelay-status-");

    private string DataFolder => Path.Combine(_folder.FullName, "data");

    public void Dispose() => _folder.Delete(recursive: true);

    [Fact]
    public async Task StatusWithoutAJobPrintsTheLastTickTheDataFolderHoldsWithItsHostAndInstance()
    {
        var at = DateTimeOffset.UtcNow - TimeSpan.FromSeconds(5);
        using (var store = new SqliteRelayStore(Path.Combine(DataFolder, StoreOptions.SqliteFileName), TimeProvider.System, NullLogger<SqliteRelayStore>.Instance))
        {
            await store.RecordTickAsync(new SchedulerTick(at, "serve", "box/4242"), CancellationToken.None);
        }

        var (exit, stdout, stderr) = await RunAsync("status", "--data", DataFolder, "--triggers", await CatalogAsync());

        Assert.True(exit == 0, stderr);
        Assert.Matches(new Regex($@"^scheduler: last tick {Regex.Escape(at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture))}Z \(\d+ s ago\) by serve, instance box/4242\n$"), stdout.ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task StatusOverAStoreWithNoTickSaysSo()
    {
        var (exit, stdout, stderr) = await RunAsync("status", "--data", DataFolder, "--triggers", await CatalogAsync());

        Assert.True(exit == 0, stderr);
        Assert.Equal("scheduler: no tick recorded in this store\n", stdout.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void StatusWithATriggerButNoJobIdIsRefusedWithWhatToGive()
    {
        var parse = JobRelayCommandLine.Create().Parse(["status", "load"]);

        Assert.Contains(parse.Errors, e => e.Message == "Give both the trigger and the job id, or neither (for the scheduler's last tick alone).");
    }

    private async Task<string> CatalogAsync()
    {
        var path = Path.Combine(_folder.FullName, "triggers.json");
        await File.WriteAllTextAsync(path, Catalog);
        return path;
    }

    private async Task<(int Exit, string Stdout, string Stderr)> RunAsync(params string[] arguments)
    {
        using var cli = CliProcess.Start(_folder.FullName, new Dictionary<string, string> { ["JobRelay__Secrets__Values__kbc-token"] = "unused" }, arguments);
        var exit = await cli.WaitForExitAsync(TimeSpan.FromSeconds(60));
        return (exit, cli.Stdout, cli.Stderr);
    }
}
