using JobRelay.Model;
using JobRelay.Secrets;
using JobRelay.Tests.Support;
using Moq;
using static JobRelay.Tests.Platforms.Keboola.KeboolaTestKit;

namespace JobRelay.Tests.Platforms.Keboola;

public sealed class KeboolaAuthenticationTests : IDisposable
{
    private readonly KeboolaTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    [Fact]
    public async Task AnInvalidAccessTokenNamesTheSecretAndTheStackHostButNotTheToken()
    {
        await using var server = await LoopbackServer.StartAsync(Answer(401, InvalidToken));

        var error = await Assert.ThrowsAsync<RelayException>(() => _kit.Platform(server).StartJobAsync(Job(), CancellationToken.None));

        Assert.Equal(RelayErrorKind.PlatformAuthenticationFailed, error.Kind);
        Assert.Equal(401, error.PlatformStatusCode);
        Assert.Equal(PlatformName, error.Platform);
        Assert.Contains($"token secret '{SecretName}'", error.Message, StringComparison.Ordinal);
        Assert.Contains($"stack served at {server.BaseAddress.Authority}", error.Message, StringComparison.Ordinal);
        Assert.Contains("Invalid access token", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Token, error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(RotatedToken, error.ToString(), StringComparison.Ordinal);
        Assert.Equal(2, server.Requests.Count(r => r.Method == "POST"));
    }

    [Fact]
    public async Task AForbiddenInvalidAccessTokenIsAnAuthenticationFailureToo()
    {
        await using var server = await LoopbackServer.StartAsync(Answer(403, """{"error":"Invalid access token","code":403,"status":"error","exceptionId":"exception-403"}"""));

        var error = await Assert.ThrowsAsync<RelayException>(() => _kit.Platform(server).GetJobStatusAsync("55", CancellationToken.None));

        Assert.Equal(RelayErrorKind.PlatformAuthenticationFailed, error.Kind);
        Assert.Equal(403, error.PlatformStatusCode);
    }

    [Fact]
    public async Task AnotherForbiddenAnswerIsARejectionAfterTheSecretWasReReadOnce()
    {
        await using var server = await LoopbackServer.StartAsync(Answer(403, """{"error":"You don't have access to the resource.","code":403,"status":"error","exceptionId":"exception-403b"}"""));

        var error = await Assert.ThrowsAsync<RelayException>(() => _kit.Platform(server).StartJobAsync(Job(), CancellationToken.None));

        Assert.Equal(RelayErrorKind.PlatformRejected, error.Kind);
        Assert.Equal(403, error.PlatformStatusCode);
        Assert.Contains("You don't have access to the resource.", error.Message, StringComparison.Ordinal);
        Assert.Contains("exception-403b", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, server.Requests.Count);
    }

    [Fact]
    public async Task ARotatedTokenIsReReadAndTheJobIsStartedWithIt()
    {
        await using var server = await LoopbackServer.StartAsync(Answers(new QueueAnswer(401, InvalidToken), new QueueAnswer(201, CreatedJob)));
        var secrets = SecretStore(current: Token, refreshed: RotatedToken);

        var started = await _kit.Platform(server, secrets.Object).StartJobAsync(Job(), CancellationToken.None);

        Assert.Equal("1234567", started.JobId);
        Assert.Collection(
            server.Requests,
            first => Assert.Equal(Token, first.Header("X-StorageApi-Token")),
            second => Assert.Equal(RotatedToken, second.Header("X-StorageApi-Token")));
        Assert.All(server.Requests, r => Assert.Equal("POST", r.Method));
        secrets.Verify(s => s.RefreshAsync(SecretName, It.Is<SecretValue>(v => v.Value == Token), It.IsAny<CancellationToken>()), Times.Once);
        Assert.Contains(_kit.Logs.GetSnapshot(), l => l.Id.Id == 1308);
    }

    [Fact]
    public async Task ARotatedTokenIsReReadForAStatusReadToo()
    {
        await using var server = await LoopbackServer.StartAsync(Answers(
            new QueueAnswer(401, InvalidToken),
            new QueueAnswer(200, """{"id":"55","status":"processing","isFinished":false}""")));

        var status = await _kit.Platform(server).GetJobStatusAsync("55", CancellationToken.None);

        Assert.Equal("processing", status.RawStatus);
        Assert.Equal([Token, RotatedToken], server.Requests.Select(r => r.Header("X-StorageApi-Token")));
    }

    [Fact]
    public async Task WhitespaceAroundTheStoredTokenIsNotSent()
    {
        await using var server = await LoopbackServer.StartAsync(Answer(201, CreatedJob));

        await _kit.Platform(server, SecretStore(current: $"  {Token}\n").Object).StartJobAsync(Job(), CancellationToken.None);

        Assert.Equal(Token, Assert.Single(server.Requests).Header("X-StorageApi-Token"));
    }

    [Fact]
    public async Task AStoredTokenThatAHeaderCannotCarryIsRefusedWithoutSendingOrShowingIt()
    {
        await using var server = await LoopbackServer.StartAsync(Answer(201, CreatedJob));
        const string broken = "kbc-broken\r\nX-Injected: 1";

        var error = await Assert.ThrowsAsync<RelayException>(
            () => _kit.Platform(server, SecretStore(current: broken, refreshed: broken).Object).StartJobAsync(Job(), CancellationToken.None));

        Assert.Equal(RelayErrorKind.PlatformAuthenticationFailed, error.Kind);
        Assert.Contains(SecretName, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("kbc-broken", error.ToString(), StringComparison.Ordinal);
        Assert.Empty(server.Requests);
        _kit.Logs.AssertContainsNone("kbc-broken");
    }

    [Fact]
    public async Task TheTokenNeverReachesALogLineOrAnExceptionMessage()
    {
        // The fake queue echoes the token it was sent in every error, as a careless proxy might.
        var posts = 0;
        await using var server = await LoopbackServer.StartAsync(context =>
        {
            var token = context.Request.Headers["X-StorageApi-Token"].ToString();
            var echo = $$"""{"error":"Invalid access token {{token}}","code":401,"status":"error","exceptionId":"exception-{{token}}"}""";
            var post = context.Request.Method == "POST" ? Interlocked.Increment(ref posts) : 0;
            return (context.Request.Path.Value, post) switch
            {
                ("/keboola/jobs", 1 or 2) => Answer(401, echo)(context),
                ("/keboola/jobs", 3) => Answer(400, echo.Replace("Invalid access token", "Bad request for", StringComparison.Ordinal))(context),
                ("/keboola/jobs", 4) => Answer(500, echo)(context),
                ("/keboola/jobs", 5) => Answers(new QueueAnswer(429, echo, RetryAfter: "0"))(context),
                ("/keboola/jobs", _) => Answer(201, CreatedJob)(context),
                ("/keboola/jobs/404", _) => Answer(404, echo)(context),
                _ => Answer(200, """{"id":"1234567","runId":"1234567","status":"warning","isFinished":true}""")(context),
            };
        });
        var platform = _kit.Platform(server);
        var errors = new List<RelayException>
        {
            await Assert.ThrowsAsync<RelayException>(() => platform.StartJobAsync(Job(), CancellationToken.None)),
            await Assert.ThrowsAsync<RelayException>(() => platform.StartJobAsync(Job(), CancellationToken.None)),
            await Assert.ThrowsAsync<RelayException>(() => platform.StartJobAsync(Job(), CancellationToken.None)),
            await Assert.ThrowsAsync<RelayException>(() => platform.GetJobStatusAsync("404", CancellationToken.None)),
        };

        var started = await platform.StartJobAsync(Job() with { ParentRunId = "1000" }, CancellationToken.None);
        var status = await platform.GetJobStatusAsync(started.JobId, CancellationToken.None);
        await platform.KillJobAsync(started.JobId, CancellationToken.None);

        Assert.Equal(
            [RelayErrorKind.PlatformAuthenticationFailed, RelayErrorKind.PlatformRejected, RelayErrorKind.OutcomeUnknown, RelayErrorKind.NotFound],
            errors.Select(e => e.Kind));
        Assert.Equal("warning", status.RawStatus);
        Assert.Contains(server.Requests, r => r.Header("X-StorageApi-Token") == Token);
        Assert.Contains(server.Requests, r => r.Header("X-StorageApi-Token") == RotatedToken);
        Assert.All(errors, e => Assert.DoesNotContain(Token, e.ToString(), StringComparison.Ordinal));
        Assert.All(errors, e => Assert.DoesNotContain(RotatedToken, e.ToString(), StringComparison.Ordinal));
        int[] expectedEvents = [1200, 1201, 1306, 1307, 1308, 1309, 1311, 1313, 1315];
        Assert.All(expectedEvents, id => Assert.Contains(_kit.Logs.GetSnapshot(), l => l.Id.Id == id));
        _kit.Logs.AssertContainsNone(Token, RotatedToken);
    }
}
