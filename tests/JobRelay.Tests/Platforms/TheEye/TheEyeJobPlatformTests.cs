using System.Text.Json.Nodes;
using JobRelay.Model;
using JobRelay.Platforms;
using JobRelay.Platforms.TheEye;
using JobRelay.Secrets;
using JobRelay.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using Moq;

namespace JobRelay.Tests.Platforms.TheEye;

public sealed class TheEyeJobPlatformTests : IAsyncDisposable
{
    private const string Token = "eye-access-t0ken-31f9a2";
    private const string RotatedToken = "eye-access-t0ken-rotated-77c1";
    private const string TaskKey = "task-secret-key-8b3e0d";
    private const string JobSecret = "job-secret-5a5a5a5a";
    private const string InProgress = $$"""{"id":"64f000000000000000000001","name":"Deploy","task_id":"task-1","state":"in_progress","lifecycle":"ready","secret":"{{JobSecret}}","creation_date":"2026-11-22T10:00:00.000Z","customer_name":"acme"}""";

    private readonly FakeLogCollector _logs = new();
    private readonly List<IAsyncDisposable> _servers = [];
    private readonly List<HttpClient> _clients = [];
    private readonly KeptJobSecrets _kept = new();

    [Fact]
    public async Task AnAccessTokenGoesInTheAuthorizationHeaderOnly()
    {
        var server = await Serve(Respond(200, InProgress));

        var started = await Platform(server).StartJobAsync(Job(TheEyeAuthentication.AccessToken, JsonValue.Create("a"), null, JsonValue.Create(3)), CancellationToken.None);

        var sent = Assert.Single(server.Requests);
        Assert.Equal("POST", sent.Method);
        Assert.Equal("/theeye/job", sent.Path);
        Assert.Equal("?customer=acme", sent.QueryString);
        Assert.Equal($"Bearer {Token}", sent.Header("Authorization"));
        Assert.Equal("""{"task":"task-1","task_arguments":["a",null,3]}""", sent.Body);
        Assert.Equal("64f000000000000000000001", started.JobId);
        Assert.Equal(JobState.Queued, started.Status.State);
        Assert.Equal("ready/in_progress", started.Status.RawStatus);
    }

    [Fact]
    public async Task ATaskSecretKeyUsesTheDocumentedSecretRouteWithoutAHeader()
    {
        var server = await Serve(Respond(200, InProgress));

        await Platform(server).StartJobAsync(Job(TheEyeAuthentication.SecretKey), CancellationToken.None);

        var sent = Assert.Single(server.Requests);
        Assert.Equal($"/theeye/job/secret/{TaskKey}", sent.Path);
        Assert.Equal("?customer=acme", sent.QueryString);
        Assert.Null(sent.Header("Authorization"));
        Assert.Equal("""{"task":"task-1","task_arguments":[]}""", sent.Body);
    }

    [Fact]
    public async Task TheTaskScopedSecretRouteCarriesTheTaskInThePath()
    {
        var server = await Serve(Respond(200, InProgress));

        await Platform(server).StartJobAsync(Job(TheEyeAuthentication.TaskSecretKey), CancellationToken.None);

        var sent = Assert.Single(server.Requests);
        Assert.Equal($"/theeye/task/task-1/secret/{TaskKey}/job", sent.Path);
        Assert.Equal(string.Empty, sent.QueryString);
        Assert.Null(sent.Header("Authorization"));
    }

    [Fact]
    public async Task A200WithAJobThatEndedAtOnceIsAStartedJobThatFailed()
    {
        var server = await Serve(Respond(200, """{"id":"64f0000000000000000000ff","state":"error","lifecycle":"terminated","output":["Invalid Task Arguments"]}"""));

        var started = await Platform(server).StartJobAsync(Job(TheEyeAuthentication.AccessToken), CancellationToken.None);

        Assert.Equal("64f0000000000000000000ff", started.JobId);
        Assert.Equal(JobState.Failed, started.Status.State);
        Assert.True(started.Status.IsFinal);
        Assert.Contains("ended at once", started.Status.Message, StringComparison.Ordinal);
        Assert.Contains("Invalid Task Arguments", started.Status.Message, StringComparison.Ordinal);
        Assert.Contains(_logs.GetSnapshot(), l => l.Id.Id == 1402);
    }

