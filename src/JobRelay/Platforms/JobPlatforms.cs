using JobRelay.Model;

namespace JobRelay.Platforms;

/// <summary>
/// The catalog's platforms as live adapters: one adapter, sender and connection pool per platform. The composition root
/// builds them, so this namespace knows neither the catalog nor the adapters' own namespaces.
/// </summary>
internal sealed class JobPlatforms
{
    /// <summary>The name of the HttpClient every platform adapter uses; its loggers are removed (addresses carry keys).</summary>
    public const string HttpClientName = "JobRelay.Platforms";

    private readonly Dictionary<string, IJobPlatform> _platforms;

    public JobPlatforms(IEnumerable<IJobPlatform> platforms)
    {
        ArgumentNullException.ThrowIfNull(platforms);
        _platforms = platforms.ToDictionary(platform => platform.Name, StringComparer.Ordinal);
    }

    /// <summary>The adapter of a catalog platform.</summary>
    public IJobPlatform Get(string name) => _platforms.TryGetValue(name, out var platform)
        ? platform
        : throw new RelayException(RelayErrorKind.NotFound, $"Platform '{name}' is not in the catalog.");
}
