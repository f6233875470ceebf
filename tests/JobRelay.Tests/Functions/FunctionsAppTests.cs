using System.Collections.Concurrent;
using System.Reflection;
using JobRelay.Functions;
using JobRelay.Runs;
using Microsoft.ApplicationInsights;
using Microsoft.ApplicationInsights.Channel;
using Microsoft.ApplicationInsights.DataContracts;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.ApplicationInsights;
using Microsoft.Extensions.Options;

namespace JobRelay.Tests.Functions;

public class FunctionsAppTests
{
    [Fact]
    public void TheFunctionsAppContainerBuildsWithEveryRegistrationAndScopeValidated()
    {
        using var host = FunctionsAppHost.Build();

        Assert.NotNull(host.Services.GetService<JobRelay.Http.RelayHttpHandlers>());
    }

    [Fact]
    public void TheFunctionsAppPassesItsStartValidationWithAVaultAndTheRepositoryCatalog()
    {
        using var host = FunctionsAppHost.Build();

        host.Services.GetRequiredService<IStartupValidator>().Validate();
    }

    [Fact]
    public void TheFunctionsAppRefusesToStartWithoutAKeyVault()
    {
        using var host = FunctionsAppHost.Build(settings: new Dictionary<string, string?> { ["JobRelay:KeyVault:VaultUri"] = string.Empty });

        var error = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains("Key Vault", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void EveryFunctionClassResolvesFromTheAppsContainer()
    {
        using var host = FunctionsAppHost.Build();
        var functionClasses = FunctionClasses();

        Assert.NotEmpty(functionClasses);
        using var scope = host.Services.CreateScope();
        foreach (var type in functionClasses)
        {
            Assert.NotNull(ActivatorUtilities.CreateInstance(scope.ServiceProvider, type));
        }
    }

    [Fact]
    public void NoLoggerFilterRuleHoldsJobRelayInformationLinesBackFromApplicationInsights()
    {
        using var host = FunctionsAppHost.Build();
        var rules = host.Services.GetRequiredService<IOptions<LoggerFilterOptions>>().Value.Rules;
        var provider = typeof(ApplicationInsightsLoggerProvider).FullName;

        Assert.DoesNotContain(rules, rule =>
            (rule.ProviderName is null || rule.ProviderName == provider)
            && (rule.CategoryName is null || "JobRelay.Webhooks".StartsWith(rule.CategoryName, StringComparison.Ordinal))
            && rule.LogLevel > LogLevel.Information);
    }

    [Fact]
    public void JobRelayInformationLinesReachApplicationInsights()
    {
        var channel = new CapturingTelemetryChannel();
        using var host = FunctionsAppHost.Build(channel);
        var logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("JobRelay.Runs.TriggerRunner");

#pragma warning disable CA1848 // One line, written to prove the pipeline carries it.
        logger.LogInformation("Job 42 on keboola started for trigger nightly-sales");
#pragma warning restore CA1848

        Assert.Contains(channel.Items.OfType<TraceTelemetry>(), trace =>
            trace.Message == "Job 42 on keboola started for trigger nightly-sales" && trace.SeverityLevel == SeverityLevel.Information);
    }

    [Fact]
    public void RequestLinesThatCarryQueryStringsDoNotReachApplicationInsights()
    {
        var channel = new CapturingTelemetryChannel();
        using var host = FunctionsAppHost.Build(channel);
        var logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger(JobRelayServiceCollectionExtensions.RequestLineCategory);

#pragma warning disable CA1848 // One line, written as ASP.NET Core writes it.
        logger.LogInformation("Request starting HTTP/1.1 POST https://jobrelay.azurewebsites.net/api/events/kbc?token=kbc-event-token-1 - application/json 120");
#pragma warning restore CA1848

        Assert.DoesNotContain(channel.Items.OfType<TraceTelemetry>(), trace => trace.Message.Contains("kbc-event-token-1", StringComparison.Ordinal));
    }

    [Fact]
    public void TheSetupRemovesTheApplicationInsightsWarningRuleAndNothingElse()
    {
        var provider = typeof(ApplicationInsightsLoggerProvider).FullName;
        var options = new LoggerFilterOptions();
        options.Rules.Add(new LoggerFilterRule(provider, null, LogLevel.Warning, null));
        options.Rules.Add(new LoggerFilterRule(provider, "Azure.Core", LogLevel.Error, null));
        options.Rules.Add(new LoggerFilterRule(null, "Microsoft", LogLevel.Warning, null));

        FunctionsAppSetup.RemoveApplicationInsightsWarningRule(options);

        Assert.Equal(2, options.Rules.Count);
        Assert.DoesNotContain(options.Rules, rule => rule.ProviderName == provider && rule.CategoryName is null);
    }

    [Fact]
    public void TokensInUrlsNeverLeaveTheAppInRequestOrDependencyTelemetry()
    {
        const string eventToken = "kbc-event-token-9d8c7b";
        const string taskKey = "eye-task-secret-3e2f1a";
        const string accessToken = "eye-access-token-0a0b0c";
        var channel = new CapturingTelemetryChannel();
        using var host = FunctionsAppHost.Build(channel);
        var telemetry = host.Services.GetRequiredService<TelemetryClient>();
        // The app's dependency collector also tracks HTTP calls other tests make meanwhile: this test counts its own.
        var operation = Guid.NewGuid().ToString("n");
        var eventPost = new RequestTelemetry("POST events/keboola", DateTimeOffset.UtcNow, TimeSpan.FromMilliseconds(3), "202", true)
        {
            Url = new Uri($"https://jobrelay.azurewebsites.net/api/events/keboola?token={eventToken}"),
        };
        var taskCall = new DependencyTelemetry("Http", "supervisor.theeye.io", $"POST /job/secret/{taskKey}", $"https://supervisor.theeye.io/job/secret/{taskKey}?customer=acme");
        var tokenCall = new DependencyTelemetry("Http", "supervisor.theeye.io", "POST /job", $"https://supervisor.theeye.io/job?access_token={accessToken}&customer=acme");
        foreach (var item in new ITelemetry[] { eventPost, taskCall, tokenCall })
        {
            item.Context.Operation.Id = operation;
        }

        telemetry.TrackRequest(eventPost);
        telemetry.TrackDependency(taskCall);
        telemetry.TrackDependency(tokenCall);

        var own = channel.Items.Where(item => item.Context.Operation.Id == operation).ToList();
        var sent = string.Join('\n', own.Select(item => item switch
        {
            RequestTelemetry request => $"{request.Name} {request.Url}",
            DependencyTelemetry dependency => $"{dependency.Name} {dependency.Data} {dependency.Target}",
            _ => string.Empty,
        }));
        Assert.Equal(3, own.Count(item => item is RequestTelemetry or DependencyTelemetry));
        Assert.DoesNotContain(eventToken, sent, StringComparison.Ordinal);
        Assert.DoesNotContain(taskKey, sent, StringComparison.Ordinal);
        Assert.DoesNotContain(accessToken, sent, StringComparison.Ordinal);
        Assert.Contains("/api/events/keboola?token=REDACTED", sent, StringComparison.Ordinal);
        Assert.Contains("/job/secret/REDACTED?customer=REDACTED", sent, StringComparison.Ordinal);
    }

    internal static IReadOnlyList<Type> FunctionClasses() =>
        typeof(FunctionsAppSetup).Assembly.GetTypes()
            .Where(type => type.GetMethods(BindingFlags.Public | BindingFlags.Instance).Any(method => method.GetCustomAttribute<FunctionAttribute>() is not null))
            .ToList();

    private sealed class CapturingTelemetryChannel : ITelemetryChannel
    {
        private readonly ConcurrentQueue<ITelemetry> _items = new();

        public IReadOnlyList<ITelemetry> Items => [.. _items];

        public bool? DeveloperMode { get; set; }

        public string? EndpointAddress { get; set; }

        public void Send(ITelemetry item) => _items.Enqueue(item);

        public void Flush()
        {
        }

        public void Dispose()
        {
        }
    }
}
