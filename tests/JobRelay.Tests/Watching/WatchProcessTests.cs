using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using JobRelay.Http;
using JobRelay.Tests.Support;
using Microsoft.Data.Sqlite;

namespace JobRelay.Tests.Watching;

/// <summary>
/// Real <c>jobrelay serve</c> processes on one data folder, killed with SIGKILL and started again, follow the jobs they
/// started: with no <c>eventSecret</c> and nothing calling <c>/api/events</c>, each parent's end starts its follower
/// exactly once, whichever process watches it, whether two watch at once, the one holding the watch dies mid-read, or
/// none runs when the job ends.
/// </summary>
public sealed class WatchProcessTests : IAsyncLifetime, IDisposable
{
    private const string ApiKey = "watch-process-api-key";
    private const string KeboolaToken = "kbc-token-watch-process";
    private const string TheEyeToken = "eye-token-watch-process";

    private const string Catalog = """
        {
          "platforms": {
            "kbc": { "type": "keboola", "url": "http://127.0.0.1:1/", "tokenSecret": "kbc-token" },
            "eye": { "type": "theeye", "url": "http://127.0.0.1:1/", "customer": "acme", "accessTokenSecret": "eye-token" }
          },
          "triggers": {
            "load": { "platform": "kbc", "keboola": { "component": "keboola.ex-db", "config": "42" } },
            "report": {
              "platform": "eye",
              "arguments": { "source": { "from": "event:$.job.id", "required": true } },
              "theeye": { "task": "report-task", "taskArguments": ["{{source}}"] },
              "after": [{ "trigger": "load" }]
            }
          }
        }
        """;

    private readonly string _folder = Directory.CreateTempSubdirectory("jobrelay-watch-process-").FullName;
    private readonly List<CliProcess> _processes = [];
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private ScriptedPlatforms _platforms = null!;
    private string _catalog = null!;

    public async Task InitializeAsync()
    {
        _platforms = await ScriptedPlatforms.StartAsync();
        _catalog = Path.Combine(_folder, "triggers.json");
        await File.WriteAllTextAsync(_catalog, Catalog);
        _http.DefaultRequestHeaders.Add(RelayEndpoints.ApiKeyHeader, ApiKey);
    }

