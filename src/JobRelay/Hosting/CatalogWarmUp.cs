using JobRelay.Triggers;
using Microsoft.Extensions.Configuration;

namespace JobRelay.Hosting;

/// <summary>
/// Takes the catalog check's first-use cost off a host's start path. Checking a catalog costs a few milliseconds once
/// the check is warm; the first check of a process costs hundreds: JsonSchema.Net's start-up, the build of
/// <c>triggers.schema.json</c>, and the compilation of every keyword and of the loader it runs. A host calls
/// <see cref="Start(IConfiguration)"/> as soon as its configuration is known, and that first check runs on the thread
/// pool while the host is being built. Its result is discarded: the start-up validation loads the catalog itself and
/// fails the start with every error it finds, exactly as without the warm-up.
/// </summary>
public static class CatalogWarmUp
{
    /// <summary>Checks the catalog at <c>JobRelay:Catalog:Path</c> once, in the background.</summary>
    public static Task Start(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var options = new CatalogOptions { Path = configuration[$"{CatalogOptions.SectionName}:Path"] ?? new CatalogOptions().Path };
        return Task.Run(() => Check(options.ResolvePath()));
    }

    private static void Check(string path)
    {
        string json;
        try
        {
            json = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The start-up validation reports an unreadable catalog; the check itself is still worth warming.
            json = "{}";
        }

        _ = TriggerCatalogLoader.Parse(json, path);
    }
}
