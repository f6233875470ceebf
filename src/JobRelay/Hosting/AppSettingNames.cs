namespace JobRelay.Hosting;

/// <summary>
/// Every application setting the Functions app reads, in the environment-variable form Azure uses
/// (<c>__</c> separates configuration sections). The infrastructure templates and local.settings.sample.json are
/// tested against this list, so a setting cannot be read without being provisioned, nor provisioned unused.
/// </summary>
internal static class AppSettingNames
{
    /// <summary>The Key Vault every secret is read from, e.g. <c>https://kv-jobrelay.vault.azure.net/</c>.</summary>
    public const string KeyVaultUri = "JobRelay__KeyVault__VaultUri";

    /// <summary>The client id of the user-assigned identity that reads Key Vault.</summary>
    public const string ManagedIdentityClientId = "AZURE_CLIENT_ID";

    /// <summary>Where the trigger catalog is, relative to the app's folder or absolute.</summary>
    public const string CatalogPath = "JobRelay__Catalog__Path";

    /// <summary>The scheduler timer's NCRONTAB schedule (with seconds), e.g. <c>0 */1 * * * *</c>.</summary>
    public const string SchedulerTick = "JOBRELAY_TICK";

    /// <summary>Settings the Functions host itself reads: identity-based host storage and telemetry.</summary>
    public static readonly IReadOnlyList<string> Host =
    [
        "AzureWebJobsStorage__accountName",
        "AzureWebJobsStorage__credential",
        "AzureWebJobsStorage__clientId",
        "APPLICATIONINSIGHTS_CONNECTION_STRING",
        "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
    ];

    /// <summary>Settings JobRelay's own code reads.</summary>
    public static readonly IReadOnlyList<string> JobRelay = [KeyVaultUri, ManagedIdentityClientId, CatalogPath, SchedulerTick];
}
