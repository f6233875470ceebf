namespace JobRelay.Triggers;

/// <summary><c>triggers.schema.json</c>, the published description of a trigger catalog, as built into JobRelay.</summary>
public static class CatalogSchema
{
    /// <summary>The file name catalogs refer to in their <c>$schema</c> line.</summary>
    public const string FileName = "triggers.schema.json";

    private static readonly Lazy<string> Text = new(() =>
    {
        using var stream = typeof(CatalogSchema).Assembly.GetManifestResourceStream("JobRelay." + FileName)
            ?? throw new InvalidOperationException($"{FileName} is not built into JobRelay.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });

    /// <summary>The schema's JSON text.</summary>
    public static string Json => Text.Value;
}
