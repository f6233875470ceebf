using JobRelay.Diagnostics;
using Microsoft.ApplicationInsights.Channel;
using Microsoft.ApplicationInsights.DataContracts;
using Microsoft.ApplicationInsights.Extensibility;

namespace JobRelay.Functions;

/// <summary>
/// Keeps credentials that travel in URLs out of the worker's telemetry: Keboola job-end notifications carry the
/// event token in <c>?token=</c>, CloudEvents senders may use <c>?access_token=</c>, and TheEye task secret keys sit in
/// the path (<c>/job/secret/{key}</c>, <c>/task/{id}/secret/{key}/job</c>). Query values are dropped and the segment after
/// <c>secret</c> is replaced before any request or dependency item leaves the process.
/// </summary>
internal sealed class SecretRedactingTelemetryInitializer : ITelemetryInitializer
{
    public const string Redacted = UrlRedaction.Redacted;

    public void Initialize(ITelemetry telemetry)
    {
        switch (telemetry)
        {
            case RequestTelemetry request:
                request.Url = request.Url is null ? null : new Uri(Redact(request.Url.ToString()), UriKind.RelativeOrAbsolute);
                request.Name = Redact(request.Name);
                break;
            case DependencyTelemetry dependency:
                dependency.Data = Redact(dependency.Data);
                dependency.Name = Redact(dependency.Name);
                break;
        }
    }

    internal static string Redact(string? text) => UrlRedaction.Redact(text);
}
