using JobRelay.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using System.Net;
using JobRelay.Model;
using JobRelay.Runs;
using JobRelay.Secrets;
using JobRelay.State;
using JobRelay.Tests.Http;
using JobRelay.Tests.Scheduling;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace JobRelay.Tests.Watching;

/// <summary>
/// The watch's own failures, each through the real pipeline: a status read answered 500 or 429, one that hangs, the
/// vault down, a job the platform answers 404 for, and a job past the horizon. A failed read keeps the watch with
/// backoff and blocks no other; only repeated 404s lose a job, and only the horizon abandons one. No log carries a token.
/// </summary>
public sealed class WatchFailureTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = JobWatchTests.Start;
    private readonly FakeTimeProvider _clock = new(Start);
    private readonly VaultSwitch _vault = new();
    private ScriptedPlatforms _platforms = null!;
    private RelayHost _host = null!;

    public async Task InitializeAsync()
    {
        _platforms = await ScriptedPlatforms.StartAsync();
        _host = await JobWatchTests.StartHostAsync(
            _platforms,
            _clock,
            new Dictionary<string, string?>
            {
                ["JobRelay:Watch:Horizon"] = "00:10:00",
                ["JobRelay:Secrets:CacheDuration"] = "00:00:01",
                ["JobRelay:Secrets:StaleGrace"] = "00:00:00",
            },
            services => services.AddSingleton<ISecretSource>(provider => new VaultSwitch.Source(
                _vault, new ConfigurationSecretSource(provider.GetRequiredService<IOptionsMonitor<SecretsOptions>>(), _clock))));
    }

    public async Task DisposeAsync()
    {
        _host.Logs.AssertContainsNone(RelayHost.KeboolaToken, RelayHost.TheEyeToken, "theeye-job-secret-9d8e7f");
        await _host.DisposeAsync();
        await _platforms.DisposeAsync();
    }

    [Theory]
    [InlineData(500)]
    [InlineData(503)]
    public async Task AReadAnsweredWithAServerErrorKeepsTheWatchWithADoublingBackoffAndTheEndStillStartsTheFollower(int status)
    {
        var (runId, jobId) = await StartAsync();
        _platforms.Fail(jobId, status);

        var first = await CheckAtAsync(Start.AddSeconds(10));
        var afterFirst = await RunAsync(runId);
        var second = await CheckAtAsync(afterFirst.WatchNextAt!.Value);
        var afterSecond = await RunAsync(runId);
        _platforms.Heal(jobId);
        _platforms.Set(jobId, "success");
        var healed = await CheckAtAsync(afterSecond.WatchNextAt!.Value);

        Assert.Equal((1, 1, 1), (first.Failed, second.Failed, healed.Ended));
        Assert.Equal(Start.AddSeconds(20), afterFirst.WatchNextAt);
        Assert.Equal(Start.AddSeconds(40), afterSecond.WatchNextAt);
        Assert.Equal(2, afterSecond.WatchFailures);
        Assert.Contains($"HTTP {status}", afterSecond.WatchReason, StringComparison.Ordinal);
        Assert.Equal(WatchState.Ended, (await RunAsync(runId)).Watch);
        Assert.Single(_platforms.TheEye.Requests, r => r.Method == "POST");
    }

    [Fact]
    public async Task AReadAnsweredTooManyRequestsWaitsAsLongAsThePlatformAsks()
    {
        var (runId, jobId) = await StartAsync();
        _platforms.Fail(jobId, 429);

        var report = await CheckAtAsync(Start.AddSeconds(10));

        var run = await RunAsync(runId);
        Assert.Equal(1, report.Failed);
        Assert.Equal(WatchState.Watching, run.Watch);
        Assert.Equal(Start.AddSeconds(10 + 120), run.WatchNextAt);
    }

    [Fact]
    public async Task AReadThatHangsTimesOutWithoutHoldingUpTheOtherWatches()
    {
        var (hungRun, hungJob) = await StartAsync();
        var (endedRun, endedJob) = await StartAsync();
        _platforms.Hang(hungJob);
        _platforms.Set(endedJob, "success");
        _clock.Advance(TimeSpan.FromSeconds(10));

        var tick = Watch().CheckDueAsync(CancellationToken.None);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await RunAsync(endedRun)).Watch != WatchState.Ended && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        var endedWhileHung = (await RunAsync(endedRun)).Watch;
        while (!tick.IsCompleted)
        {
            _clock.Advance(TimeSpan.FromSeconds(1));
            await Task.WhenAny(tick, Task.Delay(10));
        }

        var report = await tick;
        var hung = await RunAsync(hungRun);
        Assert.Equal(WatchState.Ended, endedWhileHung);
        Assert.Equal((1, 1), (report.Ended, report.Failed));
        Assert.Equal(WatchState.Watching, hung.Watch);
        Assert.Equal(1, hung.WatchFailures);
        Assert.Contains("did not answer", hung.WatchReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheVaultDownKeepsTheWatchWithoutReadingTheJobAndTheReadSucceedsOnceItIsBack()
    {
        var (runId, jobId) = await StartAsync();
        _platforms.Set(jobId, "success");
        _vault.Down = true;

        var down = await CheckAtAsync(Start.AddSeconds(10));
        var kept = await RunAsync(runId);
        _vault.Down = false;
        var back = await CheckAtAsync(kept.WatchNextAt!.Value);

        Assert.Equal(1, down.Failed);
        Assert.Equal(WatchState.Watching, kept.Watch);
        Assert.Contains("vault", kept.WatchReason, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(1, back.Ended);
        Assert.Equal(1, _platforms.Reads(jobId));
    }

    [Fact]
    public async Task AJobThePlatformAnswers404ForIsLostOnlyAfterThreeReadsInARow()
    {
        var (runId, jobId) = await StartAsync();
        _platforms.Fail(jobId, 404);
        var states = new List<WatchState>();

        await CheckAtAsync(Start.AddSeconds(10));
        for (var i = 0; i < 3; i++)
        {
            var run = await RunAsync(runId);
            states.Add(run.Watch);
            if (run.Watch == WatchState.Watching)
            {
                await CheckAtAsync(run.WatchNextAt!.Value);
            }
        }

        var lost = await RunAsync(runId);
        Assert.Equal([WatchState.Watching, WatchState.Watching, WatchState.Lost], states);
        Assert.Equal(3, lost.WatchMisses);
        Assert.Contains($"has no job '{jobId}'", lost.WatchReason, StringComparison.Ordinal);
        Assert.Equal(3, _platforms.Reads(jobId));
        Assert.Empty(_platforms.TheEye.Requests);
        using var response = await _host.GetAsync($"/api/runs/{runId}");
        Assert.Equal("lost", (string?)(await RelayHost.JsonAsync(response))["run"]!["watch"]!["state"]);
    }

    [Fact]
    public async Task AJobWithNoEndPastTheHorizonIsAbandonedAndReadNoMore()
    {
        var (runId, jobId) = await StartAsync();

        for (var run = await RunAsync(runId); run.Watch == WatchState.Watching; run = await RunAsync(runId))
        {
            await CheckAtAsync(run.WatchNextAt!.Value);
        }

        var abandoned = await RunAsync(runId);
        var reads = _platforms.Reads(jobId);
        await CheckAtAsync(Start.AddHours(1));
        Assert.Equal(WatchState.Abandoned, abandoned.Watch);
        Assert.StartsWith("no final state within", abandoned.WatchReason, StringComparison.Ordinal);
        Assert.Equal(reads, _platforms.Reads(jobId));
        Assert.True(_clock.GetUtcNow() >= Start.AddMinutes(10));
    }

    private async Task<WatchReport> CheckAtAsync(DateTimeOffset at)
    {
        if (at > _clock.GetUtcNow())
        {
            _clock.Advance(at - _clock.GetUtcNow());
        }

        return await Watch().CheckDueAsync(CancellationToken.None);
    }

    private IJobWatch Watch() => _host.Services.GetRequiredService<IJobWatch>();

    private Task<RunRecord> RunAsync(string runId) => JobWatchTests.FindRunAsync(_host, runId);

    private Task<(string RunId, string JobId)> StartAsync() => JobWatchTests.StartRunAsync(_host, "load");

    /// <summary>A secret source that answers as Key Vault does when it cannot be reached, while <see cref="Down"/>.</summary>
    private sealed class VaultSwitch
    {
        public volatile bool Down;

        public sealed class Source(VaultSwitch vault, ISecretSource inner) : ISecretSource
        {
            public Task<SecretValue> ReadAsync(string name, CancellationToken cancellationToken)
                => vault.Down
                    ? throw new RelayException(RelayErrorKind.SecretStoreUnavailable, $"Key Vault could not be reached to read secret '{name}'.")
                    : inner.ReadAsync(name, cancellationToken);
        }
    }
}
