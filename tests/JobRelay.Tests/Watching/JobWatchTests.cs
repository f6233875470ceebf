using Microsoft.Extensions.Time.Testing;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using JobRelay.Runs;
using JobRelay.State;
using JobRelay.Tests.Http;
using JobRelay.Tests.Scheduling;
using Microsoft.Extensions.DependencyInjection;

namespace JobRelay.Tests.Watching;

/// <summary>
/// The watch follows every started job to its end through the real pipeline: Kestrel platforms on loopback, the SQLite
/// store on disk, and a clock that moves only when the test moves it. A job's end starts its chain's follower exactly
/// once, whether the watch alone sees it, a notification sees it first, or both at once.
/// </summary>
public sealed class JobWatchTests : IAsyncLifetime
{
    internal const string EventToken = "kbc-event-token-watch-71";

    internal const string Catalog = """
        {
          "platforms": {
            "kbc": { "type": "keboola", "url": "http://127.0.0.1:1/", "tokenSecret": "kbc-token", "eventSecret": "kbc-events" },
            "eye": { "type": "theeye", "url": "http://127.0.0.1:1/", "customer": "acme", "accessTokenSecret": "eye-token" }
          },
          "triggers": {
            "load": { "platform": "kbc", "keboola": { "component": "keboola.ex-db", "config": "42" } },
            "report": {
              "platform": "eye",
              "arguments": { "source": { "from": "event:$.job.id", "required": true } },
              "theeye": { "task": "report-task", "taskArguments": ["{{source}}"] },
              "after": [{ "trigger": "load" }]
            },
            "eye-task": { "platform": "eye", "theeye": { "task": "eye-task" }, "watch": { "firstCheck": "PT5S", "maxInterval": "PT20S" } },
            "slow": { "platform": "kbc", "keboola": { "component": "keboola.ex-slow", "config": "9" }, "maxDuration": "PT1M", "onTimeout": "cancel" },
            "slow-eye": { "platform": "eye", "theeye": { "task": "slow-task" }, "maxDuration": "PT1M", "onTimeout": "cancel" },
            "slow-mark": { "platform": "kbc", "keboola": { "component": "keboola.ex-slow", "config": "10" }, "maxDuration": "PT1M" },
            "after-eye": {
              "platform": "kbc",
              "keboola": { "component": "keboola.wr-db", "config": "7" },
              "after": [{ "trigger": "eye-task", "states": ["succeeded"] }]
            }
          }
        }
        """;

    internal static readonly DateTimeOffset Start = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _clock = new(Start);
    private ScriptedPlatforms _platforms = null!;
    private RelayHost _host = null!;

    public async Task InitializeAsync()
    {
        _platforms = await ScriptedPlatforms.StartAsync();
        _host = await StartHostAsync(_platforms, _clock);
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _platforms.DisposeAsync();
    }

