using JobRelay.Platforms;
using JobRelay.State.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobRelay.State;

internal static class StateServiceCollectionExtensions
{
    /// <summary>Registers the store <c>JobRelay:Store:Kind</c> names (validated at start) and the job secrets read from it.</summary>
    public static IServiceCollection AddJobRelayState(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<StoreOptions>().Bind(configuration.GetSection(StoreOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<StoreOptions>, StoreOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IRelayStore>(provider =>
        {
            var options = provider.GetRequiredService<IOptions<StoreOptions>>().Value;
            var clock = provider.GetRequiredService<TimeProvider>();
            var loggers = provider.GetRequiredService<ILoggerFactory>();
            return options.Kind switch
            {
                StoreKind.Tables => AzureTables.TableRelayStore.Create(options, clock, loggers.CreateLogger<AzureTables.TableRelayStore>()),
                _ => new SqliteRelayStore(options.SqlitePath, clock, loggers.CreateLogger<SqliteRelayStore>()),
            };
        });
        services.TryAddSingleton<IJobSecretSource, StoredJobSecrets>();
        return services;
    }
}

/// <summary>TheEye per-job secrets, as kept with their runs.</summary>
internal sealed class StoredJobSecrets(IRelayStore store) : IJobSecretSource
{
    public Task<string?> FindAsync(string platform, string jobId, CancellationToken cancellationToken)
        => store.FindJobSecretAsync(platform, jobId, cancellationToken);
}
