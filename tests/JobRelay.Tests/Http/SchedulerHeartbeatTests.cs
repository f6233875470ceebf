using System.Net;
using System.Text.Json.Nodes;
using JobRelay.Runs;
using JobRelay.Scheduling;
using JobRelay.Tests.Scheduling;
using Microsoft.Extensions.DependencyInjection;

namespace JobRelay.Tests.Http;

/// <summary>
/// The scheduler heartbeat in <c>jobrelay serve</c>, through Kestrel: readiness and <c>/api/health/scheduler</c> with
/// serve's wiring (the tick is the sweep loop's, every sweep interval). The loop itself is held back so that the test
/// alone ticks, exactly as the loop does, on a clock it moves.
/// </summary>
public sealed class SchedulerHeartbeatTests : IAsyncLifetime
{
    private const string Catalog = """
        {
          "platforms": { "kbc": { "type": "keboola", "url": "http://127.0.0.1:1/", "tokenSecret": "kbc-token" } },
          "triggers": { "load": { "platform": "kbc", "keboola": { "component": "keboola.ex-db", "config": "42" } } }
        }
        """;

    private static readonly DateTimeOffset Start = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly ManualTimeProvider _clock = new(Start);
    private RelayHost _host = null!;

    private SchedulerHeartbeat Heartbeat => _host.Services.GetRequiredService<SchedulerHeartbeat>();

    public async Task InitializeAsync()
        => _host = await RelayHost.StartAsync(
            Catalog,
            new Dictionary<string, Uri>(),
            new Dictionary<string, string?> { ["JobRelay:Store:SweepInterval"] = "00:00:10" },
            services =>
            {
                services.AddSingleton<TimeProvider>(_clock);
                services.AddJobRelaySweepLoop();
                services.Remove(services.Single(d => d.ImplementationType == typeof(RunSweepService)));
            });

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task AFreshStartIsReadyUntilThreeSweepIntervalsAndAHalfPassWithoutAnyTick()
    {
        var (fresh, freshBody) = await ReadyAsync();
        _clock.Advance(TimeSpan.FromSeconds(35));
        var (graced, _) = await ReadyAsync();
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        var (late, lateBody) = await ReadyAsync();

        Assert.Equal(HttpStatusCode.OK, fresh);
        Assert.Equal("starting", (string?)freshBody["scheduler"]!["state"]);
        Assert.Null(freshBody["scheduler"]!["lastTick"]);
        Assert.Equal(HttpStatusCode.OK, graced);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, late);
        Assert.Equal("urn:jobrelay:problem:not-ready", (string?)lateBody["type"]);
        Assert.Equal(
            "The scheduler has never ticked: 3 ticks (every 00:00:10) were due by 2026-12-01T12:00:35.0000000+00:00. The timer or loop that drives schedules and the sweep does not run.",
            (string?)lateBody["detail"]);
        Assert.Equal("late", (string?)lateBody["scheduler"]!["state"]);
        Assert.Equal("readable", (string?)lateBody["secrets"]!["kbc-token"]);
    }

    [Fact]
    public async Task ReadinessFailsAfterThreeMissedSweepIntervalsNamingTheLastTickAndRecoversAtTheNextTick()
    {
        _clock.Advance(TimeSpan.FromSeconds(2));
        await Heartbeat.RecordTickAsync(CancellationToken.None);
        var (ticking, tickingBody) = await ReadyAsync();
        _clock.Advance(TimeSpan.FromSeconds(35));
        var (stillReady, _) = await ReadyAsync();
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        var (late, lateBody) = await ReadyAsync();
        await Heartbeat.RecordTickAsync(CancellationToken.None);
        var (again, againBody) = await ReadyAsync();

        Assert.Equal(HttpStatusCode.OK, ticking);
        Assert.Equal("ticking", (string?)tickingBody["scheduler"]!["state"]);
        Assert.Equal(HttpStatusCode.OK, stillReady);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, late);
        var instance = $"{Environment.MachineName}/{Environment.ProcessId}";
        Assert.Equal(
            $"The scheduler has not ticked since 2026-12-01T12:00:02.0000000+00:00 (host serve, instance {instance}): 3 ticks (every 00:00:10) were due by 2026-12-01T12:00:37.0000000+00:00. The timer or loop that drives schedules and the sweep has stopped.",
            (string?)lateBody["detail"]);
        Assert.Equal(DateTimeOffset.Parse("2026-12-01T12:00:02Z", System.Globalization.CultureInfo.InvariantCulture), (DateTimeOffset?)lateBody["scheduler"]!["lastTick"]);
        Assert.Equal(HttpStatusCode.OK, again);
        Assert.Equal("ready", (string?)againBody["status"]);
        Assert.Equal("ticking", (string?)againBody["scheduler"]!["state"]);
        Assert.Equal(DateTimeOffset.Parse("2026-12-01T12:00:37.001Z", System.Globalization.CultureInfo.InvariantCulture), (DateTimeOffset?)againBody["scheduler"]!["lastTick"]);
    }

    [Fact]
    public async Task TheSchedulerRouteShowsTheLastTickWithItsHostInstanceCadenceAndWhenItTurnsLate()
    {
        _clock.Advance(TimeSpan.FromSeconds(1));
        await Heartbeat.RecordTickAsync(CancellationToken.None);
        _clock.Advance(TimeSpan.FromSeconds(4));

        using var response = await _host.GetAsync("/api/health/scheduler");
        using var unauthorized = await _host.GetAsync("/api/health/scheduler", apiKey: null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        var body = await RelayHost.JsonAsync(response);
        Assert.Equal(
            new JsonObject
            {
                ["state"] = "ticking",
                ["lastTick"] = "2026-12-01T12:00:01+00:00",
                ["host"] = "serve",
                ["instance"] = $"{Environment.MachineName}/{Environment.ProcessId}",
                ["cadence"] = "every 00:00:10",
                ["lateAfter"] = "2026-12-01T12:00:36+00:00",
                ["checkedAt"] = "2026-12-01T12:00:05+00:00",
            }.ToJsonString(),
            body.ToJsonString());
        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
    }

    private async Task<(HttpStatusCode Status, JsonObject Body)> ReadyAsync()
    {
        using var response = await _host.GetAsync("/api/health/ready");
        return (response.StatusCode, await RelayHost.JsonAsync(response));
    }
}
