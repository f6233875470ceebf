using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using JobRelay.History;
using JobRelay.Http;
using JobRelay.State;
using JobRelay.Tests.Http;
using JobRelay.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace JobRelay.Tests.History;

/// <summary>Start again, replay and cancel through serve's endpoints, with both platforms played on loopback.</summary>
public sealed class RunActionTests : IAsyncLifetime
{
    private const string OpsKey = "ops-key-value-3f3f3f";
    private const string TheEyeJobSecret = "eye-job-secret-9z8y7x";

    private static readonly string Catalog = new CatalogBuilder()
        .Keboola()
        .TheEye()
        .CommitHook("ingest")
        .KeboolaJob("load", "7")
        .TheEyeTask("notify", "notify-task")
        .Build();

    private LoopbackPlatforms _platforms = null!;
    private RelayHost _host = null!;

    public async Task InitializeAsync()
    {
        _platforms = await LoopbackPlatforms.StartAsync(new LoopbackPlatformOptions
        {
            FirstJobId = 7001,
            KeboolaJobStatus = "processing",
            TheEyeJobId = "64f0000000000000000000dd",
            TheEyeTask = "notify-task",
            TheEyeJobSecret = TheEyeJobSecret,
        });
        _host = await RelayHost.StartAsync(
            Catalog,
            _platforms.Urls,
            new Dictionary<string, string?>
            {
                ["JobRelay:Api:Keys:ops"] = "ops-api-key",
                ["JobRelay:Secrets:Values:ops-api-key"] = OpsKey,
            });
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _platforms.DisposeAsync();
    }

    [Fact]
    public async Task CancelKillsTheKeboolaJobWithOneKillRequestAndRecordsWhoDidIt()
    {
        using var run = await _host.PostRunAsync("load");
        var started = await RelayHost.JsonAsync(run);
        var runId = (string)started["runId"]!;
        var jobId = (string)started["jobId"]!;

        using var cancel = await PostAsync($"/api/runs/{runId}/cancel", "{}", OpsKey);
        var answer = await RelayHost.JsonAsync(cancel);
        using var detail = await _host.GetAsync($"/api/runs/{runId}");
        var shown = await RelayHost.JsonAsync(detail);

        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        Assert.Equal(runId, (string?)answer["run"]!["runId"]);
        Assert.Equal("running", (string?)answer["run"]!["jobStatus"]!["state"]);
        Assert.Equal("terminating", (string?)answer["run"]!["jobStatus"]!["raw"]);
        var kill = Assert.Single(_platforms.Keboola.Requests, r => r.Path.EndsWith("/kill", StringComparison.Ordinal));
        Assert.Equal("POST", kill.Method);
        Assert.Equal($"/jobs/{jobId}/kill", kill.Path);
        Assert.Equal(string.Empty, kill.QueryString);
        Assert.Equal(RelayHost.KeboolaToken, kill.Header("X-StorageApi-Token"));
        Assert.Null(kill.Header("Authorization"));
        Assert.Equal(string.Empty, kill.Body);
        var entry = Assert.Single(shown["history"]!.AsArray())!;
        Assert.Equal("cancel", (string?)entry["action"]);
        Assert.Equal("ops", (string?)entry["by"]);
        Assert.Equal($"kill of job {jobId} requested; the job is terminating", (string?)entry["detail"]);
        Assert.NotNull(entry["at"]);
    }

