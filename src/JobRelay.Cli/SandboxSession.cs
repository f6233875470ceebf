using JobRelay.Sandbox;
using JobRelay.Triggers;

namespace JobRelay.Cli;

/// <summary>
/// <c>--sandbox</c>: Keboola and TheEye emulators on loopback, a catalog that uses them, and the credentials they
/// accept, so that JobRelay runs end to end with no cloud account. With <c>--triggers</c>, the user's own catalog
/// runs against the emulators instead: every platform endpoint is pointed at them and every secret it names gets a
/// sandbox value.
/// </summary>
internal sealed class SandboxSession : IAsyncDisposable
{
    /// <summary>The value every webhook secret has in the sandbox.</summary>
    public const string WebhookSecret = "sandbox-webhook-secret";

    private readonly SandboxPlatforms _platforms;

    private SandboxSession(SandboxPlatforms platforms, IReadOnlyDictionary<string, string?> configuration, string catalogDescription)
    {
        _platforms = platforms;
        Configuration = configuration;
        CatalogDescription = catalogDescription;
    }

    /// <summary>Configuration that points the engine at the emulators: catalog path, platform endpoints, secret values.</summary>
    public IReadOnlyDictionary<string, string?> Configuration { get; }

    public string CatalogDescription { get; }

    public Uri KeboolaUrl => _platforms.KeboolaUrl;

    public Uri TheEyeUrl => _platforms.TheEyeUrl;

    public static async Task<SandboxSession> StartAsync(string? userCatalogPath, CancellationToken cancellationToken)
    {
        var catalogPath = userCatalogPath ?? Path.Combine(AppContext.BaseDirectory, "sandbox.triggers.json");
        var load = await TriggerCatalogLoader.LoadFileAsync(catalogPath, cancellationToken);
        if (load.Catalog is not { } catalog)
        {
            throw new CliStartupException(load.Errors.Select(e => e.ToString()));
        }

        var platforms = await SandboxPlatforms.StartAsync(new SandboxOptions(), cancellationToken);
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["JobRelay:Catalog:Path"] = catalogPath,

            // The sandbox never reads a vault, even when the environment names one.
            ["JobRelay:KeyVault:VaultUri"] = string.Empty,
        };

        var taskKeys = catalog.Triggers.Values.Select(t => t.TheEye?.SecretKeySecret).OfType<string>().ToHashSet(StringComparer.Ordinal);
        foreach (var platform in catalog.Platforms.Values)
        {
            switch (platform)
            {
                case KeboolaPlatformDefinition keboola:
                    settings[$"JobRelay:Catalog:PlatformUrls:{keboola.Name}"] = platforms.KeboolaUrl.ToString();
                    settings[$"JobRelay:Secrets:Values:{keboola.TokenSecret}"] = SandboxCredentials.KeboolaToken;
                    break;
                case TheEyePlatformDefinition theEye:
                    settings[$"JobRelay:Catalog:PlatformUrls:{theEye.Name}"] = platforms.TheEyeUrl.ToString();
                    if (theEye.AccessTokenSecret is { } token)
                    {
                        settings[$"JobRelay:Secrets:Values:{token}"] = SandboxCredentials.TheEyeAccessToken;
                    }

                    break;
            }
        }

        foreach (var name in taskKeys)
        {
            settings[$"JobRelay:Secrets:Values:{name}"] = SandboxCredentials.TheEyeTaskSecretKey;
        }

        foreach (var name in CatalogSecrets.Names(catalog).Where(n => !settings.ContainsKey($"JobRelay:Secrets:Values:{n}")))
        {
            settings[$"JobRelay:Secrets:Values:{name}"] = WebhookSecret;
        }

        var description = userCatalogPath is null
            ? "built-in sandbox catalog (webhook secrets and tokens: " + WebhookSecret + ")"
            : $"{catalogPath}, against the sandbox (webhook secrets and tokens: {WebhookSecret})";
        return new SandboxSession(platforms, settings, description);
    }

    public ValueTask DisposeAsync() => _platforms.DisposeAsync();
}
