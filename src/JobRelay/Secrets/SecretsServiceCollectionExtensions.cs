using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobRelay.Secrets;

/// <summary>Registers the secret store: Key Vault when <c>JobRelay:KeyVault:VaultUri</c> is set, configuration otherwise.</summary>
internal static class SecretsServiceCollectionExtensions
{
    public static IServiceCollection AddJobRelaySecrets(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<SecretsOptions>()
            .Bind(configuration.GetSection(SecretsOptions.SectionName))
            .Validate(
                o => !o.RequireKeyVault || UsesKeyVault(configuration),
                $"No Key Vault is configured: set {Hosting.AppSettingNames.KeyVaultUri} to the vault's URI (https://<name>.vault.azure.net/). This host never reads secrets from settings.")
            .Validate(
                o => !o.RequireKeyVault || o.Values.Count == 0,
                "JobRelay:Secrets:Values is set, but this host reads secrets only from Key Vault: remove the values from the settings and put them in the vault.")
            .ValidateOnStart();
        services.AddOptions<KeyVaultOptions>().Bind(configuration.GetSection(KeyVaultOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SecretsOptions>, SecretsOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<KeyVaultOptions>, SecretsOptionsValidator>());

        if (UsesKeyVault(configuration))
        {
            services.TryAddSingleton<ISecretSource>(provider => new KeyVaultSecretSource(
                KeyVaultSecretSource.CreateClient(provider.GetRequiredService<IOptions<KeyVaultOptions>>().Value),
                provider.GetRequiredService<TimeProvider>(),
                provider.GetRequiredService<ILogger<KeyVaultSecretSource>>()));
        }
        else
        {
            services.TryAddSingleton<ISecretSource, ConfigurationSecretSource>();
        }

        services.TryAddSingleton<ISecretStore, CachingSecretStore>();
        return services;
    }

    /// <summary>Whether the configuration names a Key Vault.</summary>
    public static bool UsesKeyVault(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return !string.IsNullOrWhiteSpace(configuration[$"{KeyVaultOptions.SectionName}:{nameof(KeyVaultOptions.VaultUri)}"]);
    }
}
