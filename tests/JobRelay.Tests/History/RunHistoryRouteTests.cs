using System.Globalization;
using System.Net;
using System.Text;
using JobRelay.History;
using JobRelay.State;
using JobRelay.Tests.Http;
using JobRelay.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace JobRelay.Tests.History;

/// <summary>The history routes of serve's endpoints, over the SQLite store, with both platforms played on loopback.</summary>
public sealed class RunHistoryRouteTests : IAsyncLifetime
{
    private const string EventToken = "kbc-event-token-9e9e";
    private const string TheEyeJobSecret = "eye-job-secret-a1b2c3d4";

    private static readonly string Catalog = new CatalogBuilder()
        .Keboola(eventSecret: "kbc-events")
        .TheEye()
        .CommitHook("ingest")
        .Trigger("report", """{ "platform": "eye", "theeye": { "task": "report-task" }, "after": [{ "trigger": "ingest" }] }""")
        .KeboolaJob("load", "7")
        .TheEyeTask("notify", "notify-task")
        .Trigger("hourly", """{ "platform": "kbc", "keboola": { "component": "keboola.ex-db", "config": "8" }, "schedule": { "cron": "0 0 * * * *" } }""")
        .Build();

    private LoopbackPlatforms _platforms = null!;
    private RelayHost _host = null!;

    public async Task InitializeAsync()
    {
        _platforms = await LoopbackPlatforms.StartAsync(new LoopbackPlatformOptions
        {
            FirstJobId = 5001,
            TheEyeJobId = "64f0000000000000000000cc",
            TheEyeTask = "notify-task",
            TheEyeJobSecret = TheEyeJobSecret,
        });
        _host = await RelayHost.StartAsync(
            Catalog,
            _platforms.Urls,
            new Dictionary<string, string?> { ["JobRelay:Secrets:Values:kbc-events"] = EventToken });
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _platforms.DisposeAsync();
    }

    [Fact]
    public async Task AChainedRunShowsTheWebhookRunAsItsParentAndTheWebhookRunShowsItAsAFollower()
    {
        using var hook = await _host.PostHookAsync("ingest", """{"sha":"abc123"}""", ("X-JobRelay-Token", RelayHost.HookToken), ("X-Delivery", "gh-delivery-1"));
        var started = await RelayHost.JsonAsync(hook);
        var parentRunId = (string)started["runId"]!;
        var jobId = (string)started["jobId"]!;
        using var jobEnd = await _host.Client.PostAsync(
            new Uri($"/api/events/kbc?token={EventToken}", UriKind.Relative),
            new StringContent(KeboolaEvent(jobId, "job-succeeded"), Encoding.UTF8, "application/json"));
        var followerRunId = (string)(await RelayHost.JsonAsync(jobEnd))["runs"]![0]!["runId"]!;

        using var parentResponse = await _host.GetAsync($"/api/runs/{parentRunId}");
        using var followerResponse = await _host.GetAsync($"/api/runs/{followerRunId}");
        var parent = await RelayHost.JsonAsync(parentResponse);
        var follower = await RelayHost.JsonAsync(followerResponse);

        Assert.Equal(HttpStatusCode.Accepted, hook.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, jobEnd.StatusCode);
        Assert.Equal(HttpStatusCode.OK, parentResponse.StatusCode);
        Assert.Equal("ingest", (string?)parent["run"]!["trigger"]);
        Assert.Equal("webhook", (string?)parent["run"]!["origin"]);
        Assert.Equal("started", (string?)parent["run"]!["state"]);
        Assert.Equal("delivery:gh-delivery-1", (string?)parent["run"]!["deliveryKey"]);
        Assert.Equal("abc123", (string?)parent["run"]!["arguments"]!["sha"]);
        Assert.Equal($"/api/runs/{parentRunId}", (string?)parent["run"]!["links"]!["self"]);
        Assert.Equal("webhook", (string?)parent["cause"]!["kind"]);
        Assert.Equal("delivery:gh-delivery-1", (string?)parent["cause"]!["deliveryKey"]);
        Assert.Null(parent["parent"]);
        var listed = Assert.Single(parent["followers"]!.AsArray());
        Assert.Equal(followerRunId, (string?)listed!["runId"]);
        Assert.Equal("report", (string?)listed["trigger"]);
        Assert.Empty(parent["history"]!.AsArray());

        Assert.Equal("chain", (string?)follower["run"]!["origin"]);
        Assert.Equal(parentRunId, (string?)follower["run"]!["parentRunId"]);
        Assert.Equal($"chain-event:kbc/{jobId}", (string?)follower["run"]!["deliveryKey"]);
        Assert.Equal("chain", (string?)follower["cause"]!["kind"]);
        Assert.Equal(parentRunId, (string?)follower["cause"]!["parentRunId"]);
        Assert.Equal(parentRunId, (string?)follower["parent"]!["runId"]);
        Assert.Equal("webhook", (string?)follower["parent"]!["origin"]);
        Assert.Empty(follower["followers"]!.AsArray());
    }

