using JobRelay.Platforms;
using JobRelay.Platforms.Keboola;
using JobRelay.Secrets;
using JobRelay.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Moq;

namespace JobRelay.Tests.Platforms.Keboola;

/// <summary>One answer of the fake queue.</summary>
public sealed record QueueAnswer(int Status, string Body, string? RetryAfter = null);

/// <summary>A fake Keboola queue on a loopback server, and adapters wired to it.</summary>
internal sealed class KeboolaTestKit : IDisposable
{
    public const string PlatformName = "keboola-eu";
    public const string SecretName = "keboola-eu-storage-token";
    public const string Token = "kbc-3521-storage-t0ken-a9f4c7e2";
    public const string RotatedToken = "kbc-3521-rotated-t0ken-5d81b3f0";

    public const string CreatedJob = """
        {"id":"1234567","runId":"1234567","status":"created","url":"https://queue.keboola.com/jobs/1234567","isFinished":false,
         "createdTime":"2025-03-04T10:11:12+01:00","startTime":null,"endTime":null,"durationSeconds":0,
         "component":"keboola.ex-db-snowflake","config":"493493","mode":"run","tag":"1.2.3","branchId":null,
         "result":[],"parentRunId":"","configData":[],"usageData":[],"backend":[],"metrics":[]}
        """;

    public const string InvalidToken = """{"error":"Invalid access token","code":401,"status":"error","exceptionId":"exception-6e1f0c"}""";

    private readonly List<HttpClient> _clients = [];

    public KeboolaTestKit() => LoggerFactory = Logs.CreateFactory();

    public FakeLogCollector Logs { get; } = new();

    public ILoggerFactory LoggerFactory { get; }

    /// <summary>A handler that gives <paramref name="answers"/> in turn, repeating the last one.</summary>
    public static RequestDelegate Answers(params QueueAnswer[] answers)
    {
        var calls = 0;
        return context =>
        {
            var answer = answers[Math.Min(Interlocked.Increment(ref calls), answers.Length) - 1];
            context.Response.StatusCode = answer.Status;
            if (answer.RetryAfter is not null)
            {
                context.Response.Headers.RetryAfter = answer.RetryAfter;
            }

            context.Response.ContentType = "application/json";
            return context.Response.WriteAsync(answer.Body);
        };
    }

    public static RequestDelegate Answer(int status, string body) => Answers(new QueueAnswer(status, body));

    /// <summary>A store whose secret reads <paramref name="current"/> and, once refreshed, <paramref name="refreshed"/>.</summary>
    public static Mock<ISecretStore> SecretStore(string current = Token, string refreshed = RotatedToken)
    {
        var store = new Mock<ISecretStore>(MockBehavior.Strict);
        var readAt = new DateTimeOffset(2025, 3, 4, 9, 0, 0, TimeSpan.Zero);
        store.Setup(s => s.GetAsync(SecretName, It.IsAny<CancellationToken>()))
            .ReturnsAsync(new SecretValue(SecretName, current, "v1", readAt));
        store.Setup(s => s.RefreshAsync(SecretName, It.IsAny<SecretValue>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(new SecretValue(SecretName, refreshed, "v2", readAt.AddMinutes(5)));
        return store;
    }

    public static KeboolaJobRequest Job(string component = "keboola.ex-db-snowflake") => new() { Trigger = "nightly-load", Component = component };

    /// <summary>An adapter for the queue at <paramref name="server"/> plus <paramref name="prefix"/>, with fast retries.</summary>
    public KeboolaJobPlatform Platform(LoopbackServer server, ISecretStore? secrets = null, string prefix = "keboola/")
    {
        var http = new HttpClient(new SocketsHttpHandler()) { Timeout = Timeout.InfiniteTimeSpan };
        _clients.Add(http);
        var options = new PlatformHttpOptions
        {
            AttemptTimeout = TimeSpan.FromSeconds(5),
            TotalTimeout = TimeSpan.FromSeconds(15),
            RetryBaseDelay = TimeSpan.FromMilliseconds(10),
            MaxRetries = 3,
            MaxRetryAfter = TimeSpan.FromSeconds(5),
        };
        var sender = new PlatformSender(http, PlatformName, options, TimeProvider.System, LoggerFactory.CreateLogger<PlatformSender>());
        var settings = new KeboolaPlatformSettings(PlatformName, new Uri(server.BaseAddress, prefix), SecretName);
        return new KeboolaJobPlatform(settings, sender, secrets ?? SecretStore().Object, LoggerFactory.CreateLogger<KeboolaJobPlatform>());
    }

    public void Dispose()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }

        LoggerFactory.Dispose();
    }
}
