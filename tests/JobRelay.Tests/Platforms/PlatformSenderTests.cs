using System.Diagnostics;
using System.Net;
using JobRelay.Model;
using JobRelay.Platforms;
using JobRelay.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace JobRelay.Tests.Platforms;

public sealed class PlatformSenderTests : IDisposable
{
    private const string SecretInPath = "s3cr3t-task-key-9f8e7d";
    private readonly FakeLogCollector _logs = new();
    private readonly ILoggerFactory _loggerFactory;

    public PlatformSenderTests() => _loggerFactory = _logs.CreateFactory();

    public void Dispose()
    {
        _loggerFactory.Dispose();
    }

    [Fact]
    public async Task AJobStartRefusedWith429IsSentAgainAfterTheRetryAfterDelay()
    {
        var calls = 0;
        await using var server = await LoopbackServer.StartAsync(ctx =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                ctx.Response.StatusCode = 429;
                ctx.Response.Headers.RetryAfter = "1";
                return Task.CompletedTask;
            }

            ctx.Response.StatusCode = 201;
            return ctx.Response.WriteAsync("{}");
        });
        var sender = CreateSender(server);
        var clock = Stopwatch.StartNew();

        using var response = await sender.SendAsync(PlatformRequestKind.StartJob, "start job", () => Post(server), CancellationToken.None);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(2, server.Requests.Count(r => r.Method == "POST"));
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(900), $"waited only {clock.Elapsed}");
    }

    [Fact]
    public async Task AJobStartRefusedWith503IsSentAgain()
    {
        var calls = 0;
        await using var server = await LoopbackServer.StartAsync(ctx =>
        {
            ctx.Response.StatusCode = Interlocked.Increment(ref calls) == 1 ? 503 : 201;
            return Task.CompletedTask;
        });

        using var response = await CreateSender(server).SendAsync(PlatformRequestKind.StartJob, "start job", () => Post(server), CancellationToken.None);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(2, server.Requests.Count);
    }

    [Fact]
    public async Task AJobStartAnsweredWith500IsNeverSentAgainAndItsOutcomeIsUnknown()
    {
        await using var server = await LoopbackServer.StartAsync(ctx =>
        {
            ctx.Response.StatusCode = 500;
            return Task.CompletedTask;
        });

        var error = await Assert.ThrowsAsync<RelayException>(() => CreateSender(server).SendAsync(PlatformRequestKind.StartJob, "start job", () => Post(server), CancellationToken.None));

        Assert.Equal(RelayErrorKind.OutcomeUnknown, error.Kind);
        Assert.Equal(500, error.PlatformStatusCode);
        Assert.Contains("check the platform", error.Message, StringComparison.Ordinal);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task AJobStartThatTimesOutAfterTheServerReceivedItIsSentExactlyOnce()
    {
        await using var server = await LoopbackServer.StartAsync(async ctx =>
        {
            await Task.Delay(TimeSpan.FromSeconds(5), ctx.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
        });
        // Generous next to a loopback round trip, so that a busy machine still delivers the request before the cut-off.
        var sender = CreateSender(server, o => o.AttemptTimeout = TimeSpan.FromSeconds(1.5));

        var error = await Assert.ThrowsAsync<RelayException>(() => sender.SendAsync(PlatformRequestKind.StartJob, "start job", () => Post(server), CancellationToken.None));

        Assert.Equal(RelayErrorKind.OutcomeUnknown, error.Kind);
        Assert.Single(server.Requests, r => r.Method == "POST");
    }

    [Fact]
    public async Task AReadAnsweredWith500IsRetriedUntilItSucceeds()
    {
        var calls = 0;
        await using var server = await LoopbackServer.StartAsync(ctx =>
        {
            ctx.Response.StatusCode = Interlocked.Increment(ref calls) < 3 ? 500 : 200;
            return Task.CompletedTask;
        });

        using var response = await CreateSender(server).SendAsync(PlatformRequestKind.Read, "read job", () => Get(server), CancellationToken.None);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3, server.Requests.Count);
    }

    [Fact]
    public async Task AReadThatNeverAnswersIsRetriedAndThenReportedAsATimeout()
    {
        await using var server = await LoopbackServer.StartAsync(async ctx =>
        {
            await Task.Delay(TimeSpan.FromSeconds(5), ctx.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
        });
        var sender = CreateSender(server, o =>
        {
            o.AttemptTimeout = TimeSpan.FromMilliseconds(200);
            o.MaxRetries = 2;
        });

        var error = await Assert.ThrowsAsync<RelayException>(() => sender.SendAsync(PlatformRequestKind.Read, "read job", () => Get(server), CancellationToken.None));

        Assert.Equal(RelayErrorKind.Timeout, error.Kind);
        Assert.Equal(3, server.Requests.Count);
    }

    [Fact]
    public async Task AJobStartToAPortWithNothingListeningIsRetriedAndReportedAsUnavailable()
    {
        var closedPort = LoopbackServer.FreePort();
        using var http = new HttpClient(new SocketsHttpHandler()) { BaseAddress = new Uri($"http://127.0.0.1:{closedPort}/") };
        var sender = new PlatformSender(http, "theeye", FastOptions(), TimeProvider.System, _loggerFactory.CreateLogger("test"));
        var attempts = 0;

        var error = await Assert.ThrowsAsync<RelayException>(() => sender.SendAsync(
            PlatformRequestKind.StartJob,
            "start job",
            () =>
            {
                attempts++;
                return new HttpRequestMessage(HttpMethod.Post, $"job/secret/{SecretInPath}");
            },
            CancellationToken.None));

        Assert.Equal(RelayErrorKind.PlatformUnavailable, error.Kind);
        Assert.Equal(4, attempts);
        Assert.DoesNotContain(SecretInPath, error.ToString(), StringComparison.Ordinal);
        _logs.AssertContainsNone(SecretInPath);
    }

    [Fact]
    public async Task AJobStartWhoseConnectionTimesOutIsRetriedAndReportedAsUnavailableNeverAsAnUnhandledCancellation()
    {
        // The real handler's ConnectTimeout over a network that never answers: it throws a cancellation whose inner
        // exception is a TimeoutException, which neither the caller nor an attempt's timeout asked for.
        var connects = 0;
        using var http = new HttpClient(new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromMilliseconds(100),
            ConnectCallback = async (_, cancellationToken) =>
            {
                Interlocked.Increment(ref connects);
                await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
                throw new InvalidOperationException("never reached");
            },
        })
        { BaseAddress = new Uri("http://127.0.0.1:9/"), Timeout = Timeout.InfiniteTimeSpan };
        var sender = new PlatformSender(http, "keboola", FastOptions(), TimeProvider.System, _loggerFactory.CreateLogger("test"));

        var error = await Assert.ThrowsAsync<RelayException>(() => sender.SendAsync(
            PlatformRequestKind.StartJob, "start job", () => new HttpRequestMessage(HttpMethod.Post, "jobs") { Content = new StringContent("{}") }, CancellationToken.None));

        Assert.Equal(RelayErrorKind.PlatformUnavailable, error.Kind);
        Assert.Equal("Platform 'keboola' could not be reached for the start job request (ConnectionError).", error.Message);
        Assert.Equal(4, connects);
    }

    [Fact]
    public async Task ARetryAfterLongerThanTheLimitIsHandedBackWithoutWaiting()
    {
        await using var server = await LoopbackServer.StartAsync(ctx =>
        {
            ctx.Response.StatusCode = 503;
            ctx.Response.Headers.RetryAfter = "120";
            return Task.CompletedTask;
        });

        var error = await Assert.ThrowsAsync<RelayException>(() => CreateSender(server).SendAsync(PlatformRequestKind.StartJob, "start job", () => Post(server), CancellationToken.None));

        Assert.Equal(RelayErrorKind.PlatformUnavailable, error.Kind);
        Assert.Equal(TimeSpan.FromSeconds(120), error.RetryAfter);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task A429ThatOutlastsEveryRetryIsReportedAsUnavailableWithItsRetryAfter()
    {
        await using var server = await LoopbackServer.StartAsync(ctx =>
        {
            ctx.Response.StatusCode = 429;
            ctx.Response.Headers.RetryAfter = "0";
            return Task.CompletedTask;
        });

        var error = await Assert.ThrowsAsync<RelayException>(() => CreateSender(server).SendAsync(PlatformRequestKind.StartJob, "start job", () => Post(server), CancellationToken.None));

        Assert.Equal(RelayErrorKind.PlatformUnavailable, error.Kind);
        Assert.Equal(429, error.PlatformStatusCode);
        Assert.Equal(4, server.Requests.Count);
    }

    [Fact]
    public async Task AClientErrorIsReturnedToTheAdapterAfterOneRequest()
    {
        await using var server = await LoopbackServer.StartAsync(ctx =>
        {
            ctx.Response.StatusCode = 400;
            return ctx.Response.WriteAsync("\"bad\"");
        });

        using var response = await CreateSender(server).SendAsync(PlatformRequestKind.StartJob, "start job", () => Post(server), CancellationToken.None);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("\"bad\"", await response.Content.ReadAsStringAsync());
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task RetriesAreLoggedWithoutTheAddressThatCarriesTheSecret()
    {
        var calls = 0;
        await using var server = await LoopbackServer.StartAsync(ctx =>
        {
            ctx.Response.StatusCode = Interlocked.Increment(ref calls) == 1 ? 503 : 200;
            return Task.CompletedTask;
        });

        using var response = await CreateSender(server).SendAsync(
            PlatformRequestKind.StartJob,
            "start job",
            () => new HttpRequestMessage(HttpMethod.Post, $"job/secret/{SecretInPath}?customer=acme"),
            CancellationToken.None);

        Assert.Contains(_logs.GetSnapshot(), l => l.Id.Id == 1200);
        _logs.AssertContainsNone(SecretInPath);
    }

    [Fact]
    public async Task TheCallersCancellationStopsTheCallWithoutBeingMistakenForATimeout()
    {
        await using var server = await LoopbackServer.StartAsync(async ctx =>
        {
            await Task.Delay(TimeSpan.FromSeconds(5), ctx.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
        });
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => CreateSender(server).SendAsync(PlatformRequestKind.Read, "read job", () => Get(server), cancellation.Token));
    }

    [Fact]
    public async Task AServerErrorMarkedAsTheRealAnswerIsReturnedWithoutRetrying()
    {
        await using var server = await LoopbackServer.StartAsync(ctx =>
        {
            ctx.Response.StatusCode = 500;
            return ctx.Response.WriteAsync("{\"state\":\"failure\"}");
        });

        using var response = await CreateSender(server).SendAsync(
            PlatformRequestKind.Read, "read job result", () => Get(server), CancellationToken.None, isAnswer: r => r.StatusCode == HttpStatusCode.InternalServerError);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("{\"state\":\"failure\"}", await response.Content.ReadAsStringAsync());
        Assert.Single(server.Requests);
    }

    private static PlatformHttpOptions FastOptions() => new()
    {
        AttemptTimeout = TimeSpan.FromSeconds(2),
        TotalTimeout = TimeSpan.FromSeconds(10),
        RetryBaseDelay = TimeSpan.FromMilliseconds(10),
        MaxRetries = 3,
        MaxRetryAfter = TimeSpan.FromSeconds(5),
    };

    private PlatformSender CreateSender(LoopbackServer server, Action<PlatformHttpOptions>? configure = null)
    {
        var options = FastOptions();
        configure?.Invoke(options);
        var http = new HttpClient(new SocketsHttpHandler()) { BaseAddress = server.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
        return new PlatformSender(http, "keboola", options, TimeProvider.System, _loggerFactory.CreateLogger("test"));
    }

    private static HttpRequestMessage Post(LoopbackServer server)
        => new(HttpMethod.Post, new Uri(server.BaseAddress, "jobs")) { Content = new StringContent("{}") };

    private static HttpRequestMessage Get(LoopbackServer server) => new(HttpMethod.Get, new Uri(server.BaseAddress, "jobs/1"));
}
