using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using JobRelay.Tests.Support;
using Microsoft.AspNetCore.Http;

namespace JobRelay.Tests.Http;

public sealed class HttpSurfaceTests : IAsyncLifetime
{
    private static readonly string Catalog = new CatalogBuilder()
        .Keboola()
        .TheEye()
        .Trigger("load", """
            {
              "platform": "kbc",
              "arguments": { "since": { "default": "yesterday", "overridable": true }, "fixed": { "default": "x" } },
              "keboola": { "component": "keboola.ex-db", "config": "42", "variables": { "since": "{{since}}", "fixed": "{{fixed}}" } }
            }
            """)
        .Trigger("token-hook", """
            {
              "platform": "eye",
              "arguments": { "who": { "from": "body:$.who", "required": true } },
              "theeye": { "task": "task-1", "taskArguments": ["{{who}}"] },
              "webhook": { "scheme": "token", "secrets": ["hook-token"], "deliveryId": "header:X-Delivery" }
            }
            """)
        .Trigger("signed-hook", """
            {
              "platform": "kbc",
              "keboola": { "component": "keboola.orchestrator", "config": "9" },
              "webhook": { "scheme": "hmac", "secrets": ["hmac-secret"], "header": "X-Signature", "prefix": "sha256=",
                           "filters": [{ "field": "body:$.ref", "equals": "refs/heads/main" }] }
            }
            """)
        .Trigger("off", """{ "platform": "kbc", "enabled": false, "keboola": { "component": "c" } }""")
        .Build();

    private LoopbackPlatforms _platforms = null!;
    private RelayHost _host = null!;

    public async Task InitializeAsync()
    {
        _platforms = await LoopbackPlatforms.StartAsync(new LoopbackPlatformOptions { FirstJobId = 1001 });
        _host = await RelayHost.StartAsync(Catalog, _platforms.Urls);
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _platforms.DisposeAsync();
    }

    [Fact]
    public async Task AnApiRunAnswers202WithTheRunAndALocationToItsStatus()
    {
        using var response = await _host.PostRunAsync("load");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await RelayHost.JsonAsync(response);
        Assert.Equal("load", (string?)body["trigger"]);
        Assert.Equal("kbc", (string?)body["platform"]);
        Assert.Equal("1001", (string?)body["jobId"]);
        Assert.Equal("queued", (string?)body["status"]);
        Assert.False(string.IsNullOrEmpty((string?)body["runId"]));
        Assert.EndsWith("/jobs/1001", (string?)body["jobUrl"], StringComparison.Ordinal);
        Assert.Equal("/api/triggers/load/jobs/1001", response.Headers.Location!.OriginalString);

        var sent = Assert.Single(_platforms.Keboola.Requests);
        Assert.Equal(RelayHost.KeboolaToken, sent.Header("X-StorageApi-Token"));
        var job = JsonNode.Parse(sent.Body)!;
        Assert.Equal("keboola.ex-db", (string?)job["component"]);
        Assert.Equal("42", (string?)job["config"]);
        Assert.Equal("""{"values":[{"name":"since","value":"yesterday"},{"name":"fixed","value":"x"}]}""", job["variableValuesData"]!.ToJsonString());
    }

