using JobRelay;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

var builder = FunctionsApplication.CreateBuilder(args);

builder.ConfigureFunctionsWebApplication();

builder.Services
    .AddApplicationInsightsTelemetryWorkerService()
    .ConfigureFunctionsApplicationInsights();

// The Application Insights worker package drops everything below Warning by default; JobRelay's own
// Information lines (job started, delivery ignored, schedule fired) are part of its audit trail.
builder.Logging.Services.Configure<LoggerFilterOptions>(options =>
{
    var defaultRule = options.Rules.FirstOrDefault(rule =>
        rule.ProviderName == "Microsoft.ApplicationInsights.Extensibility.Implementation.Tracing.ApplicationInsightsLoggerProvider");
    if (defaultRule is not null)
    {
        options.Rules.Remove(defaultRule);
    }
});

builder.Services.AddJobRelay(builder.Configuration);

// In Azure every credential comes from Key Vault: the app refuses to start without one.
builder.Services.Configure<JobRelay.Secrets.SecretsOptions>(options => options.RequireKeyVault = true);

// Instances share no disk: the state every instance relies on lives in Table Storage.
builder.Services.Configure<JobRelay.State.StoreOptions>(options => options.RequireShared = true);

builder.Build().Run();
