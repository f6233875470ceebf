namespace JobRelay.Triggers;

/// <summary>Keboola's multi-tenant stacks by the names the catalog uses, with each stack's Job Queue endpoint.</summary>
internal static class KeboolaStacks
{
    /// <summary>Stack name → Job Queue endpoint. A Storage API token works only on its own stack.</summary>
    public static IReadOnlyDictionary<string, Uri> QueueUrls { get; } = new Dictionary<string, Uri>(StringComparer.Ordinal)
    {
        ["us-virginia-aws"] = new("https://queue.keboola.com/"),
        ["us-virginia-gcp"] = new("https://queue.us-east4.gcp.keboola.com/"),
        ["eu-frankfurt-aws"] = new("https://queue.eu-central-1.keboola.com/"),
        ["eu-ireland-azure"] = new("https://queue.north-europe.azure.keboola.com/"),
        ["eu-frankfurt-gcp"] = new("https://queue.europe-west3.gcp.keboola.com/"),
    };

    /// <summary>
    /// The queue endpoint for a URL a user may copy from the Keboola UI: a single-tenant stack's
    /// <c>connection.&lt;customer&gt;.keboola.com</c> becomes <c>queue.&lt;customer&gt;.keboola.com</c>; any other URL
    /// is taken as the queue endpoint itself.
    /// </summary>
    public static Uri QueueUrlFor(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (url.Host.StartsWith("connection.", StringComparison.OrdinalIgnoreCase)
            && url.Host.EndsWith(".keboola.com", StringComparison.OrdinalIgnoreCase))
        {
            return new UriBuilder(url) { Host = "queue." + url.Host["connection.".Length..], Path = "/" }.Uri;
        }

        return url;
    }
}
