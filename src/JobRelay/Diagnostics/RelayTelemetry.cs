using System.Diagnostics;

namespace JobRelay.Diagnostics;

/// <summary>
/// JobRelay's own traces. Tags carry names (platform, trigger, operation, job id), never an address: TheEye keys
/// travel in request paths, so no URL is ever recorded.
/// </summary>
internal static class RelayTelemetry
{
    public const string SourceName = "JobRelay";

    public static readonly ActivitySource Source = new(SourceName);
}
