using System.Diagnostics;
using System.Text.RegularExpressions;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace JobRelay.Diagnostics;

/// <summary>
/// Keeps credentials that travel in URLs out of telemetry: Keboola job-end notifications carry the event token in
/// <c>?token=</c>, CloudEvents senders may use <c>?access_token=</c>, and TheEye task secret keys sit in the path
/// (<c>/job/secret/{key}</c>, <c>/task/{id}/secret/{key}/job</c>). Query values are dropped and the segment after
/// <c>secret</c> is replaced.
/// </summary>
public static partial class UrlRedaction
{
    public const string Redacted = "REDACTED";

    public static string Redact(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text ?? string.Empty;
        }

        var withoutQueryValues = QueryValue().Replace(text, match => $"{match.Groups["name"].Value}={Redacted}");
        return SecretSegment().Replace(withoutQueryValues, $"/secret/{Redacted}");
    }

    /// <summary>
    /// Adds JobRelay's activity source with the redaction in front of every exporter added after it, so that no
    /// <c>url.*</c> or <c>http.*</c> attribute leaves the process with a query value or a TheEye key in it.
    /// </summary>
    public static TracerProviderBuilder AddJobRelayTracing(this TracerProviderBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddSource(RelayTelemetry.SourceName).AddProcessor(new UrlRedactionProcessor());
    }

    [GeneratedRegex(@"(?<=[?&])(?<name>[^=&#\s]+)=[^&#\s]*")]
    private static partial Regex QueryValue();

    [GeneratedRegex(@"/secret/[^/?#\s]+", RegexOptions.IgnoreCase)]
    private static partial Regex SecretSegment();
}

/// <summary>Rewrites the URL-bearing attributes of every span as it ends, before the exporters after it see the span.</summary>
internal sealed class UrlRedactionProcessor : BaseProcessor<Activity>
{
    public override void OnEnd(Activity data)
    {
        ArgumentNullException.ThrowIfNull(data);
        List<KeyValuePair<string, string>>? rewrites = null;
        foreach (ref readonly var tag in data.EnumerateTagObjects())
        {
            if (tag.Value is string text && IsUrlAttribute(tag.Key))
            {
                var redacted = UrlRedaction.Redact(text);
                if (!string.Equals(redacted, text, StringComparison.Ordinal))
                {
                    (rewrites ??= []).Add(KeyValuePair.Create(tag.Key, redacted));
                }
            }
        }

        if (rewrites is null)
        {
            return;
        }

        foreach (var (key, value) in rewrites)
        {
            data.SetTag(key, value);
        }
    }

    private static bool IsUrlAttribute(string key)
        => key.StartsWith("url.", StringComparison.Ordinal) || key.StartsWith("http.", StringComparison.Ordinal);
}
