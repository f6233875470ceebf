using Azure;
using Azure.Core;
using Azure.Identity;
using Azure.Security.KeyVault.Secrets;
using Microsoft.Extensions.Logging;

namespace JobRelay.Secrets;

/// <summary>
/// Secrets from Azure Key Vault through <see cref="SecretClient"/>. Failures are told apart — missing, forbidden,
/// disabled, unreachable or unauthenticated — and every message names the secret and the vault, never a value.
/// </summary>
public sealed class KeyVaultSecretSource : ISecretSource
{
    private readonly SecretClient _client;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<KeyVaultSecretSource> _logger;
    private readonly string _vault;

    public KeyVaultSecretSource(SecretClient client, TimeProvider timeProvider, ILogger<KeyVaultSecretSource> logger)
    {
        ArgumentNullException.ThrowIfNull(client);
        _client = client;
        _timeProvider = timeProvider;
        _logger = logger;
        _vault = client.VaultUri.Host;
    }

    /// <summary>
    /// A client for the vault: <see cref="DefaultAzureCredential"/> (a managed identity in Azure, the developer's
    /// sign-in locally), a few quick retries, and no logging of request content.
    /// </summary>
    public static SecretClient CreateClient(KeyVaultOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var vault = options.VaultUri ?? throw new InvalidOperationException("JobRelay:KeyVault:VaultUri is not set.");
        var clientId = string.IsNullOrWhiteSpace(options.ManagedIdentityClientId)
            ? Environment.GetEnvironmentVariable("AZURE_CLIENT_ID")
            : options.ManagedIdentityClientId;
        var credential = new DefaultAzureCredential(new DefaultAzureCredentialOptions
        {
            ManagedIdentityClientId = string.IsNullOrWhiteSpace(clientId) ? null : clientId,
            ExcludeInteractiveBrowserCredential = true,
        });
        var clientOptions = new SecretClientOptions();
        clientOptions.Retry.MaxRetries = 2;
        clientOptions.Retry.Mode = RetryMode.Exponential;
        clientOptions.Retry.NetworkTimeout = TimeSpan.FromSeconds(10);
        clientOptions.Diagnostics.IsLoggingContentEnabled = false;
        return new SecretClient(vault, credential, clientOptions);
    }

    public async Task<SecretValue> ReadAsync(string name, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Length > 127 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
        {
            throw new RelayException(RelayErrorKind.InvalidInput, $"'{name}' is not a Key Vault secret name: 1 to 127 letters, digits and '-'.");
        }

        try
        {
            var response = await _client.GetSecretAsync(name, version: null, cancellationToken);
            var secret = response.Value;
            SecretLog.Read(_logger, name, _vault, secret.Properties.Version);
            return new SecretValue(name, secret.Value ?? string.Empty, secret.Properties.Version, _timeProvider.GetUtcNow());
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            throw Fail(RelayErrorKind.SecretNotFound, name, ex.Status, $"Secret '{name}' does not exist in Key Vault {_vault}. Create it with: az keyvault secret set --vault-name {VaultName} --name {name} --value <value>.");
        }
        catch (RequestFailedException ex) when (ex.Status == 403 && string.Equals(ex.ErrorCode, "SecretDisabled", StringComparison.OrdinalIgnoreCase))
        {
            throw Fail(RelayErrorKind.SecretForbidden, name, ex.Status, $"Secret '{name}' is disabled in Key Vault {_vault}: enable it, or point the catalog at another secret.");
        }
        catch (RequestFailedException ex) when (ex.Status == 403)
        {
            throw Fail(RelayErrorKind.SecretForbidden, name, ex.Status, $"Key Vault {_vault} refused to give secret '{name}' to this identity: grant it the 'Key Vault Secrets User' role on the vault (or check the vault's network rules).");
        }
        catch (RequestFailedException ex) when (ex.Status == 401)
        {
            throw Fail(RelayErrorKind.SecretStoreUnavailable, name, ex.Status, $"Key Vault {_vault} did not accept this identity's token while reading secret '{name}': check the tenant and the identity.");
        }
        catch (AuthenticationFailedException ex)
        {
            throw Fail(RelayErrorKind.SecretStoreUnavailable, name, null, $"No Azure identity could sign in to read secret '{name}' from Key Vault {_vault}: in Azure, check the managed identity (AZURE_CLIENT_ID); locally, run 'az login'.", ex);
        }
        catch (RequestFailedException ex)
        {
            throw Fail(RelayErrorKind.SecretStoreUnavailable, name, ex.Status == 0 ? null : ex.Status, $"Key Vault {_vault} could not be reached to read secret '{name}'{(ex.Status == 0 ? string.Empty : $" (status {ex.Status})")}.", ex);
        }
    }

    private string VaultName => _vault.Split('.')[0];

    private RelayException Fail(RelayErrorKind kind, string name, int? status, string message, Exception? inner = null)
    {
        SecretLog.ReadFailed(_logger, name, _vault, kind, status ?? 0, inner?.GetType().Name ?? "response");
        return new RelayException(kind, message);
    }
}
