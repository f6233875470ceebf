using JobRelay.Model;
using JobRelay.Platforms;
using JobRelay.Tests.Support;
using static JobRelay.Tests.Platforms.Keboola.KeboolaTestKit;

namespace JobRelay.Tests.Platforms.Keboola;

public sealed class KeboolaJobStatusTests : IDisposable
{
    private readonly KeboolaTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    [Fact]
    public async Task JobStatusIsReadWithAGetOnTheJobAndTheToken()
    {
        await using var server = await LoopbackServer.StartAsync(Answer(200, """
            {"id":"1234567","runId":"1234567","status":"success","isFinished":true,"url":"https://queue.keboola.com/jobs/1234567",
             "createdTime":"2025-03-04T10:00:00+00:00","startTime":"2025-03-04T10:00:05+00:00","endTime":"2025-03-04T10:02:05+00:00",
             "result":{"message":"Component processing finished."}}
            """));

        var status = await _kit.Platform(server).GetJobStatusAsync("1234567", CancellationToken.None);

        var sent = Assert.Single(server.Requests);
        Assert.Equal("GET", sent.Method);
        Assert.Equal("/keboola/jobs/1234567", sent.Path);
        Assert.Equal(string.Empty, sent.QueryString);
        Assert.Equal(Token, sent.Header("X-StorageApi-Token"));
        Assert.Equal(string.Empty, sent.Body);
        Assert.Equal(new JobStatus("1234567", JobState.Succeeded, "success", true)
        {
            Url = new Uri("https://queue.keboola.com/jobs/1234567"),
            Message = "Component processing finished.",
            CreatedAt = new DateTimeOffset(2025, 3, 4, 10, 0, 0, TimeSpan.Zero),
            StartedAt = new DateTimeOffset(2025, 3, 4, 10, 0, 5, TimeSpan.Zero),
            FinishedAt = new DateTimeOffset(2025, 3, 4, 10, 2, 5, TimeSpan.Zero),
        }, status);
    }

    [Fact]
    public async Task JobStatusEscapesTheJobIdInThePath()
    {
        await using var server = await LoopbackServer.StartAsync(Answer(200, """{"id":"12/34 5","status":"processing","isFinished":false}"""));

        await _kit.Platform(server).GetJobStatusAsync("12/34 5", CancellationToken.None);

        Assert.Equal("/keboola/jobs/12%2F34 5", Assert.Single(server.Requests).Path);
    }

    [Theory]
    [InlineData("created", false, JobState.Queued)]
    [InlineData("waiting", false, JobState.Queued)]
    [InlineData("processing", false, JobState.Running)]
    [InlineData("success", true, JobState.Succeeded)]
    [InlineData("warning", true, JobState.Succeeded)]
    [InlineData("error", true, JobState.Failed)]
    [InlineData("terminating", false, JobState.Running)]
    [InlineData("terminated", true, JobState.Failed)]
    [InlineData("cancelled", true, JobState.Cancelled)]
    [InlineData("suspended", false, JobState.Running)]
    [InlineData("suspended", true, JobState.Failed)]
    public async Task EveryKeboolaStatusMapsToAJobState(string keboolaStatus, bool isFinished, JobState expected)
    {
        await using var server = await LoopbackServer.StartAsync(Answer(200, $$"""{"id":"55","status":"{{keboolaStatus}}","isFinished":{{(isFinished ? "true" : "false")}}}"""));

        var status = await _kit.Platform(server).GetJobStatusAsync("55", CancellationToken.None);

        Assert.Equal(expected, status.State);
        Assert.Equal(keboolaStatus, status.RawStatus);
        Assert.Equal(isFinished, status.IsFinal);
    }

    [Theory]
    [InlineData("success", false)]
    [InlineData("processing", true)]
    public async Task WhetherAJobIsFinalFollowsIsFinishedRatherThanTheStatus(string keboolaStatus, bool isFinished)
    {
        await using var server = await LoopbackServer.StartAsync(Answer(200, $$"""{"id":"55","status":"{{keboolaStatus}}","isFinished":{{(isFinished ? "true" : "false")}}}"""));

        var status = await _kit.Platform(server).GetJobStatusAsync("55", CancellationToken.None);

        Assert.Equal(isFinished, status.IsFinal);
    }

