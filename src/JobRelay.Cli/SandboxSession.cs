using JobRelay.Chaining;
using JobRelay.Hosting;
using JobRelay.Model;
using JobRelay.Sandbox;
using JobRelay.Triggers;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

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

    /// <summary>
    /// The value of Standard Webhooks and Svix secrets in the sandbox: those schemes take only a base64 key after
    /// <c>whsec_</c>, so the plain sandbox secret could never verify a delivery. The key is the sandbox secret's bytes.
    /// </summary>
    public static readonly string SigningSecret = SandboxCredentials.SigningSecret;

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

    /// <summary>Where the emulators list the jobs they received (<c>GET</c>).</summary>
    public Uri JobsUrl => _platforms.JobsUrl;

    /// <summary>Where the sandbox's receiver lists the outbound events it received (<c>GET</c>).</summary>
    public Uri ReceivedUrl => _platforms.ReceivedUrl;

    /// <summary>The built-in sandbox catalog, shipped beside the tool.</summary>
    public static string BuiltInCatalogPath => Path.Combine(AppContext.BaseDirectory, "sandbox.triggers.json");

    /// <summary>
    /// The catalog a one-shot command runs in the sandbox: <c>--triggers</c>, else the configured catalog
    /// (<c>triggers.json</c> in the working folder) when the file exists; null for the built-in sandbox catalog.
    /// </summary>
    public static string? FolderCatalog(System.CommandLine.ParseResult parse)
    {
        if (parse.Triggers() is { } triggers)
        {
            return triggers.FullName;
        }

        var configured = CliConfiguration.Build(parse, sandbox: null).CatalogPath();
        return File.Exists(configured) ? configured : null;
    }

    public static async Task<SandboxSession> StartAsync(string? userCatalogPath, CancellationToken cancellationToken)
    {
        var catalogPath = userCatalogPath ?? BuiltInCatalogPath;
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

        // Every destination delivers to the sandbox's receiver: a signed webhook at its own route, under the signing
        // secret it verifies with; Slack and Teams at theirs, whose URL is the secret.
        foreach (var destination in catalog.Destinations.Values)
        {
            switch (destination.Kind)
            {
                case DestinationKind.Webhook:
                    settings[$"JobRelay:Catalog:DestinationUrls:{destination.Name}"] = platforms.WebhookReceiverUrl.ToString();
                    settings[$"JobRelay:Secrets:Values:{destination.Secret}"] = SigningSecret;
                    break;
                case DestinationKind.Slack:
                    settings[$"JobRelay:Secrets:Values:{destination.Secret}"] = platforms.SlackReceiverUrl.ToString();
                    break;
                case DestinationKind.Teams:
                    settings[$"JobRelay:Secrets:Values:{destination.Secret}"] = platforms.TeamsReceiverUrl.ToString();
                    break;
            }
        }

        var signingSecrets = catalog.Triggers.Values
            .Where(t => t.Webhook?.Scheme is WebhookScheme.StandardWebhooks or WebhookScheme.Svix)
            .SelectMany(t => t.Webhook!.Secrets);
        foreach (var name in signingSecrets.Where(n => !settings.ContainsKey($"JobRelay:Secrets:Values:{n}")))
        {
            settings[$"JobRelay:Secrets:Values:{name}"] = SigningSecret;
        }

        foreach (var name in CatalogSecrets.Names(catalog).Where(n => !settings.ContainsKey($"JobRelay:Secrets:Values:{n}")))
        {
            settings[$"JobRelay:Secrets:Values:{name}"] = WebhookSecret;
        }

        var secrets = signingSecrets.Any() || catalog.Destinations.Values.Any(d => d.Kind == DestinationKind.Webhook) ? $"{WebhookSecret}; Standard Webhooks and Svix: {SigningSecret}" : WebhookSecret;
        var description = userCatalogPath is null
            ? $"built-in sandbox catalog (webhook secrets and tokens: {secrets})"
            : $"{catalogPath}, against the sandbox (webhook secrets and tokens: {secrets})";
        return new SandboxSession(platforms, settings, description);
    }

    /// <summary>
    /// Subscribes the sandbox Keboola's job-end notifications for every chained trigger, delivered to this host, so
    /// that chains run in the sandbox exactly as they would against a real stack.
    /// </summary>
    public async Task SubscribeChainsAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var address = services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        if (address is null)
        {
            return;
        }

        var subscriptions = services.GetRequiredService<KeboolaSubscriptions>();
        var catalog = services.GetRequiredService<CatalogSource>().Catalog;
        foreach (var trigger in catalog.Triggers.Values.Where(t => t.After.Count > 0))
        {
            IReadOnlyList<KeboolaSubscriptionPlan> plans;
            try
            {
                plans = KeboolaSubscriptions.Plan(catalog, trigger.Name);
            }
            catch (RelayException)
            {
                continue;
            }

            if (plans.All(p => catalog.Platforms[p.Platform].EventSecret is not null))
            {
                ChainedTriggers += (await subscriptions.SubscribeAsync(trigger.Name, new Uri(address), cancellationToken)).Count > 0 ? 1 : 0;
            }
        }
    }

    /// <summary>How many chained triggers the sandbox Keboola notifies.</summary>
    public int ChainedTriggers { get; private set; }

    public ValueTask DisposeAsync() => _platforms.DisposeAsync();
}
