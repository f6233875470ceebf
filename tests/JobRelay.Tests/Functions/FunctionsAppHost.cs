using JobRelay.Functions;
using JobRelay.Tests.Infra;
using Microsoft.ApplicationInsights.Channel;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace JobRelay.Tests.Functions;

/// <summary>
/// The Functions app's host, built the way Program.cs builds it (<see cref="FunctionsAppSetup.ConfigureJobRelayFunctions"/>),
/// with the container validating every registration and scope. It is built, never run: running needs the Functions host.
/// </summary>
internal static class FunctionsAppHost
{
    public const string VaultUri = "https://kv-jobrelay-test.vault.azure.net/";

    /// <param name="afterSetup">Registrations after the app's own, as a test adds an exporter behind the app's processors.</param>
    public static IHost Build(ITelemetryChannel? telemetry = null, IReadOnlyDictionary<string, string?>? settings = null, Action<IServiceCollection>? afterSetup = null)
    {
        var builder = FunctionsApplication.CreateBuilder([]);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["JobRelay:KeyVault:VaultUri"] = VaultUri,
            ["JobRelay:Catalog:Path"] = InfraFiles.PathOf("triggers.json"),
            ["JobRelay:Store:Kind"] = "tables",
            ["JobRelay:Store:TableServiceUri"] = "https://stjobrelaytest.table.core.windows.net/",
            ["JOBRELAY_TICK"] = "0 */1 * * * *",
            ["APPLICATIONINSIGHTS_CONNECTION_STRING"] = "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://127.0.0.1:9/",
        });
        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }

        if (telemetry is not null)
        {
            builder.Services.AddSingleton(telemetry);
        }

        builder.ConfigureJobRelayFunctions();
        afterSetup?.Invoke(builder.Services);
        builder.ConfigureContainer(new DefaultServiceProviderFactory(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true }));
        return builder.Build();
    }
}