    [Fact]
    public async Task TheJobStatusIsReadFromThePlatformOnDemandAndCachedOnTheRun()
    {
        using var run = await _host.PostRunAsync("load");
        var runId = (string)(await RelayHost.JsonAsync(run))["runId"]!;
        using var before = await _host.GetAsync("/api/runs?trigger=load");

        using var detail = await _host.GetAsync($"/api/runs/{runId}");
        using var after = await _host.GetAsync("/api/runs?trigger=load");

        var cachedBefore = (await RelayHost.JsonAsync(before))["runs"]![0]!["jobStatus"]!;
        var read = (await RelayHost.JsonAsync(detail))["run"]!["jobStatus"]!;
        var cachedAfter = (await RelayHost.JsonAsync(after))["runs"]![0]!["jobStatus"]!;
        Assert.Equal("queued", (string?)cachedBefore["state"]);
        Assert.Equal("created", (string?)cachedBefore["raw"]);
        Assert.Null(cachedBefore["checkedAt"]);
        Assert.Equal("succeeded", (string?)read["state"]);
        Assert.Equal("success", (string?)read["raw"]);
        Assert.NotNull(read["checkedAt"]);
        Assert.Equal(read.ToJsonString(), cachedAfter.ToJsonString());
        var statusRead = Assert.Single(_platforms.Keboola.Requests, r => r.Method == "GET");
        Assert.Equal("/jobs/5001", statusRead.Path);
        Assert.Equal(RelayHost.KeboolaToken, statusRead.Header("X-StorageApi-Token"));
        Assert.Equal(string.Empty, statusRead.Body);
    }

    [Fact]
    public async Task RunsArePagedNewestFirstAcrossSeveralPagesWithACursor()
    {
        var started = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            using var run = await _host.PostRunAsync("load");
            started.Add((string)(await RelayHost.JsonAsync(run))["runId"]!);
        }

        var seen = new List<string>();
        var pages = 0;
        string? next = null;
        do
        {
            using var page = await _host.GetAsync("/api/runs?trigger=load&limit=2" + (next is null ? "" : "&cursor=" + Uri.EscapeDataString(next)));
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            var body = await RelayHost.JsonAsync(page);
            seen.AddRange(body["runs"]!.AsArray().Select(r => (string)r!["runId"]!));
            next = (string?)body["next"];
            pages++;
        }
        while (next is not null);

