using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using JobRelay.Chaining;
using JobRelay.Model;
using JobRelay.Tests.Http;
using JobRelay.Tests.Support;
using JobRelay.Triggers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace JobRelay.Tests.Chaining;

public sealed class ChainingTests : IAsyncLifetime
{
    private const string EventToken = "kbc-event-token-4c4c";

    private const string Catalog = """
        {
          "platforms": {
            "kbc": { "type": "keboola", "url": "http://127.0.0.1:1/", "tokenSecret": "kbc-token", "eventSecret": "kbc-events" },
            "eye": { "type": "theeye", "url": "http://127.0.0.1:1/", "customer": "acme", "accessTokenSecret": "eye-token", "eventSecret": "kbc-events" }
          },
          "triggers": {
            "load": { "platform": "kbc", "keboola": { "component": "keboola.ex-db", "config": "42" } },
            "report": {
              "platform": "eye",
              "arguments": { "source": { "from": "event:$.job.id", "required": true } },
              "theeye": { "task": "report-task", "taskArguments": ["{{source}}"] },
              "after": [{ "trigger": "load" }]
            },
            "alert": {
              "platform": "eye",
              "theeye": { "task": "alert-task" },
              "after": [{ "platform": "kbc", "component": "keboola.ex-db", "states": ["failed"] }]
            },
            "after-task": {
              "platform": "kbc",
              "keboola": { "component": "keboola.wr-db", "config": "7" },
              "after": [{ "platform": "eye", "task": "report-task", "states": ["succeeded"] }]
            }
          }
        }
        """;

    private LoopbackServer _keboola = null!;
    private LoopbackServer _theEye = null!;
    private RelayHost _host = null!;

    public async Task InitializeAsync()
    {
        _keboola = await LoopbackServer.StartAsync(app => app.MapPost("/jobs", () => Results.Json(new JsonObject { ["id"] = "2001", ["status"] = "created", ["isFinished"] = false }, statusCode: 201)));
        _theEye = await LoopbackServer.StartAsync(app => app.MapPost("/job", () => Results.Json(new JsonObject { ["id"] = "64f0000000000000000000aa", ["state"] = "in_progress", ["lifecycle"] = "ready" })));
        _host = await RelayHost.StartAsync(
            Catalog,
            new Dictionary<string, Uri> { ["kbc"] = _keboola.BaseAddress, ["eye"] = _theEye.BaseAddress },
            new Dictionary<string, string?> { ["JobRelay:Secrets:Values:kbc-events"] = EventToken });
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _keboola.DisposeAsync();
        await _theEye.DisposeAsync();
    }

    [Fact]
    public async Task AKeboolaSuccessNotificationStartsTheFollowUpWithTheJobId()
    {
        using var response = await PostEvent("kbc", KeboolaEvent("1001", "job-succeeded"));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await RelayHost.JsonAsync(response);
        Assert.Equal("started", (string?)body["status"]);
        Assert.Equal("report", (string?)body["runs"]![0]!["trigger"]);
        var sent = Assert.Single(_theEye.Requests);
        Assert.Equal("""{"task":"report-task","task_arguments":["1001"]}""", sent.Body);
        Assert.Empty(_keboola.Requests);
    }

