using JobRelay.Model;
using Microsoft.Extensions.Options;

namespace JobRelay.Secrets;

/// <summary>
/// Secrets from configuration (<c>JobRelay:Secrets:Values:&lt;name&gt;</c>): for local runs and the sandbox, never for
/// production, where <see cref="KeyVaultSecretSource"/> is used.
/// </summary>
internal sealed class ConfigurationSecretSource(IOptionsMonitor<SecretsOptions> options, TimeProvider timeProvider) : ISecretSource
{
    public Task<SecretValue> ReadAsync(string name, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var values = options.CurrentValue.Values;

        // Environment variable names cannot always carry '-', so JobRelay__Secrets__Values__my_secret also counts.
        if (values.TryGetValue(name, out var value) || values.TryGetValue(name.Replace('-', '_'), out value))
        {
            return Task.FromResult(new SecretValue(name, value, version: null, timeProvider.GetUtcNow()));
        }

        throw new RelayException(
            RelayErrorKind.SecretNotFound,
            $"Secret '{name}' has no value. No Key Vault is configured (JobRelay:KeyVault:VaultUri), so secrets come from configuration: " +
            $"set JobRelay:Secrets:Values:{name} in jobrelay.local.json or user secrets, or the environment variable JobRelay__Secrets__Values__{name.Replace('-', '_')}.");
    }
}
