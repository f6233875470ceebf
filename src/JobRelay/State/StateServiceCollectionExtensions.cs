using JobRelay.Platforms;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace JobRelay.State;

internal static class StateServiceCollectionExtensions
{
    /// <summary>Registers the store options (validated at start) and the job secrets read from the store; the composition root
    /// picks the store itself.</summary>
    public static IServiceCollection AddJobRelayState(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<StoreOptions>().Bind(configuration.GetSection(StoreOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<StoreOptions>, StoreOptionsValidator>());
        services.AddOptions<WatchOptions>().Bind(configuration.GetSection(WatchOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<WatchOptions>, WatchOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
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