    [Theory]
    [InlineData("success", true)]
    [InlineData("cancelled", true)]
    [InlineData("waiting", false)]
    [InlineData("terminating", false)]
    public async Task WithoutIsFinishedAJobIsFinalWhenItsStatusIsAnEndStatus(string keboolaStatus, bool expectedFinal)
    {
        await using var server = await LoopbackServer.StartAsync(Answer(200, $$"""{"id":"55","status":"{{keboolaStatus}}"}"""));

        var status = await _kit.Platform(server).GetJobStatusAsync("55", CancellationToken.None);

        Assert.Equal(expectedFinal, status.IsFinal);
    }

    [Fact]
    public async Task AWarningJobSaysThatAChildJobFailed()
    {
        await using var server = await LoopbackServer.StartAsync(Answer(200, """{"id":"55","status":"warning","isFinished":true,"result":{"message":"Orchestration finished."}}"""));

        var status = await _kit.Platform(server).GetJobStatusAsync("55", CancellationToken.None);

        Assert.Equal(JobState.Succeeded, status.State);
        Assert.Contains("Orchestration finished.", status.Message, StringComparison.Ordinal);
        Assert.Contains("a child job failed", status.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AFailedJobCarriesTheResultMessage()
    {
        await using var server = await LoopbackServer.StartAsync(Answer(200, """
            {"id":"55","status":"error","isFinished":true,"endTime":"2025-03-04T10:02:05+00:00",
             "result":{"message":"Table \"in.c-main.orders\" does not exist.","error":{"type":"user","exceptionId":"exception-1f"}}}
            """));

        var status = await _kit.Platform(server).GetJobStatusAsync("55", CancellationToken.None);

        Assert.Equal(JobState.Failed, status.State);
        Assert.Equal("Table \"in.c-main.orders\" does not exist.", status.Message);
        Assert.Equal(new DateTimeOffset(2025, 3, 4, 10, 2, 5, TimeSpan.Zero), status.FinishedAt);
    }

    public static TheoryData<string, string, string?, string?> QuirkyJobs() => new()
    {
        // id and runId as numbers
        { """{"id":1234567,"runId":1234567,"status":"processing","isFinished":false}""", "1234567", "1234567", null },
        // empty result as []
        { """{"id":"77","runId":"77","status":"error","isFinished":true,"result":[]}""", "77", "77", null },
        // branchId as a number
        { """{"id":"78","status":"success","isFinished":true,"branchId":4567,"result":{"message":"done"}}""", "78", null, "done" },
        // branchId as a string
        { """{"id":"79","status":"success","isFinished":true,"branchId":"4567"}""", "79", null, null },
        // branchId null, parentRunId empty, every other empty object as []
        { """{"id":"80","runId":"80.81","status":"created","isFinished":false,"branchId":null,"parentRunId":"","configData":[],"usageData":[],"backend":[],"metrics":[],"startTime":null,"endTime":null,"createdTime":null}""", "80", "80.81", null },
    };

    [Theory]
    [MemberData(nameof(QuirkyJobs))]
    public async Task StartedJobsInEveryShapeTheQueueAnswersAreRead(string body, string expectedId, string? expectedRunId, string? expectedMessage)
    {
        await using var server = await LoopbackServer.StartAsync(Answer(201, body));

        var started = await _kit.Platform(server).StartJobAsync(Job(), CancellationToken.None);

        Assert.Equal(expectedId, started.JobId);
        Assert.Equal(expectedRunId, started.RunId);
        Assert.Equal(expectedMessage, started.Status.Message);
        Assert.Null(started.Status.CreatedAt);
    }

    [Fact]
    public async Task AJobCreatedWithoutARunIdIsLoggedWithoutAnEmptyRun()
    {
        await using var server = await LoopbackServer.StartAsync(Answer(201, """{"id":"78","status":"created","isFinished":false}"""));

        await _kit.Platform(server).StartJobAsync(Job(), CancellationToken.None);

        var line = Assert.Single(_kit.Logs.GetSnapshot(), l => l.Id.Id is 1307 or 1317);
        Assert.Equal(1317, line.Id.Id);
        Assert.Equal("Keboola platform keboola-eu created job 78 (status created) of component keboola.ex-db-snowflake for trigger nightly-load", line.Message);
    }

    [Fact]
    public async Task AJobCreatedWithARunIdIsLoggedWithIt()
    {
        await using var server = await LoopbackServer.StartAsync(Answer(201, """{"id":"80","runId":"80.81","status":"created","isFinished":false}"""));

        await _kit.Platform(server).StartJobAsync(Job(), CancellationToken.None);

        var line = Assert.Single(_kit.Logs.GetSnapshot(), l => l.Id.Id is 1307 or 1317);
        Assert.Equal("Keboola platform keboola-eu created job 80 (run 80.81, status created) of component keboola.ex-db-snowflake for trigger nightly-load", line.Message);
    }

    [Fact]
    public async Task JobStatusOfAnUnknownJobIsNotFound()
    {
        await using var server = await LoopbackServer.StartAsync(Answer(404, """{"error":"Job \"999\" not found","code":404,"status":"error","exceptionId":"exception-404a"}"""));

        var error = await Assert.ThrowsAsync<RelayException>(() => _kit.Platform(server).GetJobStatusAsync("999", CancellationToken.None));

        Assert.Equal(RelayErrorKind.NotFound, error.Kind);
        Assert.Equal(404, error.PlatformStatusCode);
        Assert.Equal(PlatformName, error.Platform);
        Assert.Contains("'999'", error.Message, StringComparison.Ordinal);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task JobStatusAnsweredWithABodyThatIsNotAJobIsAnInvalidPlatformResponse()
    {
        await using var server = await LoopbackServer.StartAsync(Answer(200, "[]"));

        var error = await Assert.ThrowsAsync<RelayException>(() => _kit.Platform(server).GetJobStatusAsync("55", CancellationToken.None));

        Assert.Equal(RelayErrorKind.InvalidPlatformResponse, error.Kind);
        Assert.Equal(200, error.PlatformStatusCode);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("..")]
    public async Task JobStatusOfAnEmptyOrDotIdIsRefusedWithoutSending(string jobId)
    {
        await using var server = await LoopbackServer.StartAsync(Answer(200, "{}"));

        var error = await Assert.ThrowsAsync<RelayException>(() => _kit.Platform(server).GetJobStatusAsync(jobId, CancellationToken.None));

        Assert.Equal(RelayErrorKind.InvalidInput, error.Kind);
        Assert.Empty(server.Requests);
    }

    [Fact]
    public async Task KillPostsToTheKillEndpointAndReturnsTheStatusReadAfterIt()
    {
        await using var server = await LoopbackServer.StartAsync(context => context.Request.Method == "POST"
            ? Answer(202, """{"id":"1234567","status":"terminating","isFinished":false}""")(context)
            : Answer(200, """{"id":"1234567","runId":"1234567","status":"terminating","isFinished":false}""")(context));

        var status = await _kit.Platform(server).KillJobAsync("1234567", CancellationToken.None);

        Assert.Equal(JobState.Running, status.State);
        Assert.Equal("terminating", status.RawStatus);
        Assert.False(status.IsFinal);
        Assert.Collection(
            server.Requests,
            kill =>
            {
                Assert.Equal("POST", kill.Method);
                Assert.Equal("/keboola/jobs/1234567/kill", kill.Path);
                Assert.Equal(string.Empty, kill.QueryString);
                Assert.Equal(Token, kill.Header("X-StorageApi-Token"));
                Assert.Equal(string.Empty, kill.Body);
            },
            read =>
            {
                Assert.Equal("GET", read.Method);
                Assert.Equal("/keboola/jobs/1234567", read.Path);
                Assert.Equal(Token, read.Header("X-StorageApi-Token"));
            });
    }

    [Fact]
    public async Task KillOfAnUnknownJobIsNotFoundAndReadsNothing()
    {
        await using var server = await LoopbackServer.StartAsync(Answer(404, """{"error":"Job \"999\" not found","code":404,"status":"error","exceptionId":"exception-404b"}"""));

        var error = await Assert.ThrowsAsync<RelayException>(() => _kit.Platform(server).KillJobAsync("999", CancellationToken.None));

        Assert.Equal(RelayErrorKind.NotFound, error.Kind);
        Assert.Equal(404, error.PlatformStatusCode);
        var sent = Assert.Single(server.Requests);
        Assert.Equal("/keboola/jobs/999/kill", sent.Path);
    }

    [Fact]
    public async Task KillRefusedByTheQueueIsRejectedWithItsError()
    {
        await using var server = await LoopbackServer.StartAsync(Answer(400, """{"error":"Job \"55\" is already finished","code":400,"status":"error","exceptionId":"exception-400k"}"""));

        var error = await Assert.ThrowsAsync<RelayException>(() => _kit.Platform(server).KillJobAsync("55", CancellationToken.None));

        Assert.Equal(RelayErrorKind.PlatformRejected, error.Kind);
        Assert.Contains("already finished", error.Message, StringComparison.Ordinal);
        Assert.Single(server.Requests);
    }
}