    [Fact]
    public async Task AKeboolaFailureStartsOnlyTheRulesThatListFailure()
    {
        using var response = await PostEvent("kbc", KeboolaEvent("1002", "job-failed"));

        var sent = Assert.Single(_theEye.Requests);
        Assert.Contains("alert-task", sent.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ATheeyeJobEndCallStartsTheKeboolaFollowUp()
    {
        using var response = await PostEvent("eye", """{"job":{"id":"64f0000000000000000000bb","task_id":"report-task","state":"success","lifecycle":"finished"}}""");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Contains("keboola.wr-db", Assert.Single(_keboola.Requests).Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARedeliveredEventStartsNothingTwice()
    {
        using var first = await PostEvent("kbc", KeboolaEvent("1003", "job-succeeded"));
        using var second = await PostEvent("kbc", KeboolaEvent("1003", "job-succeeded"));

        Assert.Equal("duplicate", (string?)(await RelayHost.JsonAsync(second))["status"]);
        Assert.Single(_theEye.Requests);
    }

    [Theory]
    [InlineData("job-processing-long", "is not a job's end")]
    [InlineData("job-succeeded-with-warning", null)]
    public async Task EventsThatAreNotAJobEndAreIgnored(string eventType, string? reason)
    {
        using var response = await PostEvent("kbc", KeboolaEvent("1004", eventType));

        var body = await RelayHost.JsonAsync(response);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        if (reason is null)
        {
            Assert.Equal("started", (string?)body["status"]);
        }
        else
        {
            Assert.Contains(reason, (string?)body["reason"], StringComparison.Ordinal);
            Assert.Empty(_theEye.Requests);
        }
    }

    [Fact]
    public async Task AnEventWithoutTheTokenIsRefusedAndStartsNothing()
    {
        using var response = await _host.Client.PostAsync(new Uri("/api/events/kbc?token=guess", UriKind.Relative), Json(KeboolaEvent("1005", "job-succeeded")));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Empty(_theEye.Requests);
    }

    [Theory]
    [InlineData("""{"eventType":"job-succeeded"}""", "\"job\" object")]
    [InlineData("""{"job":{"id":"1"}}""", "eventType")]
    [InlineData("""{"job":""", "not valid JSON")]
    public async Task AMalformedEventIsAClear400(string body, string message)
    {
        using var response = await PostEvent("kbc", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(message, (string?)(await RelayHost.JsonAsync(response))["detail"], StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task APlatformWithoutAnEventSecretTakesNoEvents()
    {
        using var response = await PostEvent("nowhere", KeboolaEvent("1", "job-succeeded"));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public void RulesMatchByTriggerComponentConfigTaskAndState()
    {
        var catalog = TriggerCatalogLoader.Parse(Catalog).Catalog!;
        var ended = new JobEndEvent("kbc", "1", JobState.Succeeded, "job-succeeded", new JsonObject()) { Component = "keboola.ex-db", Config = "42" };

        Assert.Equal(["report"], ChainRules.Followers(catalog, ended).Select(t => t.Name));
        Assert.Equal(["alert"], ChainRules.Followers(catalog, ended with { State = JobState.Failed }).Select(t => t.Name));
        Assert.Empty(ChainRules.Followers(catalog, ended with { Config = "43" }));
        Assert.Empty(ChainRules.Followers(catalog, ended with { Platform = "eye" }));
    }

    [Fact]
    public async Task TheEventTokenInTheQueryStringReachesNoLogLine()
    {
        using var accepted = await PostEvent("kbc", KeboolaEvent("1101", "job-succeeded"));
        using var redelivered = await PostEvent("kbc", KeboolaEvent("1101", "job-succeeded"));
        using var refused = await _host.Client.PostAsync(new Uri($"/api/events/kbc?token={EventToken}x", UriKind.Relative), Json(KeboolaEvent("1102", "job-succeeded")));
        using var malformed = await PostEvent("kbc", "{\"job\":");

        Assert.True(accepted.IsSuccessStatusCode);
        Assert.True(redelivered.IsSuccessStatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Contains(_host.Logs.GetSnapshot(), log => log.Category?.StartsWith("JobRelay", StringComparison.Ordinal) == true);
        _host.Logs.AssertContainsNone(EventToken);
    }

    private static string KeboolaEvent(string jobId, string eventType)
        => $$$"""{"job":{"id":"{{{jobId}}}","url":"https://queue.keboola.com/jobs/{{{jobId}}}","component":{"id":"keboola.ex-db"},"configuration":{"id":"42"}},"branch":{"id":"1"},"project":{"id":"7","name":"p"},"eventType":"{{{eventType}}}"}""";

    private Task<HttpResponseMessage> PostEvent(string platform, string body)
        => _host.Client.PostAsync(new Uri($"/api/events/{platform}?token={EventToken}", UriKind.Relative), Json(body));

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}
