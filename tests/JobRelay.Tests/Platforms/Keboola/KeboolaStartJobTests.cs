using System.Text.Json.Nodes;
using JobRelay.Model;
using JobRelay.Platforms;
using JobRelay.Platforms.Keboola;
using JobRelay.Tests.Support;
using Microsoft.Extensions.Logging;
using Moq;
using static JobRelay.Tests.Platforms.Keboola.KeboolaTestKit;

namespace JobRelay.Tests.Platforms.Keboola;

public sealed class KeboolaStartJobTests : IDisposable
{
    private readonly KeboolaTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    [Fact]
    public async Task StartJobPostsEveryFieldToTheQueue()
    {
        await using var server = await LoopbackServer.StartAsync(Answer(201, CreatedJob));
        var request = Job() with
        {
            Mode = "forceRun",
            Config = "493493",
            ConfigRowIds = ["row-1", "row-2"],
            ConfigData = new JsonObject { ["parameters"] = new JsonObject { ["db"] = "prod", ["limit"] = 10 } },
            Tag = "1.2.3",
            BranchId = "9876",
            VariableValues = [new("env", "prod"), new("day", "2025-03-04")],
            Backend = new KeboolaBackend("small", null),
            DelaySeconds = 60,
            Parallelism = "5",
            ParentRunId = "1000.2000",
        };

        await _kit.Platform(server).StartJobAsync(request, CancellationToken.None);

        var sent = Assert.Single(server.Requests);
        Assert.Equal("POST", sent.Method);
        Assert.Equal("/keboola/jobs", sent.Path);
        Assert.Equal(string.Empty, sent.QueryString);
        Assert.Equal(Token, sent.Header("X-StorageApi-Token"));
        Assert.Equal("1000.2000", sent.Header("X-KBC-RunId"));
        Assert.Equal("application/json", sent.Header("Content-Type"));
        Assert.Equal(
            """{"component":"keboola.ex-db-snowflake","mode":"forceRun","config":"493493","configRowIds":["row-1","row-2"],"configData":{"parameters":{"db":"prod","limit":10}},"tag":"1.2.3","branchId":"9876","variableValuesData":{"values":[{"name":"env","value":"prod"},{"name":"day","value":"2025-03-04"}]},"backend":{"type":"small"},"delay":60,"parallelism":5}""",
            sent.Body);
    }

    [Fact]
    public async Task StartJobSendsStoredVariablesAStartTimeAFullBackendAndInfiniteParallelism()
    {
        await using var server = await LoopbackServer.StartAsync(Answer(201, CreatedJob));
        var request = Job() with
        {
            VariableValuesId = "vv-77",
            Backend = new KeboolaBackend("large", "wlm"),
            DelayedStartTime = new DateTimeOffset(2025, 3, 4, 22, 30, 0, TimeSpan.FromHours(1)),
            Parallelism = "infinity",
        };

        await _kit.Platform(server).StartJobAsync(request, CancellationToken.None);

        Assert.Equal(
            """{"component":"keboola.ex-db-snowflake","mode":"run","variableValuesId":"vv-77","backend":{"type":"large","context":"wlm"},"delayedStartTime":"2025-03-04T22:30:00+01:00","parallelism":"infinity"}""",
            Assert.Single(server.Requests).Body);
    }

    [Fact]
    public async Task StartJobSendsADelayedStartTimeWithItsFractionOfASecond()
    {
        await using var server = await LoopbackServer.StartAsync(Answer(201, CreatedJob));
        var startAt = new DateTimeOffset(2025, 3, 4, 21, 30, 0, TimeSpan.Zero).AddTicks(2_500_000);

        await _kit.Platform(server).StartJobAsync(Job() with { DelayedStartTime = startAt }, CancellationToken.None);

        Assert.Equal(
            """{"component":"keboola.ex-db-snowflake","mode":"run","delayedStartTime":"2025-03-04T21:30:00.25+00:00"}""",
            Assert.Single(server.Requests).Body);
    }

    [Fact]
    public async Task StartJobWithOnlyAComponentSendsTheComponentAndTheDefaultMode()
    {
        await using var server = await LoopbackServer.StartAsync(Answer(201, CreatedJob));

        await _kit.Platform(server).StartJobAsync(Job(), CancellationToken.None);

        var sent = Assert.Single(server.Requests);
        Assert.Equal("""{"component":"keboola.ex-db-snowflake","mode":"run"}""", sent.Body);
        Assert.Null(sent.Header("X-KBC-RunId"));
        Assert.Equal(Token, sent.Header("X-StorageApi-Token"));
    }

