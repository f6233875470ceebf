using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using JobRelay.Sandbox;
using Microsoft.Extensions.Time.Testing;

namespace JobRelay.Tests.Sandbox;

public sealed class SandboxPlatformsTests : IAsyncLifetime, IDisposable
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero));
    private readonly HttpClient _http = new();
    private SandboxPlatforms _sandbox = null!;

    public async Task InitializeAsync()
        => _sandbox = await SandboxPlatforms.StartAsync(new SandboxOptions { TimeProvider = _clock, JobDuration = TimeSpan.FromSeconds(6) }, CancellationToken.None);

    public async Task DisposeAsync() => await _sandbox.DisposeAsync();

    public void Dispose() => _http.Dispose();

    [Fact]
    public void TheSandboxListensOnLoopbackOnly()
    {
        Assert.Equal("127.0.0.1", _sandbox.KeboolaUrl.Host);
        Assert.Equal("127.0.0.1", _sandbox.TheEyeUrl.Host);
    }

    [Fact]
    public async Task GetSandboxJobsListsWhatTheEmulatorsReceivedOldestFirstWithEachRequest()
    {
        using var keboola = await Keboola(HttpMethod.Post, "jobs", """{"component":"keboola.ex-db","config":"1"}""");
        using var theEye = await TheEye("job?customer=sandbox", """{"task":"sandbox-hello","task_arguments":["ops"]}""", bearer: SandboxCredentials.TheEyeAccessToken);
        var keboolaId = (string)(await keboola.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
        var theEyeId = (string)(await theEye.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;

        using var listing = await _http.GetAsync(_sandbox.JobsUrl);

        Assert.Equal(new Uri(_sandbox.KeboolaUrl, "/sandbox/jobs"), _sandbox.JobsUrl);
        Assert.Equal(HttpStatusCode.OK, listing.StatusCode);
        var jobs = (await listing.Content.ReadFromJsonAsync<JsonObject>())!["jobs"]!.AsArray();
        Assert.Equal(
            [
                ("keboola", keboolaId, """{"component":"keboola.ex-db","config":"1"}"""),
                ("theeye", theEyeId, """{"task":"sandbox-hello","task_arguments":["ops"]}"""),
            ],
            jobs.Select(j => ((string)j!["platform"]!, (string)j["id"]!, j["request"]!.ToJsonString())));
        Assert.All(jobs, j => Assert.Equal(_clock.GetUtcNow(), (DateTimeOffset)j!["createdAt"]!));
    }

    [Fact]
    public async Task AKeboolaJobMovesFromCreatedToSuccessWithTheDocumentedQuirks()
    {
        using var created = await Keboola(HttpMethod.Post, "jobs", """{"component":"keboola.ex-db","config":"1"}""");
        var job = (await created.Content.ReadFromJsonAsync<JsonObject>())!;
        var id = (string)job["id"]!;

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("[]", job["result"]!.ToJsonString());
        Assert.Equal("[]", job["configData"]!.ToJsonString());
        Assert.Equal(string.Empty, (string?)job["parentRunId"]);
        Assert.Equal("waiting", (string?)(await Read(id))["status"]);
        _clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal("processing", (string?)(await Read(id))["status"]);
        _clock.Advance(TimeSpan.FromSeconds(4));
        var done = await Read(id);
        Assert.Equal("success", (string?)done["status"]);
        Assert.True((bool)done["isFinished"]!);
    }

    [Fact]
    public async Task KeboolaRefusesAWrongTokenAndABodyWithoutAComponent()
    {
        using var wrongToken = await Keboola(HttpMethod.Post, "jobs", """{"component":"c"}""", token: "nope");
        using var noComponent = await Keboola(HttpMethod.Post, "jobs", """{"config":"1"}""");

        Assert.Equal(HttpStatusCode.Unauthorized, wrongToken.StatusCode);
        Assert.Equal("Invalid access token", (string?)(await wrongToken.Content.ReadFromJsonAsync<JsonObject>())!["error"]);
        Assert.Equal(HttpStatusCode.BadRequest, noComponent.StatusCode);
        Assert.Empty(_sandbox.Jobs);
    }

    [Fact]
    public async Task AKilledKeboolaJobEndsTerminatedAndSandboxFailEndsInError()
    {
        using var first = await Keboola(HttpMethod.Post, "jobs", """{"component":"keboola.ex-db"}""");
        using var second = await Keboola(HttpMethod.Post, "jobs", """{"component":"sandbox.fail"}""");
        var killed = (string)(await first.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
        var failing = (string)(await second.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;

        using var kill = await Keboola(HttpMethod.Post, $"jobs/{killed}/kill");
        _clock.Advance(TimeSpan.FromSeconds(7));

        Assert.Equal(HttpStatusCode.Accepted, kill.StatusCode);
        Assert.Equal("terminated", (string?)(await Read(killed))["status"]);
        Assert.Equal("error", (string?)(await Read(failing))["status"]);
    }

    [Fact]
    public async Task TheeyeTakesAllThreeRoutesAndAnswersErrorsAsBareStrings()
    {
        using var token = await TheEye("job?customer=sandbox", """{"task":"t1","task_arguments":[]}""", bearer: SandboxCredentials.TheEyeAccessToken);
        using var secret = await TheEye($"job/secret/{SandboxCredentials.TheEyeTaskSecretKey}?customer=sandbox", """{"task":"t1","task_arguments":[]}""");
        using var taskRoute = await TheEye($"task/t1/secret/{SandboxCredentials.TheEyeTaskSecretKey}/job", """{"task":"t1","task_arguments":[]}""");
        using var badSecret = await TheEye("job/secret/wrong?customer=sandbox", """{"task":"t1","task_arguments":[]}""");
        using var noCustomer = await TheEye($"job/secret/{SandboxCredentials.TheEyeTaskSecretKey}", """{"task":"t1","task_arguments":[]}""");
        using var missing = await TheEye("job?customer=sandbox", """{"task":"sandbox-missing","task_arguments":[]}""", bearer: SandboxCredentials.TheEyeAccessToken);

        Assert.Equal(HttpStatusCode.OK, token.StatusCode);
        Assert.Equal(HttpStatusCode.OK, secret.StatusCode);
        Assert.Equal(HttpStatusCode.OK, taskRoute.StatusCode);
        Assert.Equal("\"invalid secret\"", await badSecret.Content.ReadAsStringAsync());
        Assert.Equal("\"organization is required\"", await noCustomer.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(3, _sandbox.Jobs.Count);
    }

    [Fact]
    public async Task TheeyeStatusComesByTokenAndByJobSecret()
    {
        using var created = await TheEye("job?customer=sandbox", """{"task":"t1","task_arguments":["x"]}""", bearer: SandboxCredentials.TheEyeAccessToken);
        var job = (await created.Content.ReadFromJsonAsync<JsonObject>())!;
        var id = (string)job["id"]!;
        var jobSecret = (string)job["secret"]!;

        using var running = await _http.GetAsync(new Uri(_sandbox.TheEyeUrl, $"job/{id}/secret/{jobSecret}/result?full&timeout=0"));
        _clock.Advance(TimeSpan.FromSeconds(6));
        using var done = await _http.GetAsync(new Uri(_sandbox.TheEyeUrl, $"job/{id}/secret/{jobSecret}/result?full&timeout=0"));
        using var byToken = new HttpRequestMessage(HttpMethod.Get, new Uri(_sandbox.TheEyeUrl, $"sandbox/job/{id}"));
        byToken.Headers.Authorization = new("Bearer", SandboxCredentials.TheEyeAccessToken);
        using var status = await _http.SendAsync(byToken);

        Assert.Equal(HttpStatusCode.RequestTimeout, running.StatusCode);
        Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        Assert.Equal("finished", (string?)(await status.Content.ReadFromJsonAsync<JsonObject>())!["lifecycle"]);
    }

    [Fact]
    public async Task ABadArgumentsTaskIsCreatedAlreadyFailed()
    {
        using var created = await TheEye("job?customer=sandbox", """{"task":"sandbox-bad-args","task_arguments":[]}""", bearer: SandboxCredentials.TheEyeAccessToken);
        var job = (await created.Content.ReadFromJsonAsync<JsonObject>())!;

        Assert.Equal("terminated", (string?)job["lifecycle"]);
        Assert.Equal("error", (string?)job["state"]);
    }

    [Fact]
    public async Task TheeyesLifecycleActionsCancelDecideAnApprovalOnceAndRestartAFinishedJobWithTheAccessTokenOnly()
    {
        var plain = await CreateTheEyeJobAsync("t1");
        var fixedTask = await CreateTheEyeJobAsync("sandbox-not-cancellable");
        var approval = await CreateTheEyeJobAsync("sandbox-approval");

        using var withoutToken = await Lifecycle(plain, "cancel", bearer: null);
        using var cancelled = await Lifecycle(plain, "cancel");
        using var refused = await Lifecycle(fixedTask, "cancel");
        using var notAnApproval = await Lifecycle(plain, "approve");
        var onHold = await TheEyeStatusAsync(approval);
        using var approved = await Lifecycle(approval, "approve");
        using var late = await Lifecycle(approval, "reject");
        using var tooEarly = await Lifecycle(fixedTask, "restart");
        _clock.Advance(TimeSpan.FromSeconds(6));
        using var restarted = await Lifecycle(fixedTask, "restart");

        Assert.Equal(HttpStatusCode.Unauthorized, withoutToken.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, cancelled.StatusCode);
        Assert.Equal("canceled/canceled", await TheEyeStatusAsync(plain));
        Assert.Equal((HttpStatusCode.Forbidden, "\"Job is not cancellable\""), (refused.StatusCode, await refused.Content.ReadAsStringAsync()));
        Assert.Equal((HttpStatusCode.BadRequest, "\"unexpected job type. only Approvals\""), (notAnApproval.StatusCode, await notAnApproval.Content.ReadAsStringAsync()));
        Assert.Equal("onhold/in_progress", onHold);
        Assert.Equal(HttpStatusCode.NoContent, approved.StatusCode);
        Assert.Equal("finished/success", await TheEyeStatusAsync(approval));
        Assert.Equal((HttpStatusCode.Conflict, "\"approval request no longer available\""), (late.StatusCode, await late.Content.ReadAsStringAsync()));
        Assert.Equal(HttpStatusCode.BadRequest, tooEarly.StatusCode);
        Assert.Equal(HttpStatusCode.OK, restarted.StatusCode);
        Assert.Equal("ready/in_progress", await TheEyeStatusAsync(fixedTask));
    }

    private async Task<string> CreateTheEyeJobAsync(string task)
    {
        using var created = await TheEye("job?customer=sandbox", $$"""{"task":"{{task}}","task_arguments":[]}""", bearer: SandboxCredentials.TheEyeAccessToken);
        return (string)(await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
    }

    private async Task<string> TheEyeStatusAsync(string id)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_sandbox.TheEyeUrl, $"sandbox/job/{id}"));
        request.Headers.Authorization = new("Bearer", SandboxCredentials.TheEyeAccessToken);
        using var response = await _http.SendAsync(request);
        var job = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        return $"{(string?)job["lifecycle"]}/{(string?)job["state"]}";
    }

    private Task<HttpResponseMessage> Lifecycle(string id, string action, string? bearer = SandboxCredentials.TheEyeAccessToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, new Uri(_sandbox.TheEyeUrl, $"sandbox/job/{id}/{action}"));
        if (bearer is not null)
        {
            request.Headers.Authorization = new("Bearer", bearer);
        }

        return _http.SendAsync(request);
    }

    private async Task<JsonObject> Read(string id)
    {
        using var response = await Keboola(HttpMethod.Get, $"jobs/{id}");
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    private Task<HttpResponseMessage> Keboola(HttpMethod method, string path, string? body = null, string token = SandboxCredentials.KeboolaToken)
    {
        var request = new HttpRequestMessage(method, new Uri(_sandbox.KeboolaUrl, path));
        request.Headers.Add("X-StorageApi-Token", token);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        return _http.SendAsync(request);
    }

    private Task<HttpResponseMessage> TheEye(string path, string body, string? bearer = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_sandbox.TheEyeUrl, path)) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (bearer is not null)
        {
            request.Headers.Authorization = new("Bearer", bearer);
        }

        return _http.SendAsync(request);
    }
}
