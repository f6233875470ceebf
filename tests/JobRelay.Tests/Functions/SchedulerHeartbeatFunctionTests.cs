using System.Text.Json.Nodes;
using JobRelay.Functions;
using JobRelay.Secrets;
using JobRelay.State;
using JobRelay.State.AzureTables;
using JobRelay.Tests.Scheduling;
using JobRelay.Tests.State;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace JobRelay.Tests.Functions;

/// <summary>
/// The heartbeat as the Functions app runs it, from the app's own container: the Scheduler timer function records
/// each tick in Table Storage (Azurite), and the readiness function judges it by the timer's <c>JOBRELAY_TICK</c>
/// schedule. Key Vault is stood in for by a source that reads every secret.
/// </summary>
[Collection(AzuriteGroup.Name)]
public sealed class SchedulerHeartbeatFunctionTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly ManualTimeProvider _clock = new(Start);
    private readonly TableRelayStore _store;

    public SchedulerHeartbeatFunctionTests(AzuriteFixture azurite)
    {
        ArgumentNullException.ThrowIfNull(azurite);
        _store = new TableRelayStore(azurite.Service, "ticks" + Guid.NewGuid().ToString("n")[..16], _clock, NullLogger<TableRelayStore>.Instance);
    }

    public void Dispose() => _store.Dispose();

    [Fact]
    public async Task ReadinessFailsWhenTheTimerMissedThreeOfItsTicksAndRecoversWhenItFiresAgain()
    {
        using var host = FunctionsAppHost.Build(
            settings: new Dictionary<string, string?> { ["JOBRELAY_TICK"] = "0 */1 * * * *" },
            afterSetup: services =>
            {
                services.AddSingleton<TimeProvider>(_clock);
                services.AddSingleton<IRelayStore>(_store);
                services.AddSingleton<ISecretSource>(new EverySecretReadable(_clock));
            });
        host.Services.GetRequiredService<JobRelay.Scheduling.SchedulerHeartbeat>();
        using var scope = host.Services.CreateScope();
        var timer = ActivatorUtilities.CreateInstance<SchedulerFunction>(scope.ServiceProvider);
        var health = ActivatorUtilities.CreateInstance<HealthFunction>(scope.ServiceProvider);

        _clock.Advance(TimeSpan.FromMilliseconds(200));
        await timer.Run(new TimerInfo(), CancellationToken.None);
        var ticking = await ReadyAsync(host.Services, health);
        _clock.Advance(new DateTimeOffset(2026, 12, 1, 12, 3, 30, TimeSpan.Zero) - _clock.GetUtcNow());
        var lastMoment = await ReadyAsync(host.Services, health);
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        var late = await ReadyAsync(host.Services, health);
        await timer.Run(new TimerInfo { ScheduleStatus = new ScheduleStatus { Last = new DateTime(2026, 12, 1, 12, 0, 0, DateTimeKind.Utc) } }, CancellationToken.None);
        var again = await ReadyAsync(host.Services, health);

        Assert.Equal(200, ticking.Status);
        Assert.Equal("ticking", (string?)ticking.Body["scheduler"]!["state"]);
        Assert.Equal("functions", (string?)ticking.Body["scheduler"]!["host"]);
        Assert.Equal("0 */1 * * * *", (string?)ticking.Body["scheduler"]!["cadence"]);
        Assert.Equal(200, lastMoment.Status);
        Assert.Equal(503, late.Status);
        Assert.Equal("urn:jobrelay:problem:not-ready", (string?)late.Body["type"]);
        var instance = (string?)ticking.Body["scheduler"]!["instance"];
        Assert.Equal(
            $"The scheduler has not ticked since 2026-12-01T12:00:00.2000000+00:00 (host functions, instance {instance}): 3 ticks (0 */1 * * * *) were due by 2026-12-01T12:03:30.0000000+00:00. The timer or loop that drives schedules and the sweep has stopped.",
            (string?)late.Body["detail"]);
        Assert.Equal(200, again.Status);
        Assert.Equal("ticking", (string?)again.Body["scheduler"]!["state"]);
        var recorded = await _store.FindLastTickAsync(CancellationToken.None);
        Assert.Equal(new SchedulerTick(new DateTimeOffset(2026, 12, 1, 12, 3, 30, 1, TimeSpan.Zero), "functions", instance!), recorded);
    }

    [Fact]
    public void TheAppRefusesToStartWithoutATimerScheduleItCanJudgeTicksBy()
    {
        using var host = FunctionsAppHost.Build(settings: new Dictionary<string, string?> { ["JOBRELAY_TICK"] = "every minute" });

        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => host.Services.GetRequiredService<Microsoft.Extensions.Options.IStartupValidator>().Validate());

        Assert.Contains("JOBRELAY_TICK must be the timer's NCRONTAB schedule with seconds", error.Message, StringComparison.Ordinal);
    }

    private static async Task<(int Status, JsonObject Body)> ReadyAsync(IServiceProvider services, HealthFunction health)
    {
        var context = new DefaultHttpContext { RequestServices = services };
        context.Request.Method = "GET";
        context.Request.Path = "/api/health/ready";
        using var body = new MemoryStream();
        context.Response.Body = body;

        await (await health.Ready(context.Request, CancellationToken.None)).ExecuteAsync(context);

        return (context.Response.StatusCode, JsonNode.Parse(body.ToArray())!.AsObject());
    }

    /// <summary>Key Vault as it answers when every secret the catalog names is there.</summary>
    private sealed class EverySecretReadable(TimeProvider clock) : ISecretSource
    {
        public Task<SecretValue> ReadAsync(string name, CancellationToken cancellationToken)
            => Task.FromResult(new SecretValue(name, "value-of-" + name, "1", clock.GetUtcNow()));
    }
}
