using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace JobRelay.Diagnostics;

/// <summary>
/// JobRelay's own traces and metrics. Tags carry names (platform, trigger, operation, outcome, job id), never an
/// address: TheEye keys travel in request paths and Keboola event tokens in queries, so no URL is ever recorded here.
/// </summary>
public static class RelayTelemetry
{
    public const string SourceName = "JobRelay";

    public const string MeterName = "JobRelay";

    public static readonly ActivitySource Source = new(SourceName);

    internal static readonly Meter Meter = new(MeterName);

    /// <summary>Webhook deliveries by trigger and outcome (started, pending, duplicate, ignored, rejected, handshake, batch, failed).</summary>
    internal static readonly Counter<long> Deliveries = Meter.CreateCounter<long>(
        "jobrelay.webhook.deliveries", "{delivery}", "Webhook deliveries by trigger and outcome.");

    /// <summary>Job starts by trigger, platform and result (started, pending, outcome-unknown, refused, released).</summary>
    internal static readonly Counter<long> JobStarts = Meter.CreateCounter<long>(
        "jobrelay.job.starts", "{start}", "Job starts on a platform by trigger, platform and result.");

    internal static readonly Histogram<double> PlatformDuration = Meter.CreateHistogram<double>(
        "jobrelay.platform.request.duration", "s", "Duration of platform calls, retries included, by platform, operation and outcome.");

    internal static readonly Counter<long> SecretReads = Meter.CreateCounter<long>(
        "jobrelay.keyvault.reads", "{read}", "Secret reads from Key Vault (cache misses) by outcome.");

    internal static readonly Histogram<double> SchedulerLag = Meter.CreateHistogram<double>(
        "jobrelay.scheduler.lag", "s", "How late a scheduled occurrence was started after its due time, by trigger.");

    /// <summary>Status reads of watched jobs by platform and outcome (running, ended, failed, lost, abandoned).</summary>
    internal static readonly Counter<long> WatchChecks = Meter.CreateCounter<long>(
        "jobrelay.watch.checks", "{check}", "Status reads of the jobs JobRelay started, by platform and outcome.");

    /// <summary>Ends of the jobs JobRelay started, as its watch saw them, by trigger, platform and end state.</summary>
    internal static readonly Counter<long> JobEnds = Meter.CreateCounter<long>(
        "jobrelay.job.ends", "{job}", "Ends of the jobs JobRelay started, by trigger, platform and end state.");

    internal static readonly Histogram<double> JobDuration = Meter.CreateHistogram<double>(
        "jobrelay.job.duration", "s", "How long the jobs JobRelay started ran, from their start to their end, by trigger and platform.");

    /// <summary>Jobs found running past their trigger's maxDuration.</summary>
    internal static readonly Counter<long> JobsOverdue = Meter.CreateCounter<long>(
        "jobrelay.job.overdue", "{job}", "Jobs found running past their trigger's maxDuration, by trigger and platform.");
    /// <summary>Scheduler ticks recorded in the store, by host (functions, serve). An alert on their absence catches a
    /// timer that stopped firing, which a lag alert never sees.</summary>
    internal static readonly Counter<long> SchedulerTicks = Meter.CreateCounter<long>(
        "jobrelay.scheduler.ticks", "{tick}", "Scheduler ticks recorded in the store, by host.");

    private static long s_pendingBacklog = -1;

    /// <summary>Reported only once a sweep has counted it: a gauge of 0 before any sweep would claim an empty backlog.</summary>
    internal static readonly ObservableGauge<long> PendingBacklog = Meter.CreateObservableGauge(
        "jobrelay.runs.pending",
        ObservePendingBacklog,
        "{run}",
        "Pending starts that were due at the last sweep and that the platform still did not get.");

    internal static void ReportPendingBacklog(long runs) => Interlocked.Exchange(ref s_pendingBacklog, runs);

    private static IEnumerable<Measurement<long>> ObservePendingBacklog()
    {
        var value = Interlocked.Read(ref s_pendingBacklog);
        return value < 0 ? [] : [new Measurement<long>(value)];
    }

    /// <summary>The tags that name a trigger and an outcome, the shape of most of JobRelay's measurements.</summary>
    internal static TagList Tags(string trigger, string outcome) => new()
    {
        { "jobrelay.trigger", trigger },
        { "jobrelay.outcome", outcome },
    };
}
