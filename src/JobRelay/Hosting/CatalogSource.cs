using JobRelay.Model;
using JobRelay.Triggers;
using Microsoft.Extensions.Options;

namespace JobRelay.Hosting;

/// <summary>
/// The trigger catalog the host runs with, loaded once at start. A catalog with errors stops the host: the options
/// validator reports every error by its JSON path.
/// </summary>
public sealed class CatalogSource
{
    private readonly Lazy<CatalogLoadResult> _load;

    public CatalogSource(IOptions<CatalogOptions> options, CatalogLoadOnce once)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(once);
        _load = new Lazy<CatalogLoadResult>(() => once.Get(options.Value), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The loaded, valid catalog.</summary>
    public TriggerCatalog Catalog => _load.Value.Catalog
        ?? throw new InvalidOperationException("The trigger catalog is not valid: " + string.Join("; ", _load.Value.Errors));

    /// <summary>What loading found: the catalog, or every error.</summary>
    public CatalogLoadResult LoadResult => _load.Value;

    internal static CatalogLoadResult Load(CatalogOptions options)
    {
        var path = options.ResolvePath();
        string json;
        try
        {
            json = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new CatalogLoadResult(null, [new CatalogError("$", $"The trigger catalog '{path}' cannot be read: {ex.Message} Set JobRelay:Catalog:Path (JobRelay__Catalog__Path) or pass --triggers.")]);
        }

        var result = TriggerCatalogLoader.Parse(json, path);
        var overrideErrors = options.PlatformUrls
            .OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => (p.Key, Problem: CatalogReader.EndpointProblem(p.Value)))
            .Where(p => p.Problem is not null)
            .Select(p => new CatalogError(
                $"{CatalogOptions.SectionName}:PlatformUrls:{p.Key}",
                $"overrides the endpoint of platform '{p.Key}' (environment variable JobRelay__Catalog__PlatformUrls__{p.Key}) and is refused: it {p.Problem}"))
            .Concat(options.DestinationUrls
                .OrderBy(d => d.Key, StringComparer.Ordinal)
                .Select(d => (d.Key, Problem: CatalogReader.EndpointProblem(d.Value)))
                .Where(d => d.Problem is not null)
                .Select(d => new CatalogError(
                    $"{CatalogOptions.SectionName}:DestinationUrls:{d.Key}",
                    $"overrides the receiver of destination '{d.Key}' (environment variable JobRelay__Catalog__DestinationUrls__{d.Key}) and is refused: it {d.Problem}")))
            .ToList();
        if (overrideErrors.Count > 0)
        {
            return new CatalogLoadResult(null, [.. result.Errors, .. overrideErrors]);
        }

        if (result.Catalog is null)
        {
            return result;
        }

        var catalog = options.PlatformUrls.Count == 0 ? result.Catalog : result.Catalog.WithPlatformUrls(options.PlatformUrls);
        catalog = options.DestinationUrls.Count == 0 ? catalog : catalog.WithDestinationUrls(options.DestinationUrls);
        return ReferenceEquals(catalog, result.Catalog) ? result : result with { Catalog = catalog };
    }
}

/// <summary>Fails the host's start with every catalog error when the catalog is not valid.</summary>
internal sealed class CatalogOptionsValidator(CatalogLoadOnce once) : IValidateOptions<CatalogOptions>
{
    public ValidateOptionsResult Validate(string? name, CatalogOptions options)
    {
        var result = once.Get(options);
        return result.Errors.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(result.Errors.Select(e => $"{e.Path}: {e.Message}"));
    }
}

/// <summary>Loads the catalog once per host, for the start-up validation and the running engine alike.</summary>
public sealed class CatalogLoadOnce
{
    private readonly Lock _gate = new();
    private CatalogLoadResult? _result;

    public CatalogLoadResult Get(CatalogOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        lock (_gate)
        {
            return _result ??= CatalogSource.Load(options);
        }
    }
}