    [Fact]
    public async Task StartJobReturnsTheCreatedJobWithItsRunIdUrlAndTimes()
    {
        await using var server = await LoopbackServer.StartAsync(Answer(201, CreatedJob));

        var started = await _kit.Platform(server).StartJobAsync(Job(), CancellationToken.None);

        Assert.Equal("1234567", started.JobId);
        Assert.Equal("1234567", started.RunId);
        Assert.Equal("1234567", started.Status.JobId);
        Assert.Equal(JobState.Queued, started.Status.State);
        Assert.Equal("created", started.Status.RawStatus);
        Assert.False(started.Status.IsFinal);
        Assert.Equal(new Uri("https://queue.keboola.com/jobs/1234567"), started.Status.Url);
        Assert.Equal(new DateTimeOffset(2025, 3, 4, 9, 11, 12, TimeSpan.Zero), started.Status.CreatedAt);
        Assert.Null(started.Status.StartedAt);
        Assert.Null(started.Status.FinishedAt);
        Assert.Null(started.Status.Message);
    }

    [Theory]
    [InlineData("keboola/", "/keboola/jobs")]
    [InlineData("keboola", "/keboola/jobs")]
    [InlineData("eu/queue/", "/eu/queue/jobs")]
    [InlineData("", "/jobs")]
    public async Task StartJobKeepsThePathPrefixOfTheQueueUrl(string prefix, string expectedPath)
    {
        await using var server = await LoopbackServer.StartAsync(Answer(201, CreatedJob));

        await _kit.Platform(server, prefix: prefix).StartJobAsync(Job(), CancellationToken.None);

        Assert.Equal(expectedPath, Assert.Single(server.Requests).Path);
    }

    [Theory]
    [InlineData("2", "2")]
    [InlineData("100", "100")]
    [InlineData(" 17 ", "17")]
    [InlineData("infinity", "\"infinity\"")]
    [InlineData("Infinity", "\"infinity\"")]
    public async Task StartJobSendsParallelismAsANumberOrAsInfinity(string parallelism, string expectedJson)
    {
        await using var server = await LoopbackServer.StartAsync(Answer(201, CreatedJob));

        await _kit.Platform(server).StartJobAsync(Job() with { Parallelism = parallelism }, CancellationToken.None);

        Assert.Equal(
            $$"""{"component":"keboola.ex-db-snowflake","mode":"run","parallelism":{{expectedJson}}}""",
            Assert.Single(server.Requests).Body);
    }