        started.Reverse();
        Assert.Equal(3, pages);
        Assert.Equal(started, seen);
    }

    [Theory]
    [InlineData("/api/runs?state=done", "state")]
    [InlineData("/api/runs?origin=email", "origin")]
    [InlineData("/api/runs?from=yesterday", "from")]
    [InlineData("/api/runs?to=2026-13-01T00:00:00Z", "to")]
    [InlineData("/api/runs?from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z", "to")]
    [InlineData("/api/runs?limit=0", "limit")]
    [InlineData("/api/runs?limit=201", "limit")]
    [InlineData("/api/runs?limit=ten", "limit")]
    [InlineData("/api/runs?cursor=not-a-cursor", "cursor")]
    [InlineData("/api/triggers/load/stats?window=P32D", "window")]
    [InlineData("/api/triggers/load/stats?window=24h", "window")]
    [InlineData("/api/triggers/load/stats?window=PT0S", "window")]
    public async Task EveryBadQueryValueIsAProblemNamingItsParameter(string path, string parameter)
    {
        using var response = await _host.GetAsync(path);

        var problem = await RelayHost.JsonAsync(response);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("urn:jobrelay:problem:invalid-input", (string?)problem["type"]);
        Assert.Equal(parameter, (string?)problem["parameter"]);
        Assert.StartsWith(parameter + " ", (string?)problem["detail"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task StatsCountStartedDuplicateAndRejectedDeliveriesAndTheStartLatency()
    {
        using var first = await _host.PostHookAsync("ingest", """{"sha":"s1"}""", ("X-JobRelay-Token", RelayHost.HookToken), ("X-Delivery", "d-1"));
        using var again = await _host.PostHookAsync("ingest", """{"sha":"s1"}""", ("X-JobRelay-Token", RelayHost.HookToken), ("X-Delivery", "d-1"));
        using var forged = await _host.PostHookAsync("ingest", """{"sha":"s2"}""", ("X-JobRelay-Token", "guess"), ("X-Delivery", "d-2"));
        await _host.Services.GetRequiredService<OutcomeCounter>().FlushAsync(_host.Services.GetRequiredService<IRelayStore>(), CancellationToken.None);

        using var response = await _host.GetAsync("/api/triggers/ingest/stats?window=PT1H");
        using var unknown = await _host.GetAsync("/api/triggers/nothing/stats");

        var stats = await RelayHost.JsonAsync(response);
        Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ingest", (string?)stats["trigger"]);
        Assert.Equal(TimeSpan.FromHours(1), DateTimeOffset.Parse((string)stats["to"]!, CultureInfo.InvariantCulture) - DateTimeOffset.Parse((string)stats["from"]!, CultureInfo.InvariantCulture));
        Assert.Equal(
            """{"started":1,"pending":0,"duplicate":1,"ignored":0,"rejected":1,"outcomeUnknown":0,"refused":0,"overdue":0}""",
            stats["counts"]!.ToJsonString());
        Assert.True((double)stats["startLatencyMs"]!["p50"]! >= 0);
        Assert.Equal((double)stats["startLatencyMs"]!["p50"]!, (double)stats["startLatencyMs"]!["p95"]!);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task TheBackgroundLoopWritesTheDuplicateCountsWithoutBeingAsked()
    {
        await using var host = await RelayHost.StartAsync(
            Catalog,
            _platforms.Urls,
            new Dictionary<string, string?> { ["JobRelay:Secrets:Values:kbc-events"] = EventToken, ["JobRelay:History:CountFlushInterval"] = "00:00:01" });
        using var first = await host.PostHookAsync("ingest", """{"sha":"s9"}""", ("X-JobRelay-Token", RelayHost.HookToken), ("X-Delivery", "d-9"));
        using var again = await host.PostHookAsync("ingest", """{"sha":"s9"}""", ("X-JobRelay-Token", RelayHost.HookToken), ("X-Delivery", "d-9"));

        long duplicates = 0;
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (duplicates == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
            using var stats = await host.GetAsync("/api/triggers/ingest/stats");
            duplicates = (long)(await RelayHost.JsonAsync(stats))["counts"]!["duplicate"]!;
        }

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(1, duplicates);
    }

    [Fact]
    public async Task NoHistoryRouteEverAnswersWithTheEyeJobSecret()
    {
        using var run = await _host.PostRunAsync("notify");
        var runId = (string)(await RelayHost.JsonAsync(run))["runId"]!;

        string[] paths = ["/api/runs", $"/api/runs/{runId}", "/api/runs?platform=eye", "/api/triggers/notify/stats", $"/api/runs/{runId}"];
        var bodies = new List<string>();
        foreach (var path in paths)
        {
            using var response = await _host.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            bodies.Add(await response.Content.ReadAsStringAsync());
        }

        Assert.Equal(HttpStatusCode.Accepted, run.StatusCode);
        Assert.Equal(TheEyeJobSecret, await _host.Services.GetRequiredService<IRelayStore>().FindJobSecretAsync("eye", "64f0000000000000000000cc", CancellationToken.None));
        Assert.All(bodies, body => Assert.DoesNotContain(TheEyeJobSecret, body, StringComparison.Ordinal));
        Assert.Contains("\"state\":\"succeeded\"", bodies[1], StringComparison.Ordinal);
        Assert.Contains(_platforms.TheEye.Requests, r => r.Method == "GET" && r.Path == "/acme/job/64f0000000000000000000cc");
    }

    [Fact]
    public async Task AnUnknownRunIsNotFoundAndEveryHistoryRouteNeedsTheKey()
    {
        using var unknown = await _host.GetAsync("/api/runs/no-such-run");
        using var list = await _host.GetAsync("/api/runs", apiKey: null);
        using var detail = await _host.GetAsync("/api/runs/no-such-run", apiKey: "wrong");
        using var stats = await _host.GetAsync("/api/triggers/load/stats", apiKey: null);

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("urn:jobrelay:problem:not-found", (string?)(await RelayHost.JsonAsync(unknown))["type"]);
        Assert.Equal(HttpStatusCode.Unauthorized, list.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, detail.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, stats.StatusCode);
    }

    [Fact]
    public async Task TheCatalogListsTheNextThreeOccurrencesOfEveryScheduledTrigger()
    {
        var before = DateTimeOffset.UtcNow;
        using var response = await _host.GetAsync("/api/triggers");

        var triggers = (await RelayHost.JsonAsync(response))["triggers"]!.AsArray();
        var hourly = triggers.Single(t => (string?)t!["name"] == "hourly")!;
        var next = hourly["nextOccurrences"]!.AsArray().Select(t => DateTimeOffset.Parse((string)t!, CultureInfo.InvariantCulture)).ToList();
        var firstHour = new DateTimeOffset(before.Year, before.Month, before.Day, before.Hour, 0, 0, TimeSpan.Zero).AddHours(1);

        Assert.Equal([firstHour, firstHour.AddHours(1), firstHour.AddHours(2)], next);
        Assert.Null(triggers.Single(t => (string?)t!["name"] == "load")!["nextOccurrences"]);
    }

    private static string KeboolaEvent(string jobId, string eventType)
        => $$$"""{"job":{"id":"{{{jobId}}}","url":"https://queue.keboola.com/jobs/{{{jobId}}}","component":{"id":"keboola.ex-db"},"configuration":{"id":"42"}},"branch":{"id":"1"},"project":{"id":"7","name":"p"},"eventType":"{{{eventType}}}"}""";
}