    public async Task DisposeAsync()
    {
        foreach (var process in _processes)
        {
            process.Dispose();
        }

        await _platforms.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    public void Dispose() => _http.Dispose();

    [Fact]
    public async Task TwoServeProcessesOnOneDataFolderStartEachParentsFollowerOnce()
    {
        var first = await ServeAsync();
        var second = await ServeAsync();
        var parents = new List<(Uri Host, string RunId, string JobId)>();
        for (var i = 0; i < 10; i++)
        {
            var host = i % 2 == 0 ? first : second;
            var (runId, jobId) = await StartLoadAsync(host);
            parents.Add((host, runId, jobId));
        }

        foreach (var parent in parents)
        {
            _platforms.Set(parent.JobId, "success");
        }

        foreach (var parent in parents)
        {
            await WaitForWatchAsync(parent.Host == first ? second : first, parent.RunId, "ended");
        }

        var followed = FollowerStarts();
        Assert.Equal(parents.Select(p => p.JobId).Order(StringComparer.Ordinal), followed.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task TheProcessHoldingTheWatchKilledMidReadIsTakenOverByAnotherAndTheFollowerStartsOnce()
    {
        var holder = await ServeAsync();
        var (runId, jobId) = await StartLoadAsync(holder);
        _platforms.Hang(jobId);
        await UntilAsync(() => _platforms.Reads(jobId) >= 1, "the first process to read the job");

        _processes[0].Kill();
        _platforms.Set(jobId, "success");
        _platforms.Heal(jobId);
        var other = await ServeAsync();
        await WaitForWatchAsync(other, runId, "ended");

        Assert.Equal([jobId], FollowerStarts());
        Assert.True(_platforms.Reads(jobId) >= 2);
    }

    [Fact]
    public async Task AProcessKilledWhileTheParentRunsAndStartedAgainAfterItEndedStartsTheFollowerOnce()
    {
        var serve = await ServeAsync();
        var (runId, jobId) = await StartLoadAsync(serve);
        await UntilAsync(() => _platforms.Reads(jobId) >= 1, "a read of the running job");

        _processes[0].Kill();
        _platforms.Set(jobId, "success");
        var again = await ServeAsync();
        await WaitForWatchAsync(again, runId, "ended");

        Assert.Equal([jobId], FollowerStarts());
        using var response = await _http.GetAsync(new Uri(again, $"api/runs/{runId}"));
        var run = (await response.Content.ReadFromJsonAsync<JsonObject>())!["run"]!;
        Assert.Equal("succeeded", (string?)run["jobStatus"]!["state"]);
        Assert.Equal(90.0, (double?)run["watch"]!["durationSeconds"]);
    }

    /// <summary>The job ids the followers were started with, one per TheEye start.</summary>
    private List<string> FollowerStarts()
        => [.. _platforms.TheEye.Requests.Where(r => r.Method == "POST").Select(r => JsonNode.Parse(r.Body)!["task_arguments"]![0]!.ToString())];

    private async Task<(string RunId, string JobId)> StartLoadAsync(Uri host)
    {
        using var response = await _http.PostAsync(new Uri(host, "api/triggers/load/runs"), null);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        return ((string)body["runId"]!, (string)body["jobId"]!);
    }

    private async Task WaitForWatchAsync(Uri host, string runId, string state)
    {
        string? seen = null;
        await UntilAsync(
            async () =>
            {
                using var response = await _http.GetAsync(new Uri(host, $"api/runs/{runId}"));
                seen = (string?)(await response.Content.ReadFromJsonAsync<JsonObject>())?["run"]?["watch"]?["state"];
                return seen == state;
            },
            $"run {runId}'s watch to be {state} (last seen {seen})");
    }

    private static Task UntilAsync(Func<bool> condition, string what) => UntilAsync(() => Task.FromResult(condition()), what);

    private static async Task UntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("Waited a minute for " + what + ".");
            }

            await Task.Delay(50);
        }
    }

    private async Task<Uri> ServeAsync()
    {
        var address = new Uri($"http://127.0.0.1:{LoopbackServer.FreePort()}/");
        var process = CliProcess.Start(
            _folder,
            new Dictionary<string, string>
            {
                ["JobRelay__Secrets__Values__kbc-token"] = KeboolaToken,
                ["JobRelay__Secrets__Values__eye-token"] = TheEyeToken,
                ["JobRelay__Catalog__PlatformUrls__kbc"] = _platforms.Keboola.BaseAddress.ToString(),
                ["JobRelay__Catalog__PlatformUrls__eye"] = _platforms.TheEye.BaseAddress.ToString(),
                ["JobRelay__Store__SweepInterval"] = "00:00:00.200",
                ["JobRelay__Watch__FirstCheck"] = "00:00:00.200",
                ["JobRelay__Watch__MaxInterval"] = "00:00:00.500",
                ["JobRelay__Watch__ReadTimeout"] = "00:00:02",
                ["JobRelay__Watch__Lease"] = "00:00:03",
                ["JobRelay__Platforms__Http__MaxRetries"] = "0",
            },
            "serve", "--urls", address.GetLeftPart(UriPartial.Authority), "--triggers", _catalog, "--data", Path.Combine(_folder, "data"), "--api-key", ApiKey);
        _processes.Add(process);
        await UntilAsync(
            async () =>
            {
                try
                {
                    using var health = await _http.GetAsync(new Uri(address, "api/health"));
                    return health.IsSuccessStatusCode;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            },
            "jobrelay serve to answer /api/health: " + process.Stderr);
        return address;
    }
}