    [Theory]
    [InlineData(400, """{"statusCode":400,"message":"Invalid Task Arguments. An array of length 2 is required"}""", RelayErrorKind.PlatformRejected, "array of length 2")]
    [InlineData(404, "\"task not found\"", RelayErrorKind.PlatformRejected, "task not found")]
    [InlineData(403, "\"organization is required\"", RelayErrorKind.PlatformRejected, "customer 'acme'")]
    [InlineData(401, "\"Unauthorized\"", RelayErrorKind.PlatformAuthenticationFailed, "secret 'eye-token'")]
    [InlineData(403, "\"invalid secret\"", RelayErrorKind.PlatformAuthenticationFailed, "invalid secret")]
    public async Task ErrorsInBothBodyShapesAreMapped(int status, string body, RelayErrorKind kind, string message)
    {
        var server = await Serve(Respond(status, body));

        var ex = await Assert.ThrowsAsync<RelayException>(() => Platform(server).StartJobAsync(Job(TheEyeAuthentication.AccessToken), CancellationToken.None));

        Assert.Equal(kind, ex.Kind);
        Assert.Equal(status, ex.PlatformStatusCode);
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARefusedTokenIsReadAgainAndTriedExactlyOnceMore()
    {
        var calls = 0;
        var server = await Serve(context => Interlocked.Increment(ref calls) == 1 ? Write(context, 401, "\"Unauthorized\"") : Write(context, 200, InProgress));
        var secrets = Secrets();

        await Platform(server, secrets.Object).StartJobAsync(Job(TheEyeAuthentication.AccessToken), CancellationToken.None);

        Assert.Equal([$"Bearer {Token}", $"Bearer {RotatedToken}"], server.Requests.Select(r => r.Header("Authorization")));
        secrets.Verify(s => s.RefreshAsync("eye-token", It.IsAny<SecretValue>(), It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task A500AfterThePostIsAnUnknownOutcomeAndNeverResent()
    {
        var server = await Serve(Respond(500, """{"statusCode":500,"message":"boom"}"""));

        var ex = await Assert.ThrowsAsync<RelayException>(() => Platform(server).StartJobAsync(Job(TheEyeAuthentication.AccessToken), CancellationToken.None));

        Assert.Equal(RelayErrorKind.OutcomeUnknown, ex.Kind);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task APlatformThatNeverAnswersAPostIsAnUnknownOutcomeAndAReadATimeout()
    {
        // The attempts' time budgets run on a fake clock, moved only once the POST has arrived: on a busy machine a
        // real 300 ms could run out before the request reached the server, and the test would prove nothing.
        var arrived = new SemaphoreSlim(0);
        var server = await Serve(async context =>
        {
            arrived.Release();
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
        });
        var attemptTimeout = TimeSpan.FromMilliseconds(300);
        var clock = new FakeTimeProvider();
        var platform = Platform(server, attemptTimeout: attemptTimeout, clock: clock);

        var posting = platform.StartJobAsync(Job(TheEyeAuthentication.AccessToken), CancellationToken.None);
        Assert.True(await arrived.WaitAsync(TimeSpan.FromSeconds(30)), "The POST never reached the platform.");
        clock.Advance(attemptTimeout);
        var post = await Assert.ThrowsAsync<RelayException>(() => posting);
        var reading = platform.GetJobStatusAsync("64f000000000000000000001", CancellationToken.None);
        while (!reading.IsCompleted)
        {
            // Each step ends the attempt in flight or the wait before the retry, whichever the read is in.
            clock.Advance(attemptTimeout);
            await Task.WhenAny(reading, Task.Delay(20));
        }

        var read = await Assert.ThrowsAsync<RelayException>(() => reading);

        Assert.Equal(RelayErrorKind.OutcomeUnknown, post.Kind);
        Assert.Equal(RelayErrorKind.Timeout, read.Kind);
        Assert.Single(server.Requests, r => r.Method == "POST");
    }

    [Theory]
    [InlineData("ready", "in_progress", JobState.Queued, false)]
    [InlineData("assigned", "in_progress", JobState.Running, false)]
    [InlineData("syncing", "in_progress", JobState.Running, false)]
    [InlineData("locked", "in_progress", JobState.Running, false)]
    [InlineData("onhold", "in_progress", JobState.Queued, false)]
    [InlineData("finished", "success", JobState.Succeeded, true)]
    [InlineData("finished", "failure", JobState.Failed, true)]
    [InlineData("terminated", "error", JobState.Failed, true)]
    [InlineData("completed", "timeout", JobState.Failed, true)]
    [InlineData("canceled", "canceled", JobState.Cancelled, true)]
    [InlineData("expired", "in_progress", JobState.Failed, true)]
    public async Task LifecyclesAndStatesAreNormalised(string lifecycle, string state, JobState expected, bool final)
    {
        var server = await Serve(Respond(200, $$"""{"id":"64f000000000000000000001","lifecycle":"{{lifecycle}}","state":"{{state}}"}"""));

        var status = await Platform(server).GetJobStatusAsync("64f000000000000000000001", CancellationToken.None);

        Assert.Equal(expected, status.State);
        Assert.Equal(final, status.IsFinal);
        Assert.Equal($"{lifecycle}/{state}", status.RawStatus);
        var sent = Assert.Single(server.Requests);
        Assert.Equal("/theeye/acme/job/64f000000000000000000001", sent.Path);
        Assert.Equal($"Bearer {Token}", sent.Header("Authorization"));
    }

    [Theory]
    [InlineData(200, """{"id":"64f000000000000000000001","lifecycle":"finished","state":"success"}""", JobState.Succeeded)]
    [InlineData(500, """{"id":"64f000000000000000000001","lifecycle":"finished","state":"failure"}""", JobState.Failed)]
    [InlineData(408, "", JobState.Running)]
    [InlineData(303, "", JobState.Running)]
    public async Task WithoutATokenTheStatusComesFromTheJobSecretResultRoute(int status, string body, JobState expected)
    {
        var server = await Serve(context => context.Request.Method == "POST" ? Write(context, 200, InProgress) : Write(context, status, body));
        var platform = Platform(server, accessTokenSecret: null);
        var started = await platform.StartJobAsync(Job(TheEyeAuthentication.SecretKey), CancellationToken.None);
        Assert.Equal(JobSecret, started.JobSecret);
        _kept.Keep("theeye", started);

        var read = await platform.GetJobStatusAsync(started.JobId, CancellationToken.None);

        Assert.Equal(expected, read.State);
        var get = server.Requests.Single(r => r.Method == "GET");
        Assert.Equal($"/theeye/job/64f000000000000000000001/secret/{JobSecret}/result", get.Path);
        Assert.Equal("?full&timeout=1", get.QueryString);
    }

    [Fact]
    public async Task WithoutATokenAnUnknownJobSaysWhyItsStatusCannotBeRead()
    {
        var server = await Serve(Respond(200, InProgress));

        var ex = await Assert.ThrowsAsync<RelayException>(() => Platform(server, accessTokenSecret: null).GetJobStatusAsync("64f000000000000000000009", CancellationToken.None));

        Assert.Equal(RelayErrorKind.NotFound, ex.Kind);
        Assert.Contains("accessTokenSecret", ex.Message, StringComparison.Ordinal);
        Assert.Empty(server.Requests);
    }

    [Fact]
    public async Task AControlRefusedWith401IsTriedOnceMoreWithTheTokenReadAgainThenApplied()
    {
        var calls = 0;
        var server = await Serve(context => Interlocked.Increment(ref calls) switch
        {
            1 => Write(context, 401, "\"Unauthorized\""),
            2 => Write(context, 204, string.Empty),
            _ => Write(context, 200, """{"id":"64f000000000000000000001","lifecycle":"canceled","state":"canceled"}"""),
        });
        var secrets = Secrets();

        var outcome = await Platform(server, secrets.Object).CancelJobAsync("64f000000000000000000001", CancellationToken.None);

        // The status read after it takes the token the store gives (this mock keeps giving the first one).

        var applied = Assert.IsType<JobControlOutcome.Applied>(outcome);
        Assert.Equal(("cancel of job 64f000000000000000000001 requested", JobState.Cancelled), (applied.Summary, applied.Status.State));
        Assert.Equal(
            [("PUT", "/theeye/acme/job/64f000000000000000000001/cancel", $"Bearer {Token}"), ("PUT", "/theeye/acme/job/64f000000000000000000001/cancel", $"Bearer {RotatedToken}"), ("GET", "/theeye/acme/job/64f000000000000000000001", $"Bearer {Token}")],
            server.Requests.Select(r => (r.Method, r.Path, r.Header("Authorization"))));
        secrets.Verify(s => s.RefreshAsync("eye-token", It.IsAny<SecretValue>(), It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task ARestartAnswered500IsAnUnknownOutcomeAndNeverResentWhileACancelAnswered500IsRetried()
    {
        var restarts = await Serve(Respond(500, "\"Internal Server Error\""));
        var cancels = await Serve(Respond(500, "\"Internal Server Error\""));

        var restart = await Assert.ThrowsAsync<RelayException>(() => Platform(restarts).RestartJobAsync("64f000000000000000000001", Job(TheEyeAuthentication.AccessToken, JsonValue.Create("a")), CancellationToken.None));
        var cancel = await Assert.ThrowsAsync<RelayException>(() => Platform(cancels).CancelJobAsync("64f000000000000000000001", CancellationToken.None));

        Assert.Equal(RelayErrorKind.OutcomeUnknown, restart.Kind);
        var sent = Assert.Single(restarts.Requests);
        Assert.Equal(("PUT", "/theeye/acme/job/64f000000000000000000001/restart", """{"task_arguments":["a"]}"""), (sent.Method, sent.Path, sent.Body));
        Assert.Equal(RelayErrorKind.PlatformUnavailable, cancel.Kind);
        Assert.Equal(2, cancels.Requests.Count);
    }

    [Fact]
    public async Task WithoutAnAccessTokenThePlatformOffersNoControlAndSendsNothing()
    {
        var server = await Serve(Respond(204, string.Empty));
        var platform = Platform(server, accessTokenSecret: null);

        var outcomes = new[]
        {
            await platform.CancelJobAsync("64f000000000000000000001", CancellationToken.None),
            await platform.ApproveJobAsync("64f000000000000000000001", CancellationToken.None),
            await platform.RejectJobAsync("64f000000000000000000001", CancellationToken.None),
            await platform.RestartJobAsync("64f000000000000000000001", Job(TheEyeAuthentication.SecretKey), CancellationToken.None),
        };

        Assert.Empty(platform.Controls);
        Assert.Equal(JobControlNames.All, Platform(server).Controls.Order());
        Assert.All(outcomes, o => Assert.Contains("names no accessTokenSecret", Assert.IsType<JobControlOutcome.NotSupported>(o).Reason, StringComparison.Ordinal));
        Assert.Empty(server.Requests);
    }

    [Fact]
    public async Task NoTokenKeyOrJobSecretReachesALogLineAMessageOrAResult()
    {
        var calls = 0;
        var server = await Serve(context => Interlocked.Increment(ref calls) switch
        {
            1 => Write(context, 200, InProgress),
            2 => Write(context, 403, $"\"invalid secret {TaskKey}\""),
            _ => Write(context, 500, $$"""{"id":"64f000000000000000000001","lifecycle":"finished","state":"failure","output":["failed"]}"""),
        });
        var platform = Platform(server, accessTokenSecret: null);
        var texts = new List<string>();

        var started = await platform.StartJobAsync(Job(TheEyeAuthentication.SecretKey), CancellationToken.None);
        _kept.Keep("theeye", started);
        texts.Add(started.ToString());
        texts.Add((await Assert.ThrowsAsync<RelayException>(() => platform.StartJobAsync(Job(TheEyeAuthentication.TaskSecretKey), CancellationToken.None))).Message);
        texts.Add((await platform.GetJobStatusAsync(started.JobId, CancellationToken.None)).ToString());

        _logs.AssertContainsNone(Token, TaskKey, JobSecret);
        Assert.DoesNotContain(texts, t => t.Contains(TaskKey, StringComparison.Ordinal) || t.Contains(JobSecret, StringComparison.Ordinal));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var server in _servers)
        {
            await server.DisposeAsync();
        }

        foreach (var client in _clients)
        {
            client.Dispose();
        }
    }

    private static TheEyeJobRequest Job(TheEyeAuthentication authentication, params JsonNode?[] arguments) => new()
    {
        Trigger = "deploy",
        TaskId = "task-1",
        TaskArguments = arguments,
        Authentication = authentication,
        SecretKeySecretName = authentication == TheEyeAuthentication.AccessToken ? null : "task-key",
    };

    private static Mock<ISecretStore> Secrets()
    {
        var store = new Mock<ISecretStore>();
        var at = DateTimeOffset.UnixEpoch;
        store.Setup(s => s.GetAsync("eye-token", It.IsAny<CancellationToken>())).ReturnsAsync(new SecretValue("eye-token", Token, "v1", at));
        store.Setup(s => s.GetAsync("task-key", It.IsAny<CancellationToken>())).ReturnsAsync(new SecretValue("task-key", TaskKey, "v1", at));
        store.Setup(s => s.RefreshAsync("eye-token", It.IsAny<SecretValue>(), It.IsAny<CancellationToken>())).ReturnsAsync(new SecretValue("eye-token", RotatedToken, "v2", at.AddMinutes(1)));
        store.Setup(s => s.RefreshAsync("task-key", It.IsAny<SecretValue>(), It.IsAny<CancellationToken>())).ReturnsAsync(new SecretValue("task-key", TaskKey, "v1", at));
        return store;
    }

    private TheEyeJobPlatform Platform(LoopbackServer server, ISecretStore? secrets = null, string? accessTokenSecret = "eye-token", TimeSpan? attemptTimeout = null, TimeProvider? clock = null)
    {
        var http = new HttpClient(new SocketsHttpHandler()) { Timeout = Timeout.InfiniteTimeSpan };
        _clients.Add(http);
        var options = new PlatformHttpOptions
        {
            AttemptTimeout = attemptTimeout ?? TimeSpan.FromSeconds(5),
            ConnectTimeout = TimeSpan.FromMilliseconds(200),
            TotalTimeout = TimeSpan.FromSeconds(10),
            MaxRetries = 1,
            RetryBaseDelay = TimeSpan.FromMilliseconds(10),
        };
        var factory = _logs.CreateFactory();
        var sender = new PlatformSender(http, "theeye", options, clock ?? TimeProvider.System, factory.CreateLogger<PlatformSender>());
        return new TheEyeJobPlatform(
            new TheEyePlatformSettings("theeye", new Uri(server.BaseAddress, "theeye/"), "acme", accessTokenSecret),
            sender,
            (secrets ?? Secrets().Object),
            _kept,
            factory.CreateLogger<TheEyeJobPlatform>());
    }

    private async Task<LoopbackServer> Serve(RequestDelegate handler)
    {
        var server = await LoopbackServer.StartAsync(handler);
        _servers.Add(server);
        return server;
    }

    private static RequestDelegate Respond(int status, string body) => context => Write(context, status, body);

    private static Task Write(HttpContext context, int status, string body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        return body.Length == 0 ? Task.CompletedTask : context.Response.WriteAsync(body);
    }
}

/// <summary>The job secrets a test hands over from the starts it made, as the run store keeps them in the engine.</summary>
internal sealed class KeptJobSecrets : IJobSecretSource
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Platform, string JobId), string> _secrets = new();

    public void Keep(string platform, StartedJob started)
    {
        if (started.JobSecret is { } secret)
        {
            _secrets[(platform, started.JobId)] = secret;
        }
    }

    public Task<string?> FindAsync(string platform, string jobId, CancellationToken cancellationToken)
        => Task.FromResult(_secrets.TryGetValue((platform, jobId), out var secret) ? secret : null);
}
