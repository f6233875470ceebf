using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using JobRelay.Http;
using JobRelay.Tests.Http;
using JobRelay.Tests.Support;

namespace JobRelay.Tests.History;

/// <summary>
/// The controls of a run's job through serve's endpoints, with TheEye and Keboola played on loopback: cancel,
/// approve, reject and restart go to TheEye's lifecycle routes with the access token; a control a platform does not
/// offer is a 409 saying why; TheEye's refusals are answered as-is; each is in the run's history under the key's name.
/// </summary>
public sealed class JobControlTests
{
    private const string OpsKey = "ops-key-value-c4c4c4";
    private const string TaskKey = "task-secret-key-value-9d9d9d";
    private const string JobId = "64f0000000000000000000ee";

    private static readonly string Catalog = new CatalogBuilder()
        .Keboola()
        .TheEye()
        .Platform("eye-keys", """{ "type": "theeye", "url": "http://127.0.0.1:1/", "customer": "acme" }""")
        .KeboolaJob("load", "7")
        .Trigger("deploy", """
            {
              "platform": "eye",
              "arguments": { "who": { "default": "ops", "overridable": true } },
              "theeye": { "task": "deploy-task", "taskArguments": ["{{who}}", null] }
            }
            """)
        .Trigger("deploy-by-key", """{ "platform": "eye-keys", "theeye": { "task": "deploy-task", "auth": "secretKey", "secretKeySecret": "task-key" } }""")
        .Build();

    [Fact]
    public async Task CancelOfATheEyeJobIsOnePutWithTheBearerTokenAndNoBodyAndIsInTheRunsHistoryUnderTheKeysName()
    {
        await using var relay = await Relay.StartAsync(new LoopbackPlatformOptions { TheEyeJobId = JobId });
        var runId = await relay.StartAsync("deploy");

        using var cancel = await relay.ControlAsync(runId, "cancel", OpsKey);
        var answer = await RelayHost.JsonAsync(cancel);

        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        Assert.Equal($"/api/runs/{runId}", cancel.Headers.Location?.OriginalString);
        Assert.Equal("cancelled", (string?)answer["run"]!["jobStatus"]!["state"]);
        Assert.Equal("canceled/canceled", (string?)answer["run"]!["jobStatus"]!["raw"]);
        var put = Assert.Single(relay.Platforms.TheEye.Requests, r => r.Method == "PUT");
        Assert.Equal(($"/acme/job/{JobId}/cancel", string.Empty), (put.Path, put.QueryString));
        Assert.Equal("Bearer " + RelayHost.TheEyeToken, put.Header("Authorization"));
        Assert.Equal(string.Empty, put.Body);
        Assert.Null(put.Header("Content-Type"));
        var entry = await relay.SingleHistoryEntryAsync(runId);
        Assert.Equal(("cancel", "ops", $"cancel of job {JobId} requested; the job is canceled/canceled"), entry);
    }

