using JobRelay.Scheduling;
using JobRelay.State.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace JobRelay.Tests.Scheduling;

public class SchedulingRegistrationTests
{
    [Fact]
    public void TheSchedulingSectionIsBoundAndTheDispatcherAndTickerResolveWithoutTheLoop()
    {
        var services = Services(new()
        {
            ["JobRelay:Scheduling:MaxParallelism"] = "8",
            ["JobRelay:Scheduling:MaxCatchUp"] = "00:05:00",
            ["JobRelay:Scheduling:TickInterval"] = "00:00:10",
        });
        using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<ScheduleDispatcherOptions>>().Value;
        Assert.Equal(8, options.MaxParallelism);
        Assert.Equal(TimeSpan.FromMinutes(5), options.MaxCatchUp);
        Assert.Equal(TimeSpan.FromSeconds(10), options.TickInterval);
        Assert.Same(provider.GetRequiredService<ScheduleTicker>(), provider.GetRequiredService<ScheduleTicker>());
        Assert.NotNull(provider.GetRequiredService<ScheduleDispatcher>());
        Assert.Empty(provider.GetServices<IHostedService>());
    }

    [Fact]
    public void TheLoopIsAddedOnlyByItsOwnExtension()
    {
        // The loop records its ticks through the heartbeat, which the engine's registration (AddJobRelay) provides.
        using var store = new SqliteRelayStore(Path.Combine(Path.GetTempPath(), "jobrelay-unopened.db"), TimeProvider.System, NullLogger<SqliteRelayStore>.Instance);
        var services = Services([]).AddJobRelaySchedulerLoop();
        services.AddSingleton(new SchedulerHeartbeat(store, Options.Create(new SchedulerHeartbeatOptions()), TimeProvider.System, NullLogger<SchedulerHeartbeat>.Instance));
        using var provider = services.BuildServiceProvider();

        Assert.IsType<SchedulerBackgroundService>(Assert.Single(provider.GetServices<IHostedService>()));
    }

    [Fact]
    public async Task OutOfRangeOptionsStopTheHostAtStartNamingEachOne()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["JobRelay:Scheduling:MaxParallelism"] = "65",
            ["JobRelay:Scheduling:MaxCatchUp"] = "00:00:00",
            ["JobRelay:Scheduling:TickInterval"] = "02:00:00",
        });
        builder.Services.AddSingleton<IScheduleTarget>(new FakeScheduleTarget());
        builder.Services.AddJobRelayScheduling(builder.Configuration);
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(CancellationToken.None));

        Assert.Equal(3, error.Failures.Count());
        Assert.Contains(error.Failures, f => f.Contains("JobRelay:Scheduling:MaxParallelism", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("JobRelay:Scheduling:MaxCatchUp", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("JobRelay:Scheduling:TickInterval", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(1, 1, 1, true)]
    [InlineData(64, 60, 3600, true)]
    [InlineData(0, 60, 1, false)]
    [InlineData(4, -1, 1, false)]
    [InlineData(4, 60, 0.5, false)]
    [InlineData(4, 60, 3601, false)]
    public void TheValidatorAcceptsExactlyTheDocumentedRanges(int maxParallelism, int maxCatchUpSeconds, double tickSeconds, bool valid)
    {
        var result = new ScheduleDispatcherOptionsValidator().Validate(null, new ScheduleDispatcherOptions
        {
            MaxParallelism = maxParallelism,
            MaxCatchUp = TimeSpan.FromSeconds(maxCatchUpSeconds),
            TickInterval = TimeSpan.FromSeconds(tickSeconds),
        });

        Assert.Equal(valid, result.Succeeded);
    }

    private static ServiceCollection Services(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IScheduleTarget>(new FakeScheduleTarget());
        services.AddJobRelayScheduling(configuration);
        return services;
    }
}
