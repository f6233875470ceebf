using Microsoft.Extensions.Options;

namespace JobRelay.Secrets;

/// <summary>How secrets are cached, and, for local use only, their values (section <c>JobRelay:Secrets</c>).</summary>
public sealed class SecretsOptions
{
    public const string SectionName = "JobRelay:Secrets";

    /// <summary>How long a value read from the store is used before it is read again.</summary>
    public TimeSpan CacheDuration { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long the last good value keeps being used while the store cannot be reached.</summary>
    public TimeSpan StaleGrace { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Refuse to start without a Key Vault: set by the Functions app, where secrets never come from settings.</summary>
    public bool RequireKeyVault { get; set; }

    /// <summary>Secret values by name, read only when no Key Vault is configured (local runs and the sandbox).</summary>
    public Dictionary<string, string> Values { get; } = new(StringComparer.Ordinal);
}

/// <summary>The Key Vault that holds every credential (section <c>JobRelay:KeyVault</c>).</summary>
internal sealed class KeyVaultOptions
{
    public const string SectionName = "JobRelay:KeyVault";

    /// <summary>The vault, such as <c>https://my-vault.vault.azure.net/</c>. Without it secrets come from configuration.</summary>
    public Uri? VaultUri { get; set; }

    /// <summary>The client id of a user-assigned managed identity; when empty, <c>AZURE_CLIENT_ID</c> is used if set.</summary>
    public string? ManagedIdentityClientId { get; set; }
}

internal sealed class SecretsOptionsValidator : IValidateOptions<SecretsOptions>, IValidateOptions<KeyVaultOptions>
{
    public ValidateOptionsResult Validate(string? name, SecretsOptions options)
    {
        var failures = new List<string>();
        if (options.CacheDuration <= TimeSpan.Zero)
        {
            failures.Add($"{SecretsOptions.SectionName}:{nameof(SecretsOptions.CacheDuration)} must be positive.");
        }

        if (options.StaleGrace < TimeSpan.Zero)
        {
            failures.Add($"{SecretsOptions.SectionName}:{nameof(SecretsOptions.StaleGrace)} must not be negative.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    public ValidateOptionsResult Validate(string? name, KeyVaultOptions options)
    {
        if (options.VaultUri is not { } uri || uri.OriginalString.Length == 0)
        {
            return ValidateOptionsResult.Success;
        }

        if (!uri.IsAbsoluteUri || (uri.Scheme != Uri.UriSchemeHttps && !(uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback)))
        {
            return ValidateOptionsResult.Fail($"{KeyVaultOptions.SectionName}:{nameof(KeyVaultOptions.VaultUri)} must be an absolute https URL such as https://my-vault.vault.azure.net/.");
        }

        return ValidateOptionsResult.Success;
    }
}
