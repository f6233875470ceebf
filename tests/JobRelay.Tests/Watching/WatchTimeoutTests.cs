using JobRelay.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using System.Net;
using JobRelay.Model;
using JobRelay.Runs;
using JobRelay.State;
using JobRelay.Tests.Http;
using JobRelay.Tests.Scheduling;
using Microsoft.Extensions.DependencyInjection;

namespace JobRelay.Tests.Watching;

/// <summary>
/// A trigger's <c>maxDuration</c>: a job still running past it is marked overdue on its run (shown in the run's view
/// and counted in the trigger's stats); with <c>onTimeout: "cancel"</c> the job is cancelled on its platform, once,
/// and the cancel is in the run's history.
/// </summary>
public sealed class WatchTimeoutTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = JobWatchTests.Start;
    private readonly FakeTimeProvider _clock = new(Start);
    private ScriptedPlatforms _platforms = null!;
    private RelayHost _host = null!;

    public async Task InitializeAsync()
    {
        _platforms = await ScriptedPlatforms.StartAsync();
        _host = await JobWatchTests.StartHostAsync(_platforms, _clock);
    }

    public async Task DisposeAsync()
    {
        _host.Logs.AssertContainsNone(RelayHost.KeboolaToken, RelayHost.TheEyeToken);
        await _host.DisposeAsync();
        await _platforms.DisposeAsync();
    }

    [Fact]
    public async Task AKeboolaJobPastItsMaxDurationIsMarkedOverdueKilledOnceAndTheKillIsInItsHistory()
    {
        var (runId, jobId) = await StartAsync("slow");

        await WatchUntilAsync(runId, Start.AddMinutes(3));
        _platforms.Set(jobId, "terminated");
        await WatchUntilAsync(runId, Start.AddMinutes(5));

        var run = await RunAsync(runId);
        Assert.NotNull(run.OverdueAt);
        Assert.True(run.OverdueAt >= Start.AddMinutes(1));
        Assert.Single(_platforms.Keboola.Requests, r => r.Method == "POST" && r.Path == $"/jobs/{jobId}/kill");
        Assert.Equal(WatchState.Ended, run.Watch);
        Assert.Equal(JobState.Failed, run.JobState);
        using var detail = await _host.GetAsync($"/api/runs/{runId}");
        var body = await RelayHost.JsonAsync(detail);
        var entry = body["history"]!.AsArray().Single()!;
        Assert.Equal("cancel", (string?)entry["action"]);
        Assert.Equal("jobrelay (maxDuration)", (string?)entry["by"]);
        Assert.Equal($"kill of job {jobId} requested; the job is terminating", (string?)entry["detail"]);
        Assert.NotNull(body["run"]!["watch"]!["overdueAt"]);
    }

    [Fact]
    public async Task ATheEyeJobPastItsMaxDurationIsCancelledWithTheAccessTokenAndEndsCancelled()
    {
        var (runId, jobId) = await StartAsync("slow-eye");

        await WatchUntilAsync(runId, Start.AddMinutes(3));

        var cancel = Assert.Single(_platforms.TheEye.Requests, r => r.Method == "PUT");
        Assert.Equal($"/acme/job/{jobId}/cancel", cancel.Path);
        Assert.Equal("Bearer " + RelayHost.TheEyeToken, cancel.Header("Authorization"));
        var run = await RunAsync(runId);
        Assert.Equal(WatchState.Ended, run.Watch);
        Assert.Equal(JobState.Cancelled, run.JobState);
    }

    [Fact]
    public async Task ATheEyeJobWhoseTaskIsNotCancellableStaysOverdueAndWatchedWithTheEyesRefusalInItsHistory()
    {
        var (runId, jobId) = await StartAsync("slow-eye");
        _platforms.NotCancellable(jobId);

        await WatchUntilAsync(runId, Start.AddMinutes(3));

        Assert.Single(_platforms.TheEye.Requests, r => r.Method == "PUT" && r.Path == $"/acme/job/{jobId}/cancel");
        var run = await RunAsync(runId);
        Assert.Equal(WatchState.Watching, run.Watch);
        Assert.NotNull(run.OverdueAt);
        using var detail = await _host.GetAsync($"/api/runs/{runId}");
        var entry = (await RelayHost.JsonAsync(detail))["history"]!.AsArray().Single()!;
        Assert.Equal(("cancel", "jobrelay (maxDuration)"), ((string?)entry["action"], (string?)entry["by"]));
        Assert.Equal(
            $"refused by the platform (HTTP 403): TheEye platform 'eye' refused the cancel of job {jobId} (HTTP 403: Job is not cancellable): its task is set not cancellable (cancellable: false), which only a TheEye administrator's token overrides.",
            (string?)entry["detail"]);
        Assert.Contains(_host.Logs.GetSnapshot(), r => r.Id.Id == 2108 && r.Message.Contains(": refused: TheEye platform 'eye' refused the cancel", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AJobPastAMaxDurationWithoutOnTimeoutIsOnlyMarkedAndCountedInTheTriggersStats()
    {
        var (runId, _) = await StartAsync("slow-mark");

        await WatchUntilAsync(runId, Start.AddMinutes(3));

        var run = await RunAsync(runId);
        Assert.Equal(WatchState.Watching, run.Watch);
        Assert.NotNull(run.OverdueAt);
        Assert.DoesNotContain(_platforms.Keboola.Requests, r => r.Path.EndsWith("/kill", StringComparison.Ordinal));
        using var stats = await _host.GetAsync("/api/triggers/slow-mark/stats?window=P1D");
        Assert.Equal(HttpStatusCode.OK, stats.StatusCode);
        Assert.Equal(1, (long?)(await RelayHost.JsonAsync(stats))["counts"]!["overdue"]);
        using var list = await _host.GetAsync("/api/runs?trigger=slow-mark");
        Assert.NotNull((await RelayHost.JsonAsync(list))["runs"]![0]!["watch"]!["overdueAt"]);
    }

    /// <summary>Checks the run's watch at each of its due times until <paramref name="until"/> or its end.</summary>
    private async Task WatchUntilAsync(string runId, DateTimeOffset until)
    {
        for (var run = await RunAsync(runId); run.Watch == WatchState.Watching && run.WatchNextAt <= until; run = await RunAsync(runId))
        {
            _clock.Advance(run.WatchNextAt!.Value - _clock.GetUtcNow());
            await _host.Services.GetRequiredService<IJobWatch>().CheckDueAsync(CancellationToken.None);
        }
    }

    private Task<RunRecord> RunAsync(string runId) => JobWatchTests.FindRunAsync(_host, runId);

    private Task<(string RunId, string JobId)> StartAsync(string trigger) => JobWatchTests.StartRunAsync(_host, trigger);
}
