using JobRelay.Hosting;
using JobRelay.Scheduling;
using JobRelay.Secrets;
using JobRelay.State;
using Microsoft.ApplicationInsights.Extensibility;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.ApplicationInsights;

namespace JobRelay.Functions;

/// <summary>
/// Everything the Functions app adds to the builder between <c>CreateBuilder</c> and <c>Build</c>. Program.cs calls
/// it and nothing else, so the tests that build the app's container validate exactly what runs in Azure.
/// </summary>
public static class FunctionsAppSetup
{
    public static FunctionsApplicationBuilder ConfigureJobRelayFunctions(this FunctionsApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        builder.ConfigureFunctionsWebApplication();
        builder.UseMiddleware<NoStoreAnswers>();

        builder.Services
            .AddApplicationInsightsTelemetryWorkerService()
            .ConfigureFunctionsApplicationInsights();
        builder.Services.AddSingleton<ITelemetryInitializer, SecretRedactingTelemetryInitializer>();
        builder.Services.AddJobRelayFunctionsTelemetry(builder.Configuration);

        // The Application Insights worker package adds a rule that drops everything below Warning for its provider;
        // JobRelay's Information lines (job started, delivery ignored, schedule fired) are its audit trail.
        builder.Logging.Services.Configure<LoggerFilterOptions>(RemoveApplicationInsightsWarningRule);

        builder.Services.AddJobRelay(builder.Configuration);

        // Each secret the catalog names and the vault cannot give is a warning at start, before any sender meets it.
        builder.Services.AddJobRelaySecretsStartupCheck();

        // In Azure every credential comes from Key Vault: the app refuses to start without one.
        builder.Services.Configure<SecretsOptions>(options => options.RequireKeyVault = true);

        // Instances share no disk: the state every instance relies on lives in Table Storage.
        builder.Services.Configure<StoreOptions>(options => options.RequireShared = true);

        // The Scheduler timer is the tick: readiness fails when it has not fired for three of its intervals.
        var tick = builder.Configuration[SchedulerFunction.TickSetting];
        builder.Services.Configure<SchedulerHeartbeatOptions>(options =>
        {
            options.Host = "functions";
            options.Schedule = tick ?? string.Empty;
            options.ScheduleSource = SchedulerFunction.TickSetting;
        });
        return builder;
    }

    internal static void RemoveApplicationInsightsWarningRule(LoggerFilterOptions options)
    {
        var provider = typeof(ApplicationInsightsLoggerProvider).FullName;
        options.Rules
            .Where(rule => rule.ProviderName == provider && rule.CategoryName is null && rule.Filter is null)
            .ToList()
            .ForEach(rule => options.Rules.Remove(rule));
    }
}