    [Fact]
    public async Task CancelOfATheEyeJobUsesTheAccessTokenAndARunWithoutAJobIsAConflict()
    {
        using var run = await _host.PostRunAsync("notify");
        var runId = (string)(await RelayHost.JsonAsync(run))["runId"]!;
        var unknown = await OutcomeUnknownRunAsync();

        using var theEye = await PostAsync($"/api/runs/{runId}/cancel", "{}", RelayHost.ApiKey);
        using var noJob = await PostAsync($"/api/runs/{unknown}/cancel", "{}", RelayHost.ApiKey);
        var theEyeText = await theEye.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.Accepted, theEye.StatusCode);
        Assert.Equal("cancelled", (string?)JsonNode.Parse(theEyeText)!["run"]!["jobStatus"]!["state"]);
        Assert.DoesNotContain(TheEyeJobSecret, theEyeText, StringComparison.Ordinal);
        var cancel = Assert.Single(_platforms.TheEye.Requests, r => r.Method == "PUT");
        Assert.Equal("/acme/job/64f0000000000000000000dd/cancel", cancel.Path);
        Assert.Equal("Bearer " + RelayHost.TheEyeToken, cancel.Header("Authorization"));
        Assert.Equal(HttpStatusCode.Conflict, noJob.StatusCode);
        Assert.Contains("has no job to cancel", (string?)(await RelayHost.JsonAsync(noJob))["detail"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAgainNeedsConfirmationAndARunOfUnknownOutcomeAndThenStartsANewRunWhoseParentItIs()
    {
        var unknown = await OutcomeUnknownRunAsync();
        using var started = await _host.PostRunAsync("load");
        var startedRunId = (string)(await RelayHost.JsonAsync(started))["runId"]!;

        using var unconfirmed = await PostAsync($"/api/runs/{unknown}/start-again", null, RelayHost.ApiKey);
        using var declined = await PostAsync($"/api/runs/{unknown}/start-again", """{"confirm":false}""", RelayHost.ApiKey);
        using var notUnknown = await PostAsync($"/api/runs/{startedRunId}/start-again", """{"confirm":true}""", RelayHost.ApiKey);
        var postsBefore = _platforms.Keboola.Requests.Count(r => r is { Method: "POST", Path: "/jobs" });
        using var confirmed = await PostAsync($"/api/runs/{unknown}/start-again", """{"confirm":true}""", RelayHost.ApiKey);
        var answer = await RelayHost.JsonAsync(confirmed);
        var newRunId = (string)answer["run"]!["runId"]!;
        using var detail = await _host.GetAsync($"/api/runs/{unknown}");
        var shown = await RelayHost.JsonAsync(detail);

        var problem = await RelayHost.JsonAsync(unconfirmed);
        Assert.Equal(HttpStatusCode.BadRequest, unconfirmed.StatusCode);
        Assert.Equal("confirm", (string?)problem["parameter"]);
        Assert.Contains("may already exist on the platform", (string?)problem["detail"], StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, declined.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, notUnknown.StatusCode);
        Assert.Equal("urn:jobrelay:problem:conflict", (string?)(await RelayHost.JsonAsync(notUnknown))["type"]);

        Assert.Equal(HttpStatusCode.Accepted, confirmed.StatusCode);
        Assert.Equal($"/api/runs/{newRunId}", confirmed.Headers.Location?.OriginalString);
        Assert.NotEqual(unknown, newRunId);
        Assert.Equal("start-again", (string?)answer["run"]!["origin"]);
        Assert.Equal("started", (string?)answer["run"]!["state"]);
        Assert.Equal(unknown, (string?)answer["run"]!["parentRunId"]);
        Assert.Equal(RunActions.StartAgainWarning, (string?)answer["warning"]);
        Assert.Equal(postsBefore + 1, _platforms.Keboola.Requests.Count(r => r is { Method: "POST", Path: "/jobs" }));
        Assert.Equal("""{"component":"keboola.ex-db","mode":"run","config":"7"}""", _platforms.Keboola.Requests.Last(r => r.Path == "/jobs").Body);
        Assert.Equal(newRunId, (string?)Assert.Single(shown["followers"]!.AsArray())!["runId"]);
        var entry = Assert.Single(shown["history"]!.AsArray())!;
        Assert.Equal("start-again", (string?)entry["action"]);
        Assert.Equal("default", (string?)entry["by"]);
        Assert.Equal($"new run {newRunId}", (string?)entry["detail"]);
        Assert.Equal("outcome-unknown", (string?)shown["run"]!["state"]);
    }

    [Fact]
    public async Task ReplayStartsTheTriggerAgainFromTheStoredArgumentsAsANewRunAndIsAudited()
    {
        using var hook = await _host.PostHookAsync("ingest", """{"sha":"f00d"}""", ("X-JobRelay-Token", RelayHost.HookToken), ("X-Delivery", "gh-77"));
        var original = (string)(await RelayHost.JsonAsync(hook))["runId"]!;

        using var replay = await PostAsync($"/api/runs/{original}/replay", null, OpsKey);
        var answer = await RelayHost.JsonAsync(replay);
        using var unknown = await PostAsync("/api/runs/no-such-run/replay", "{}", OpsKey);
        using var wrongKey = await PostAsync($"/api/runs/{original}/replay", "{}", "not-a-key");
        using var detail = await _host.GetAsync($"/api/runs/{original}");
        var shown = await RelayHost.JsonAsync(detail);

        Assert.Equal(HttpStatusCode.Accepted, replay.StatusCode);
        Assert.Equal("replay", (string?)answer["run"]!["origin"]);
        Assert.Equal(original, (string?)answer["run"]!["parentRunId"]);
        Assert.Equal("f00d", (string?)answer["run"]!["arguments"]!["sha"]);
        Assert.StartsWith("request:", (string?)answer["run"]!["deliveryKey"], StringComparison.Ordinal);
        var posts = _platforms.Keboola.Requests.Where(r => r is { Method: "POST", Path: "/jobs" }).ToList();
        Assert.Equal(2, posts.Count);
        Assert.Equal(posts[0].Body, posts[1].Body);
        Assert.Contains("f00d", posts[1].Body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongKey.StatusCode);
        var entry = Assert.Single(shown["history"]!.AsArray())!;
        Assert.Equal("replay", (string?)entry["action"]);
        Assert.Equal("ops", (string?)entry["by"]);
        Assert.Equal((string?)answer["run"]!["runId"], (string?)Assert.Single(shown["followers"]!.AsArray())!["runId"]);
    }

    [Fact]
    public void TheOperatorOfARequestIsTheKeyNameElseTheSignedInCallerElseTheFunctionKey()
    {
        var byKey = new DefaultHttpContext();
        byKey.Items[ApiKeys.NameItem] = "ops";
        byKey.Request.Headers[ApiKeys.ClientPrincipalHeader] = "someone@example.com";
        var byPrincipal = new DefaultHttpContext();
        byPrincipal.Request.Headers[ApiKeys.ClientPrincipalHeader] = "someone@example.com";

        Assert.Equal("ops", ApiKeys.OperatorOf(byKey.Request));
        Assert.Equal("someone@example.com", ApiKeys.OperatorOf(byPrincipal.Request));
        Assert.Equal("function-key", ApiKeys.OperatorOf(new DefaultHttpContext().Request));
    }

    /// <summary>A run of trigger load whose start may have reached the platform, as the store records one.</summary>
    private async Task<string> OutcomeUnknownRunAsync()
    {
        var store = _host.Services.GetRequiredService<IRelayStore>();
        var runId = Guid.CreateVersion7().ToString("n");
        var claim = await store.ClaimAsync(new NewRun(new RequestKey(runId), runId, "load", "api", "{}"), TimeSpan.FromSeconds(30), CancellationToken.None);
        var calling = await store.BeginStartAsync(claim.Lease!, TimeSpan.FromMinutes(1), CancellationToken.None);
        Assert.True(await store.SettleAsync(calling!, RunSettlement.OutcomeUnknown("the connection dropped after the request was sent"), CancellationToken.None));
        return runId;
    }

    private Task<HttpResponseMessage> PostAsync(string path, string? json, string apiKey)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        request.Headers.Add(RelayEndpoints.ApiKeyHeader, apiKey);
        return _host.Client.SendAsync(request);
    }
}