    [Fact]
    public async Task AnApiRunAppliesOverridableArgumentsFromTheBody()
    {
        using var response = await _host.PostRunAsync("load", """{"arguments":{"since":"2026-01-01"}}""");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Contains("\"value\":\"2026-01-01\"", Assert.Single(_platforms.Keboola.Requests).Body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"arguments":{"fixed":"y"}}""", "application/json", 403, "forbidden")]
    [InlineData("""{"arguments":{"nope":1}}""", "application/json", 400, "invalid-input")]
    [InlineData("""{"since":"2026-01-01"}""", "application/json", 400, "invalid-input")]
    [InlineData("""{"arguments":[1]}""", "application/json", 400, "invalid-input")]
    [InlineData("""{"arguments":{"since":""", "application/json", 400, "invalid-input")]
    [InlineData("""[1,2]""", "application/json", 400, "invalid-input")]
    [InlineData("""since=2026""", "application/x-www-form-urlencoded", 415, "unsupported-media-type")]
    public async Task ABadRunBodyIsAProblemAndStartsNothing(string body, string contentType, int status, string type)
    {
        using var response = await _host.PostRunAsync("load", body, contentType: contentType);

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("urn:jobrelay:problem:" + type, (string?)(await RelayHost.JsonAsync(response))["type"]);
        Assert.Empty(_platforms.Keboola.Requests);
    }

    [Fact]
    public async Task ARunBodyOverTheLimitIs413AndStartsNothing()
    {
        var big = "{\"arguments\":{\"since\":\"" + new string('x', 1_100_000) + "\"}}";

        using var response = await _host.PostRunAsync("load", big);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Empty(_platforms.Keboola.Requests);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-key")]
    [InlineData("")]
    public async Task ApiRoutesRefuseAMissingOrWrongKey(string? key)
    {
        using var run = await _host.PostRunAsync("load", apiKey: key);
        using var list = await _host.GetAsync("/api/triggers", apiKey: key);
        using var status = await _host.GetAsync("/api/triggers/load/jobs/1", apiKey: key);

        Assert.Equal(HttpStatusCode.Unauthorized, run.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, list.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, status.StatusCode);
        Assert.Empty(_platforms.Keboola.Requests);
    }

    [Fact]
    public async Task AnUnknownTriggerIs404AndADisabledOne403()
    {
        using var unknown = await _host.PostRunAsync("ghost");
        using var disabled = await _host.PostRunAsync("off");

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, disabled.StatusCode);
        Assert.Empty(_platforms.Keboola.Requests);
    }

    [Fact]
    public async Task TheStatusRouteAnswersTheNormalisedStatusOfAJobItsTriggerStarted()
    {
        using var run = await _host.PostRunAsync("load");
        var jobId = (string?)(await RelayHost.JsonAsync(run))["jobId"];

        using var response = await _host.GetAsync(run.Headers.Location!.OriginalString);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await RelayHost.JsonAsync(response);
        Assert.Equal("succeeded", (string?)body["state"]);
        Assert.Equal("success", (string?)body["rawStatus"]);
        Assert.True((bool)body["isFinal"]!);
        Assert.Equal(jobId, (string?)body["jobId"]);
    }

    [Fact]
    public async Task TheStatusRouteDoesNotAnswerForAJobOfAnotherTriggerOrOneJobRelayDidNotStart()
    {
        using var run = await _host.PostRunAsync("load");
        var jobId = (string?)(await RelayHost.JsonAsync(run))["jobId"];

        using var otherTrigger = await _host.GetAsync($"/api/triggers/signed-hook/jobs/{jobId}");
        using var unknownJob = await _host.GetAsync("/api/triggers/load/jobs/987654321");

        Assert.Equal(HttpStatusCode.NotFound, otherTrigger.StatusCode);
        Assert.Equal("urn:jobrelay:problem:not-found", (string?)(await RelayHost.JsonAsync(otherTrigger))["type"]);
        Assert.Equal(HttpStatusCode.NotFound, unknownJob.StatusCode);
        Assert.Equal("urn:jobrelay:problem:not-found", (string?)(await RelayHost.JsonAsync(unknownJob))["type"]);
    }

    [Fact]
    public async Task TheCatalogRouteListsTriggersWithoutSecretNames()
    {
        using var response = await _host.GetAsync("/api/triggers");

        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("\"signed-hook\"", text, StringComparison.Ordinal);
        Assert.DoesNotContain("hmac-secret", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ATokenHookMapsTheBodyIntoTaskArguments()
    {
        using var response = await _host.PostHookAsync("token-hook", """{"who":"ops"}""", ("X-JobRelay-Token", RelayHost.HookToken));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var sent = Assert.Single(_platforms.TheEye.Requests);
        Assert.Equal("/job", sent.Path);
        Assert.Equal("?customer=acme", sent.QueryString);
        Assert.Equal("""{"task":"task-1","task_arguments":["ops"]}""", sent.Body);
    }

    [Fact]
    public async Task AHookWithAWrongTokenIs401AndStartsNothing()
    {
        using var response = await _host.PostHookAsync("token-hook", """{"who":"ops"}""", ("X-JobRelay-Token", "guess"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Empty(_platforms.TheEye.Requests);
    }

    [Fact]
    public async Task AHookMissingARequiredValueIs422NamingThePath()
    {
        using var response = await _host.PostHookAsync("token-hook", """{"someone":"ops"}""", ("X-JobRelay-Token", RelayHost.HookToken));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Contains("body:$.who", (string?)(await RelayHost.JsonAsync(response))["detail"], StringComparison.Ordinal);
        Assert.Empty(_platforms.TheEye.Requests);
    }

    [Fact]
    public async Task ARedeliveredHookStartsNoSecondJobAndAnswersTheOriginalRun()
    {
        using var first = await _host.PostHookAsync("token-hook", """{"who":"ops"}""", ("X-JobRelay-Token", RelayHost.HookToken), ("X-Delivery", "d-1"));
        using var second = await _host.PostHookAsync("token-hook", """{"who":"ops"}""", ("X-JobRelay-Token", RelayHost.HookToken), ("X-Delivery", "d-1"));

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal((string?)(await RelayHost.JsonAsync(first))["runId"], (string?)(await RelayHost.JsonAsync(second))["runId"]);
        Assert.Single(_platforms.TheEye.Requests);
    }

    [Fact]
    public async Task ConcurrentIdenticalDeliveriesStartExactlyOneJob()
    {
        var posts = Enumerable.Range(0, 50).Select(_ =>
            _host.PostHookAsync("token-hook", """{"who":"ops"}""", ("X-JobRelay-Token", RelayHost.HookToken), ("X-Delivery", "same")));

        var responses = await Task.WhenAll(posts);

        Assert.All(responses, r => Assert.True(r.IsSuccessStatusCode));
        Assert.Single(_platforms.TheEye.Requests);
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Fact]
    public async Task ASignedHookStartsItsJobAndAFilteredOutOneIsIgnored()
    {
        const string main = """{"ref":"refs/heads/main"}""";
        const string branch = """{"ref":"refs/heads/feature"}""";

        using var started = await _host.PostHookAsync("signed-hook", main, ("X-Signature", "sha256=" + Sign(main)));
        using var ignored = await _host.PostHookAsync("signed-hook", branch, ("X-Signature", "sha256=" + Sign(branch)));
        using var forged = await _host.PostHookAsync("signed-hook", main, ("X-Signature", "sha256=" + Sign(branch)));

        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, ignored.StatusCode);
        Assert.Equal("ignored", (string?)(await RelayHost.JsonAsync(ignored))["status"]);
        Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        Assert.Single(_platforms.Keboola.Requests);
    }

    [Fact]
    public async Task ATriggerWithoutAWebhookBlockIsNotReachableAsAHook()
    {
        using var response = await _host.PostHookAsync("load", "{}");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Empty(_platforms.Keboola.Requests);
    }

    [Fact]
    public async Task LivenessIsOpenAndReadinessReadsEverySecretByName()
    {
        using var live = await _host.GetAsync("/api/health", apiKey: null);
        using var ready = await _host.GetAsync("/api/health/ready");

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        var body = await RelayHost.JsonAsync(ready);
        Assert.Equal("readable", (string?)body["secrets"]!["kbc-token"]);
        Assert.DoesNotContain(RelayHost.KeboolaToken, body.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoSecretReachesALogLineOrAResponseAcrossRunsAndHooks()
    {
        var texts = new List<string>();
        foreach (var response in new[]
        {
            await _host.PostRunAsync("load"),
            await _host.PostHookAsync("token-hook", """{"who":"ops"}""", ("X-JobRelay-Token", RelayHost.HookToken)),
            await _host.PostHookAsync("token-hook", "{}", ("X-JobRelay-Token", RelayHost.HookToken + "x")),
            await _host.GetAsync("/api/health/ready"),
        })
        {
            texts.Add(await response.Content.ReadAsStringAsync());
            response.Dispose();
        }

        _host.Logs.AssertContainsNone(RelayHost.KeboolaToken, RelayHost.TheEyeToken, RelayHost.HookToken, RelayHost.HmacSecret);
        Assert.DoesNotContain(texts, t => t.Contains(RelayHost.HookToken, StringComparison.Ordinal) || t.Contains(RelayHost.KeboolaToken, StringComparison.Ordinal));
    }

    private static string Sign(string body)
        => Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(RelayHost.HmacSecret), Encoding.UTF8.GetBytes(body)));
}