    internal static Task<RelayHost> StartHostAsync(ScriptedPlatforms platforms, TimeProvider clock, IReadOnlyDictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null)
    {
        var all = new Dictionary<string, string?>
        {
            ["JobRelay:Secrets:Values:kbc-events"] = EventToken,
            ["JobRelay:Platforms:Http:MaxRetries"] = "0",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        return RelayHost.StartAsync(
            Catalog,
            new Dictionary<string, Uri> { ["kbc"] = platforms.Keboola.BaseAddress, ["eye"] = platforms.TheEye.BaseAddress },
            all,
            s =>
            {
                s.AddSingleton(clock);
                services?.Invoke(s);
            });
    }

    [Fact]
    public async Task TheStartArmsTheWatchInTheSameWriteWithTheFirstCheckTenSecondsLater()
    {
        var (runId, _) = await StartAsync("load");

        var run = await Store().FindRunAsync(runId, CancellationToken.None);

        Assert.Equal(WatchState.Watching, run!.Watch);
        Assert.Equal(Start.AddSeconds(10), run.WatchNextAt);
        Assert.Empty(await Store().ListWatchesDueAsync(Start.AddSeconds(9), 10, CancellationToken.None));
    }

    [Fact]
    public async Task TheWatchAloneSeesTheEndAndStartsTheFollowerOnceWithTheJobId()
    {
        var (runId, jobId) = await StartAsync("load");

        _clock.Advance(TimeSpan.FromSeconds(10));
        var running = await Watch().CheckDueAsync(CancellationToken.None);
        _platforms.Set(jobId, "success");
        _clock.Advance(TimeSpan.FromSeconds(20));
        var ended = await Watch().CheckDueAsync(CancellationToken.None);
        _clock.Advance(TimeSpan.FromMinutes(5));
        var after = await Watch().CheckDueAsync(CancellationToken.None);

        Assert.Equal(1, running.Running);
        Assert.Equal(1, ended.Ended);
        Assert.Equal(1, after.Running); // the follower's own job, followed in turn; the ended job is read no more
        var start = Assert.Single(_platforms.TheEye.Requests, r => r.Method == "POST");
        Assert.Equal("/job", start.Path);
        Assert.Equal($$"""{"task":"report-task","task_arguments":["{{jobId}}"]}""", start.Body);
        Assert.Equal(2, _platforms.Reads(jobId));
        var run = await Store().FindRunAsync(runId, CancellationToken.None);
        Assert.Equal(WatchState.Ended, run!.Watch);
        Assert.Equal(JobRelay.Model.JobState.Succeeded, run.JobState);
        Assert.Equal("success", run.RawStatus);
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 12, 1, 30, TimeSpan.Zero), run.JobFinishedAt);
    }

    [Fact]
    public async Task TheEndShowsInTheRunsRouteWithItsDurationWithoutAnyoneReadingTheJob()
    {
        var (runId, jobId) = await StartAsync("load");
        _platforms.Set(jobId, "error");
        _clock.Advance(TimeSpan.FromSeconds(10));
        await Watch().CheckDueAsync(CancellationToken.None);

        using var list = await _host.GetAsync("/api/runs?trigger=load");
        using var detail = await _host.GetAsync($"/api/runs/{runId}");

        var listed = (await RelayHost.JsonAsync(list))["runs"]![0]!;
        Assert.Equal("failed", (string?)listed["jobStatus"]!["state"]);
        Assert.Equal("error", (string?)listed["jobStatus"]!["raw"]);
        Assert.Equal("ended", (string?)listed["watch"]!["state"]);
        Assert.Equal(90.0, (double?)listed["watch"]!["durationSeconds"]);
        Assert.Equal("ended", (string?)(await RelayHost.JsonAsync(detail))["run"]!["watch"]!["state"]);
    }

    [Fact]
    public async Task AJobStillRunningIsReadAgainAtWaitsThatDoubleUpToTheTriggersMaxInterval()
    {
        var (runId, _) = await StartAsync("eye-task");
        var checks = new List<DateTimeOffset?>();

        for (var i = 0; i < 5; i++)
        {
            var run = await Store().FindRunAsync(runId, CancellationToken.None);
            checks.Add(run!.WatchNextAt);
            _clock.Advance(run.WatchNextAt!.Value - _clock.GetUtcNow());
            await Watch().CheckDueAsync(CancellationToken.None);
        }

        Assert.Equal([Start.AddSeconds(5), Start.AddSeconds(15), Start.AddSeconds(35), Start.AddSeconds(55), Start.AddSeconds(75)], checks);
    }

    [Fact]
    public async Task ANotificationFirstThenTheWatchStartsTheFollowerOnce()
    {
        var (runId, jobId) = await StartAsync("load");
        _platforms.Set(jobId, "success");

        using var notified = await PostEventAsync(jobId);
        _clock.Advance(TimeSpan.FromSeconds(10));
        var watched = await Watch().CheckDueAsync(CancellationToken.None);

        Assert.Equal(HttpStatusCode.Accepted, notified.StatusCode);
        Assert.Equal("started", (string?)(await RelayHost.JsonAsync(notified))["status"]);
        Assert.Equal(1, watched.Ended);
        Assert.Single(_platforms.TheEye.Requests, r => r.Method == "POST");
        var followers = await Store().ListFollowersAsync(runId, CancellationToken.None);
        Assert.Equal("report", Assert.Single(followers).Trigger);
    }

    [Fact]
    public async Task TheWatchFirstThenANotificationStartsTheFollowerOnceAndTheNotificationIsADuplicate()
    {
        var (_, jobId) = await StartAsync("load");
        _platforms.Set(jobId, "success");

        _clock.Advance(TimeSpan.FromSeconds(10));
        await Watch().CheckDueAsync(CancellationToken.None);
        using var notified = await PostEventAsync(jobId);

        Assert.Equal("duplicate", (string?)(await RelayHost.JsonAsync(notified))["status"]);
        Assert.Single(_platforms.TheEye.Requests, r => r.Method == "POST");
    }

    [Fact]
    public async Task TheWatchAndNotificationsArrivingTogetherStartTheFollowerOnce()
    {
        var jobs = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            var (_, jobId) = await StartAsync("load");
            _platforms.Set(jobId, "success");
            jobs.Add(jobId);
        }

        _clock.Advance(TimeSpan.FromSeconds(10));
        var watching = Watch().CheckDueAsync(CancellationToken.None);
        var notifying = jobs.SelectMany(job => new[] { PostEventAsync(job), PostEventAsync(job) }).ToList();
        await WhileMovingTheClock(Task.WhenAll(notifying.Cast<Task>().Append(watching)));
        foreach (var response in notifying)
        {
            (await response).Dispose();
        }

        var starts = _platforms.TheEye.Requests.Where(r => r.Method == "POST").Select(r => JsonNode.Parse(r.Body)!["task_arguments"]![0]!.ToString()).ToList();
        Assert.Equal(jobs.Order(StringComparer.Ordinal), starts.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task AFollowerANotificationIsStartingKeepsTheWatchUntilItIsDecidedAndTheWatchStartsItOnceTheNotificationsStartIsRefused()
    {
        await using var host = await StartHostAsync(_platforms, _clock, new Dictionary<string, string?> { ["JobRelay:Store:InFlightWait"] = "00:00:01" });
        var (runId, jobId) = await StartRunAsync(host, "load");
        _platforms.Set(jobId, "success");
        var arrived = _platforms.HoldNextTheEyeStart();
        var store = host.Services.GetRequiredService<IRelayStore>();
        var watch = host.Services.GetRequiredService<IJobWatch>();

        _clock.Advance(TimeSpan.FromSeconds(10));
        var notifying = PostEventAsync(host, jobId);
        await arrived;
        var meetingTheNotification = watch.CheckDueAsync(CancellationToken.None);
        await WhileMovingTheClock(meetingTheNotification);
        var whileInFlight = await FindRunAsync(host, runId);
        _platforms.AnswerHeldStart(400);
        using var refused = await notifying;
        var afterTheRefusal = await store.ListFollowersAsync(runId, CancellationToken.None);
        _clock.Advance(TimeSpan.FromMinutes(10));
        var seeingTheEndAgain = await watch.CheckDueAsync(CancellationToken.None);

        Assert.Equal(1, (await meetingTheNotification).Failed);
        Assert.Equal(WatchState.Watching, whileInFlight.Watch);
        Assert.Equal(HttpStatusCode.BadGateway, refused.StatusCode);
        Assert.Equal("urn:jobrelay:problem:platform-rejected", (string?)(await RelayHost.JsonAsync(refused))["type"]);
        Assert.Empty(afterTheRefusal);
        Assert.Equal(1, seeingTheEndAgain.Ended);
        var follower = Assert.Single(await store.ListFollowersAsync(runId, CancellationToken.None));
        Assert.Equal(("report", RunState.Started), (follower.Trigger, follower.State));
        Assert.Equal(2, _platforms.TheEye.Requests.Count(r => r.Method == "POST" && r.Path == "/job"));
        Assert.Equal(WatchState.Ended, (await FindRunAsync(host, runId)).Watch);
    }

    [Fact]
    public async Task ATheEyeJobsEndStartsItsKeboolaFollowerFromTheWatchWithNoEventSecret()
    {
        var (_, jobId) = await StartAsync("eye-task");
        _platforms.Set(jobId, "finished/success");

        _clock.Advance(TimeSpan.FromSeconds(5));
        var report = await Watch().CheckDueAsync(CancellationToken.None);

        Assert.Equal(1, report.Ended);
        var start = Assert.Single(_platforms.Keboola.Requests, r => r.Method == "POST");
        Assert.Equal("""{"component":"keboola.wr-db","mode":"run","config":"7"}""", start.Body);
        Assert.Equal("Bearer " + RelayHost.TheEyeToken, Assert.Single(_platforms.TheEye.Requests, r => r.Method == "GET").Header("Authorization"));
    }

    [Fact]
    public async Task TwoInstancesCheckingTheSameDueWatchesReadEachJobOnceAndStartEachFollowerOnce()
    {
        var jobs = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            var (_, jobId) = await StartAsync("load");
            _platforms.Set(jobId, "success");
            jobs.Add(jobId);
        }

        await using var other = await StartHostAsync(_platforms, _clock, new Dictionary<string, string?> { ["JobRelay:Store:DataFolder"] = DataFolder() });
        _clock.Advance(TimeSpan.FromSeconds(10));
        var both = Task.WhenAll(Watch().CheckDueAsync(CancellationToken.None), other.Services.GetRequiredService<IJobWatch>().CheckDueAsync(CancellationToken.None));
        await WhileMovingTheClock(both);
        var reports = await both;

        Assert.Equal(10, reports.Sum(r => r.Ended));
        Assert.All(jobs, job => Assert.Equal(1, _platforms.Reads(job)));
        Assert.Equal(10, _platforms.TheEye.Requests.Count(r => r.Method == "POST"));
    }

    [Fact]
    public async Task OneTickChecksEveryDueWatchOnceEvenWhenMoreAreDueThanOneBatchHolds()
    {
        await using var host = await StartHostAsync(_platforms, _clock, new Dictionary<string, string?> { ["JobRelay:Watch:BatchSize"] = "2" });
        var started = new List<(string RunId, string JobId)>();
        for (var i = 0; i < 5; i++)
        {
            started.Add(await StartRunAsync(host, "load"));
        }

        _platforms.Set(started[0].JobId, "success");
        _clock.Advance(TimeSpan.FromSeconds(10));

        var report = await host.Services.GetRequiredService<IJobWatch>().CheckDueAsync(CancellationToken.None);

        Assert.Equal(new WatchReport(Due: 5, Checked: 5, Ended: 1, Running: 4, Failed: 0, Lost: 0, Abandoned: 0, Deferred: 0), report);
        Assert.All(started, job => Assert.Equal(1, _platforms.Reads(job.JobId)));
        foreach (var (runId, _) in started.Skip(1))
        {
            var run = await FindRunAsync(host, runId);
            Assert.Equal((WatchState.Watching, 1, Start.AddSeconds(30)), (run.Watch, run.WatchChecks, run.WatchNextAt));
        }

        var store = host.Services.GetRequiredService<IRelayStore>();
        Assert.Empty(await store.ListWatchesDueAsync(_clock.GetUtcNow(), 10, CancellationToken.None));
    }

    [Fact]
    public async Task TwoInstancesDrainingSmallBatchesAtOnceReadEachDueJobOnceBetweenThem()
    {
        var settings = new Dictionary<string, string?> { ["JobRelay:Watch:BatchSize"] = "3" };
        await using var first = await StartHostAsync(_platforms, _clock, settings);
        var folder = first.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<StoreOptions>>().Value.DataFolder;
        await using var second = await StartHostAsync(_platforms, _clock, new Dictionary<string, string?>(settings) { ["JobRelay:Store:DataFolder"] = folder });
        var jobs = new List<string>();
        for (var i = 0; i < 12; i++)
        {
            var (_, jobId) = await StartRunAsync(i % 2 == 0 ? first : second, "load");
            _platforms.Set(jobId, "success");
            jobs.Add(jobId);
        }

        _clock.Advance(TimeSpan.FromSeconds(10));
        var both = Task.WhenAll(
            first.Services.GetRequiredService<IJobWatch>().CheckDueAsync(CancellationToken.None),
            second.Services.GetRequiredService<IJobWatch>().CheckDueAsync(CancellationToken.None));
        await WhileMovingTheClock(both);
        var reports = await both;

        Assert.Equal(12, reports.Sum(r => r.Ended));
        Assert.All(jobs, job => Assert.Equal(1, _platforms.Reads(job)));
        Assert.Equal(12, _platforms.TheEye.Requests.Count(r => r.Method == "POST"));
    }

    /// <summary>
    /// Moves the clock in small steps until <paramref name="work"/> completes: a start that meets another in flight waits
    /// for it on the clock.
    /// </summary>
    private async Task WhileMovingTheClock(Task work)
    {
        while (!work.IsCompleted)
        {
            _clock.Advance(TimeSpan.FromMilliseconds(10));
            await Task.WhenAny(work, Task.Delay(5));
        }

        await work;
    }

        private IRelayStore Store() => _host.Services.GetRequiredService<IRelayStore>();

    private IJobWatch Watch() => _host.Services.GetRequiredService<IJobWatch>();

    private string DataFolder() => _host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<StoreOptions>>().Value.DataFolder;

    private Task<(string RunId, string JobId)> StartAsync(string trigger) => StartRunAsync(_host, trigger);

    /// <summary>Starts a run of <paramref name="trigger"/> through the API; its run id and its job's id.</summary>
    internal static async Task<(string RunId, string JobId)> StartRunAsync(RelayHost host, string trigger)
    {
        using var response = await host.PostRunAsync(trigger);
        var body = await RelayHost.JsonAsync(response);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return ((string)body["runId"]!, (string)body["jobId"]!);
    }

    /// <summary>The run as the host's store holds it now.</summary>
    internal static async Task<RunRecord> FindRunAsync(RelayHost host, string runId)
        => (await host.Services.GetRequiredService<IRelayStore>().FindRunAsync(runId, CancellationToken.None))!;

    private Task<HttpResponseMessage> PostEventAsync(string jobId) => PostEventAsync(_host, jobId);

    private static Task<HttpResponseMessage> PostEventAsync(RelayHost host, string jobId)
        => host.Client.PostAsync(
            new Uri($"/api/events/kbc?token={EventToken}", UriKind.Relative),
            new StringContent(new JsonObject
            {
                ["job"] = new JsonObject { ["id"] = jobId, ["component"] = new JsonObject { ["id"] = "keboola.ex-db" }, ["configuration"] = new JsonObject { ["id"] = "42" } },
                ["eventType"] = "job-succeeded",
            }.ToJsonString(), Encoding.UTF8, "application/json"));
}