    [Theory]
    [InlineData("1")]
    [InlineData("101")]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("2.5")]
    [InlineData("many")]
    [InlineData("")]
    public async Task StartJobRefusesParallelismOutsideTwoToAHundredOrInfinityWithoutSending(string parallelism)
    {
        await using var server = await LoopbackServer.StartAsync(Answer(201, CreatedJob));
        var secrets = new Mock<JobRelay.Secrets.ISecretStore>(MockBehavior.Strict);

        var error = await Assert.ThrowsAsync<RelayException>(
            () => _kit.Platform(server, secrets.Object).StartJobAsync(Job() with { Parallelism = parallelism }, CancellationToken.None));

        Assert.Equal(RelayErrorKind.InvalidInput, error.Kind);
        Assert.Contains("parallelism must be a whole number from 2 to 100 or \"infinity\"", error.Message, StringComparison.Ordinal);
        Assert.Equal(PlatformName, error.Platform);
        Assert.Empty(server.Requests);
    }

    private static readonly (KeboolaJobRequest Request, string Problem)[] InvalidRequests =
    [
        (Job() with { VariableValuesId = "vv-1", VariableValues = [new("env", "prod")] }, "set only one"),
        (Job() with { DelayedStartTime = DateTimeOffset.UnixEpoch, DelaySeconds = 30 }, "set only one"),
        (Job() with { DelaySeconds = -1 }, "zero or more seconds"),
        (Job(component: " "), "a component id is required"),
        (Job() with { ParentRunId = "1000\r\nX-Other: 1" }, "parent run id"),
    ];

    public static TheoryData<int> InvalidCombinations() => new(Enumerable.Range(0, InvalidRequests.Length));

    [Theory]
    [MemberData(nameof(InvalidCombinations))]
    public async Task StartJobRefusesAnInvalidRequestWithoutSendingIt(int invalidRequest)
    {
        var (request, expectedProblem) = InvalidRequests[invalidRequest];
        await using var server = await LoopbackServer.StartAsync(Answer(201, CreatedJob));
        var secrets = new Mock<JobRelay.Secrets.ISecretStore>(MockBehavior.Strict);

        var error = await Assert.ThrowsAsync<RelayException>(
            () => _kit.Platform(server, secrets.Object).StartJobAsync(request, CancellationToken.None));

        Assert.Equal(RelayErrorKind.InvalidInput, error.Kind);
        Assert.Contains(expectedProblem, error.Message, StringComparison.Ordinal);
        Assert.Contains("nightly-load", error.Message, StringComparison.Ordinal);
        Assert.Empty(server.Requests);
    }

    [Fact]
    public async Task StartJobRefusesARequestForAnotherPlatform()
    {
        await using var server = await LoopbackServer.StartAsync(Answer(201, CreatedJob));

        await Assert.ThrowsAsync<ArgumentException>(
            () => _kit.Platform(server).StartJobAsync(new TheEyeJobRequest { Trigger = "t", TaskId = "task-1" }, CancellationToken.None));

        Assert.Empty(server.Requests);
    }

    [Fact]
    public async Task StartJobRefusedWith429IsSentAgainAfterTheRetryAfterDelay()
    {
        await using var server = await LoopbackServer.StartAsync(Answers(
            new QueueAnswer(429, """{"error":"Too many requests","code":429,"status":"error"}""", RetryAfter: "1"),
            new QueueAnswer(201, CreatedJob)));

        var started = await _kit.Platform(server).StartJobAsync(Job(), CancellationToken.None);

        Assert.Equal("1234567", started.JobId);
        Assert.Equal(2, server.Requests.Count(r => r.Method == "POST"));
        Assert.All(server.Requests, r => Assert.Equal(Token, r.Header("X-StorageApi-Token")));
    }

    [Fact]
    public async Task StartJobAnsweredWith500IsSentOnceAndItsOutcomeIsUnknown()
    {
        await using var server = await LoopbackServer.StartAsync(Answer(500, """{"error":"Internal Server Error","code":500,"status":"error"}"""));

        var error = await Assert.ThrowsAsync<RelayException>(() => _kit.Platform(server).StartJobAsync(Job(), CancellationToken.None));

        Assert.Equal(RelayErrorKind.OutcomeUnknown, error.Kind);
        Assert.Equal(500, error.PlatformStatusCode);
        Assert.Equal(PlatformName, error.Platform);
        Assert.Single(server.Requests, r => r.Method == "POST");
    }

    [Fact]
    public async Task StartJobRejectedByTheQueueReportsItsErrorAndExceptionId()
    {
        await using var server = await LoopbackServer.StartAsync(Answer(
            400,
            """{"error":"Component \"keboola.ex-nope\" not found","code":400,"status":"error","exceptionId":"job-runner-5f2a","context":{"component":"keboola.ex-nope"}}"""));

        var error = await Assert.ThrowsAsync<RelayException>(
            () => _kit.Platform(server).StartJobAsync(Job("keboola.ex-nope"), CancellationToken.None));

        Assert.Equal(RelayErrorKind.PlatformRejected, error.Kind);
        Assert.Equal(400, error.PlatformStatusCode);
        Assert.Equal(PlatformName, error.Platform);
        Assert.Contains("Component \"keboola.ex-nope\" not found", error.Message, StringComparison.Ordinal);
        Assert.Contains("job-runner-5f2a", error.Message, StringComparison.Ordinal);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task StartJobRejectedWithABodyThatIsNotJsonIsStillReportedAsRejected()
    {
        await using var server = await LoopbackServer.StartAsync(Answer(422, "<html>Unprocessable</html>"));

        var error = await Assert.ThrowsAsync<RelayException>(() => _kit.Platform(server).StartJobAsync(Job(), CancellationToken.None));

        Assert.Equal(RelayErrorKind.PlatformRejected, error.Kind);
        Assert.Equal(422, error.PlatformStatusCode);
        Assert.DoesNotContain("<html>", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not json at all")]
    [InlineData("")]
    [InlineData("[]")]
    [InlineData("\"created\"")]
    [InlineData("""{"status":"created","isFinished":false}""")]
    [InlineData("""{"id":null,"status":"created"}""")]
    [InlineData("""{"id":{"value":1},"status":"created"}""")]
    public async Task StartJobAnsweredWithABodyThatIsNotAJobIsAnInvalidPlatformResponse(string body)
    {
        await using var server = await LoopbackServer.StartAsync(Answer(201, body));

        var error = await Assert.ThrowsAsync<RelayException>(() => _kit.Platform(server).StartJobAsync(Job(), CancellationToken.None));

        Assert.Equal(RelayErrorKind.InvalidPlatformResponse, error.Kind);
        Assert.Equal(201, error.PlatformStatusCode);
        Assert.Contains("check the platform", error.Message, StringComparison.Ordinal);
        Assert.Single(server.Requests);
    }

    [Fact]
    public void ThePlatformReportsItsCatalogNameAndKind()
    {
        var settings = new KeboolaPlatformSettings(PlatformName, new Uri("https://queue.keboola.com"), SecretName);
        using var http = new HttpClient();
        var sender = new PlatformSender(http, PlatformName, new PlatformHttpOptions(), TimeProvider.System, _kit.LoggerFactory.CreateLogger("test"));

        var platform = new KeboolaJobPlatform(settings, sender, SecretStore().Object, _kit.LoggerFactory.CreateLogger<KeboolaJobPlatform>());

        Assert.Equal(PlatformName, platform.Name);
        Assert.Equal(PlatformKind.Keboola, platform.Kind);
    }
}
