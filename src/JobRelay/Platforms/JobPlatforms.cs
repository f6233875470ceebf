using JobRelay.Hosting;
using JobRelay.Platforms.Keboola;
using JobRelay.Platforms.TheEye;
using JobRelay.Secrets;
using JobRelay.Triggers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobRelay.Platforms;

/// <summary>The catalog's platforms as live adapters: one adapter, sender and connection pool per platform.</summary>
public sealed class JobPlatforms
{
    /// <summary>The name of the HttpClient every platform adapter uses; its loggers are removed (addresses carry keys).</summary>
    public const string HttpClientName = "JobRelay.Platforms";

    private readonly Dictionary<string, IJobPlatform> _platforms;

    public JobPlatforms(
        CatalogSource catalog,
        IHttpClientFactory httpClientFactory,
        ISecretStore secrets,
        IJobSecretSource jobSecrets,
        IOptions<PlatformHttpOptions> httpOptions,
        TimeProvider timeProvider,
        ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(httpClientFactory);
        ArgumentNullException.ThrowIfNull(httpOptions);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _platforms = new Dictionary<string, IJobPlatform>(StringComparer.Ordinal);
        foreach (var definition in catalog.Catalog.Platforms.Values)
        {
            var sender = new PlatformSender(
                httpClientFactory.CreateClient(HttpClientName),
                definition.Name,
                httpOptions.Value,
                timeProvider,
                loggerFactory.CreateLogger<PlatformSender>());
            _platforms[definition.Name] = definition switch
            {
                KeboolaPlatformDefinition keboola => new KeboolaJobPlatform(
                    new KeboolaPlatformSettings(keboola.Name, keboola.QueueUrl, keboola.TokenSecret),
                    sender,
                    secrets,
                    loggerFactory.CreateLogger<KeboolaJobPlatform>()),
                TheEyePlatformDefinition theEye => new TheEyeJobPlatform(
                    new TheEyePlatformSettings(theEye.Name, theEye.Url, theEye.Customer, theEye.AccessTokenSecret),
                    sender,
                    secrets,
                    jobSecrets,
                    loggerFactory.CreateLogger<TheEyeJobPlatform>()),
                _ => throw new InvalidOperationException($"Platform '{definition.Name}' is of a kind this version does not know."),
            };
        }
    }

    /// <summary>The adapter of a catalog platform.</summary>
    public IJobPlatform Get(string name) => _platforms.TryGetValue(name, out var platform)
        ? platform
        : throw new RelayException(RelayErrorKind.NotFound, $"Platform '{name}' is not in the catalog.");
}
