namespace JobRelay.Hosting;

/// <summary>Where the trigger catalog comes from (section <c>JobRelay:Catalog</c>).</summary>
public sealed class CatalogOptions
{
    public const string SectionName = "JobRelay:Catalog";

    /// <summary>The catalog file: absolute, or relative to the working folder and then to the app's folder.</summary>
    public string Path { get; set; } = "triggers.json";

    /// <summary>
    /// Endpoint overrides by platform name, applied after loading: the same catalog can point at a staging stack or
    /// at the local sandbox without being edited.
    /// </summary>
    public Dictionary<string, Uri> PlatformUrls { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Receiver overrides by signed-webhook destination name, applied after loading: the same catalog can deliver its
    /// events to a staging receiver or to the sandbox's receiver without being edited.
    /// </summary>
    public Dictionary<string, Uri> DestinationUrls { get; } = new(StringComparer.Ordinal);

    /// <summary>The file's full path, as it will be read.</summary>
    public string ResolvePath()
    {
        if (System.IO.Path.IsPathRooted(Path) || File.Exists(Path))
        {
            return System.IO.Path.GetFullPath(Path);
        }

        var besideApp = System.IO.Path.Combine(AppContext.BaseDirectory, Path);
        return File.Exists(besideApp) ? besideApp : System.IO.Path.GetFullPath(Path);
    }
}