    [Fact]
    public async Task ATaskThatIsNotCancellableAnswers403WithTheEyesWordsAfterOneRequestAndTheRefusalIsInTheHistory()
    {
        await using var relay = await Relay.StartAsync(new LoopbackPlatformOptions { TheEyeJobId = JobId, TheEyeCancellable = false });
        var runId = await relay.StartAsync("deploy");

        using var cancel = await relay.ControlAsync(runId, "cancel", OpsKey);
        var problem = await RelayHost.JsonAsync(cancel);

        Assert.Equal(HttpStatusCode.Forbidden, cancel.StatusCode);
        Assert.Equal("urn:jobrelay:problem:forbidden", (string?)problem["type"]);
        Assert.Equal(403, (int?)problem["platformStatus"]);
        Assert.Equal("eye", (string?)problem["platform"]);
        Assert.Equal(
            $"TheEye platform 'eye' refused the cancel of job {JobId} (HTTP 403: Job is not cancellable): its task is set not cancellable (cancellable: false), which only a TheEye administrator's token overrides.",
            (string?)problem["detail"]);
        // A 403 to a lifecycle action is TheEye's refusal of the action, not of the token: it is not read again and resent.
        Assert.Single(relay.Platforms.TheEye.Requests, r => r.Method == "PUT");
        var entry = await relay.SingleHistoryEntryAsync(runId);
        Assert.Equal("cancel", entry.Action);
        Assert.StartsWith("refused by the platform (HTTP 403): TheEye platform 'eye' refused the cancel", entry.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task APlatformWithOnlyATaskSecretKeyCannotCancelAndTheAnswerSaysWhyWithoutCallingTheEye()
    {
        await using var relay = await Relay.StartAsync(new LoopbackPlatformOptions { TheEyeJobId = JobId });
        var runId = await relay.StartAsync("deploy-by-key");
        var before = relay.Platforms.TheEye.Requests.Count;

        using var cancel = await relay.ControlAsync(runId, "cancel", OpsKey);
        var problem = await RelayHost.JsonAsync(cancel);

        Assert.Equal(HttpStatusCode.Conflict, cancel.StatusCode);
        Assert.Equal("urn:jobrelay:problem:not-supported", (string?)problem["type"]);
        Assert.Equal("The platform does not offer this action", (string?)problem["title"]);
        Assert.Equal("eye-keys", (string?)problem["platform"]);
        Assert.Equal(
            $"TheEye platform 'eye-keys' names no accessTokenSecret, and TheEye takes a job's cancel only with an access token (a task secret key cannot cancel): cancel job {JobId} in TheEye itself, or give the platform an accessTokenSecret.",
            (string?)problem["detail"]);
        Assert.Equal(before, relay.Platforms.TheEye.Requests.Count);
        Assert.Equal($"/job/secret/{TaskKey}", Assert.Single(relay.Platforms.TheEye.Requests).Path);
        var entry = await relay.SingleHistoryEntryAsync(runId);
        Assert.StartsWith("not supported: TheEye platform 'eye-keys' names no accessTokenSecret", entry.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApproveAndRejectOfAnApprovalJobArePutsWithTheBearerTokenAndASecondDecisionIsTheEyes409()
    {
        await using var relay = await Relay.StartAsync(new LoopbackPlatformOptions { TheEyeJobId = JobId, TheEyeApproval = true });
        var runId = await relay.StartAsync("deploy");

        using var approve = await relay.ControlAsync(runId, "approve", OpsKey);
        var approved = await RelayHost.JsonAsync(approve);
        using var reject = await relay.ControlAsync(runId, "reject", RelayHost.ApiKey);
        var problem = await RelayHost.JsonAsync(reject);

        Assert.Equal(HttpStatusCode.Accepted, approve.StatusCode);
        Assert.Equal("succeeded", (string?)approved["run"]!["jobStatus"]!["state"]);
        Assert.Equal(HttpStatusCode.Conflict, reject.StatusCode);
        Assert.Equal("urn:jobrelay:problem:conflict", (string?)problem["type"]);
        Assert.Equal(409, (int?)problem["platformStatus"]);
        Assert.Equal(
            $"TheEye platform 'eye' refused the reject of job {JobId} (HTTP 409: approval request no longer available): the job no longer waits for approval.",
            (string?)problem["detail"]);
        Assert.Equal(
            [
                ("PUT", $"/acme/job/{JobId}/approve", "Bearer " + RelayHost.TheEyeToken, string.Empty),
                ("PUT", $"/acme/job/{JobId}/reject", "Bearer " + RelayHost.TheEyeToken, string.Empty),
            ],
            relay.Platforms.TheEye.Requests.Where(r => r.Method == "PUT").Select(r => (r.Method, r.Path + r.QueryString, r.Header("Authorization"), r.Body)));
        using var detail = await relay.Host.GetAsync($"/api/runs/{runId}");
        var history = (await RelayHost.JsonAsync(detail))["history"]!.AsArray();
        Assert.Equal(["approve by ops", "reject by default"], history.Select(h => $"{(string?)h!["action"]} by {(string?)h["by"]}"));
        Assert.Equal($"approve of job {JobId} requested; the job is finished/success", (string?)history[0]!["detail"]);
    }

    [Fact]
    public async Task ApprovingAJobThatIsNotAnApprovalIsTheEyes400AnsweredAsAConflict()
    {
        await using var relay = await Relay.StartAsync(new LoopbackPlatformOptions { TheEyeJobId = JobId });
        var runId = await relay.StartAsync("deploy");

        using var approve = await relay.ControlAsync(runId, "approve", OpsKey);
        var problem = await RelayHost.JsonAsync(approve);

        Assert.Equal(HttpStatusCode.Conflict, approve.StatusCode);
        Assert.Equal(400, (int?)problem["platformStatus"]);
        Assert.Equal(
            $"TheEye platform 'eye' refused the approve of job {JobId} (HTTP 400: unexpected job type. only Approvals): only approval jobs are approved or rejected.",
            (string?)problem["detail"]);
    }

    [Fact]
    public async Task RestartSendsTheRunsTaskArgumentsAgainWithTheBearerTokenAndTheJobRunsAgain()
    {
        await using var relay = await Relay.StartAsync(new LoopbackPlatformOptions { TheEyeJobId = JobId });
        var runId = await relay.StartAsync("deploy", """{"arguments":{"who":"alice"}}""");

        using var restart = await relay.ControlAsync(runId, "restart", OpsKey);
        var answer = await RelayHost.JsonAsync(restart);

        Assert.Equal(HttpStatusCode.Accepted, restart.StatusCode);
        Assert.Equal("queued", (string?)answer["run"]!["jobStatus"]!["state"]);
        Assert.Equal("ready/in_progress", (string?)answer["run"]!["jobStatus"]!["raw"]);
        var start = Assert.Single(relay.Platforms.TheEye.Requests, r => r.Method == "POST");
        var put = Assert.Single(relay.Platforms.TheEye.Requests, r => r.Method == "PUT");
        Assert.Equal("""{"task":"deploy-task","task_arguments":["alice",null]}""", start.Body);
        Assert.Equal(($"/acme/job/{JobId}/restart", string.Empty), (put.Path, put.QueryString));
        Assert.Equal("Bearer " + RelayHost.TheEyeToken, put.Header("Authorization"));
        Assert.Equal("application/json", put.Header("Content-Type"));
        Assert.Equal("""{"task_arguments":["alice",null]}""", put.Body);
        Assert.Equal(("restart", "ops", $"restart of job {JobId} requested; the job is ready/in_progress"), await relay.SingleHistoryEntryAsync(runId));
    }

    [Theory]
    [InlineData("approve")]
    [InlineData("reject")]
    [InlineData("restart")]
    public async Task KeboolaHasNoApprovalsOrRestartsAndAnswers409NotSupportedWithoutCallingIt(string control)
    {
        await using var relay = await Relay.StartAsync(new LoopbackPlatformOptions { FirstJobId = 9100, KeboolaJobStatus = "processing" });
        var runId = await relay.StartAsync("load");

        using var answer = await relay.ControlAsync(runId, control, OpsKey);
        var problem = await RelayHost.JsonAsync(answer);

        Assert.Equal(HttpStatusCode.Conflict, answer.StatusCode);
        Assert.Equal("urn:jobrelay:problem:not-supported", (string?)problem["type"]);
        Assert.Equal("kbc", (string?)problem["platform"]);
        Assert.StartsWith($"Platform 'kbc' (Keboola) has no {control} of a job: only TheEye ", (string?)problem["detail"], StringComparison.Ordinal);
        Assert.Equal(["POST /jobs"], relay.Platforms.Keboola.Requests.Select(r => $"{r.Method} {r.Path}"));
        Assert.Equal(control, (await relay.SingleHistoryEntryAsync(runId)).Action);
    }

    [Fact]
    public async Task CancelOfAKeboolaJobIsTheKillTheWatchAlsoSendsWithTheStorageToken()
    {
        await using var relay = await Relay.StartAsync(new LoopbackPlatformOptions { FirstJobId = 9200, KeboolaJobStatus = "processing" });
        var runId = await relay.StartAsync("load");

        using var cancel = await relay.ControlAsync(runId, "cancel", OpsKey);

        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        var kill = Assert.Single(relay.Platforms.Keboola.Requests, r => r.Path.EndsWith("/kill", StringComparison.Ordinal));
        Assert.Equal(("POST", "/jobs/9200/kill", string.Empty, string.Empty), (kill.Method, kill.Path, kill.QueryString, kill.Body));
        Assert.Equal(RelayHost.KeboolaToken, kill.Header("X-StorageApi-Token"));
        Assert.Equal(("cancel", "ops", "kill of job 9200 requested; the job is terminating"), await relay.SingleHistoryEntryAsync(runId));
    }

    [Theory]
    [InlineData("cancel")]
    [InlineData("approve")]
    [InlineData("reject")]
    [InlineData("restart")]
    public async Task EveryControlRefusesAMissingOrWrongKeyAndAnswers404ForAnUnknownRunWithoutCallingAPlatform(string control)
    {
        await using var relay = await Relay.StartAsync(new LoopbackPlatformOptions { TheEyeJobId = JobId });
        var runId = await relay.StartAsync("deploy");

        using var missing = await relay.ControlAsync(runId, control, apiKey: null);
        using var wrong = await relay.ControlAsync(runId, control, "not-the-key");
        using var unknown = await relay.ControlAsync("no-such-run", control, OpsKey);

        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("urn:jobrelay:problem:not-found", (string?)(await RelayHost.JsonAsync(unknown))["type"]);
        Assert.DoesNotContain(relay.Platforms.TheEye.Requests, r => r.Method == "PUT");
        using var detail = await relay.Host.GetAsync($"/api/runs/{runId}");
        Assert.Empty((await RelayHost.JsonAsync(detail))["history"]!.AsArray());
    }

    [Fact]
    public async Task NoTokenOrKeyReachesALogLineOrAnAnswerOfAnyControl()
    {
        await using var relay = await Relay.StartAsync(new LoopbackPlatformOptions { TheEyeJobId = JobId, TheEyeCancellable = false, TheEyeApproval = true });
        var eyeRun = await relay.StartAsync("deploy");
        var keyRun = await relay.StartAsync("deploy-by-key");
        var kbcRun = await relay.StartAsync("load");
        var texts = new List<string>();

        foreach (var (runId, control) in new[] { (eyeRun, "cancel"), (eyeRun, "approve"), (eyeRun, "reject"), (eyeRun, "restart"), (keyRun, "cancel"), (kbcRun, "cancel"), (kbcRun, "restart") })
        {
            using var answer = await relay.ControlAsync(runId, control, OpsKey);
            texts.Add(await answer.Content.ReadAsStringAsync());
        }

        foreach (var runId in new[] { eyeRun, keyRun, kbcRun })
        {
            using var detail = await relay.Host.GetAsync($"/api/runs/{runId}");
            texts.Add(await detail.Content.ReadAsStringAsync());
        }

        var secrets = new[] { RelayHost.TheEyeToken, RelayHost.KeboolaToken, TaskKey, OpsKey, "job-secret-0001" };
        relay.Host.Logs.AssertContainsNone(secrets);
        Assert.Contains(relay.Host.Logs.GetSnapshot(), r => r.Message.Contains("refused the cancel of job", StringComparison.Ordinal));
        foreach (var text in texts)
        {
            Assert.DoesNotContain(secrets, text.Contains);
        }
    }

    /// <summary>A relay over its own loopback platforms, with an <c>ops</c> key and a secret-key-only TheEye platform.</summary>
    private sealed class Relay : IAsyncDisposable
    {
        private Relay(LoopbackPlatforms platforms, RelayHost host)
        {
            Platforms = platforms;
            Host = host;
        }

        public LoopbackPlatforms Platforms { get; }

        public RelayHost Host { get; }

        public static async Task<Relay> StartAsync(LoopbackPlatformOptions options)
        {
            var platforms = await LoopbackPlatforms.StartAsync(options);
            var urls = new Dictionary<string, Uri>(platforms.Urls) { ["eye-keys"] = platforms.TheEye.BaseAddress };
            var host = await RelayHost.StartAsync(Catalog, urls, new Dictionary<string, string?>
            {
                ["JobRelay:Api:Keys:ops"] = "ops-api-key",
                ["JobRelay:Secrets:Values:ops-api-key"] = OpsKey,
                ["JobRelay:Secrets:Values:task-key"] = TaskKey,
            });
            return new Relay(platforms, host);
        }

        public async Task<string> StartAsync(string trigger, string? body = null)
        {
            using var run = await Host.PostRunAsync(trigger, body);
            var started = await RelayHost.JsonAsync(run);
            Assert.True(run.StatusCode == HttpStatusCode.Accepted, started.ToJsonString());
            return (string)started["runId"]!;
        }

        public Task<HttpResponseMessage> ControlAsync(string runId, string control, string? apiKey)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, $"/api/runs/{runId}/{control}") { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
            if (apiKey is not null)
            {
                request.Headers.Add(RelayEndpoints.ApiKeyHeader, apiKey);
            }

            return Host.Client.SendAsync(request);
        }

        public async Task<(string Action, string By, string Detail)> SingleHistoryEntryAsync(string runId)
        {
            using var detail = await Host.GetAsync($"/api/runs/{runId}");
            var entry = Assert.Single((await RelayHost.JsonAsync(detail))["history"]!.AsArray())!;
            return ((string)entry["action"]!, (string)entry["by"]!, (string)entry["detail"]!);
        }

        public async ValueTask DisposeAsync()
        {
            await Host.DisposeAsync();
            await Platforms.DisposeAsync();
        }
    }
}
