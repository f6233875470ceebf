using System.Diagnostics;
using System.Diagnostics.Metrics;
using BenchmarkDotNet.Attributes;
using JobRelay.Diagnostics;

namespace JobRelay.Benchmarks;

/// <summary>
/// What one delivery's telemetry costs: its delivery count, its start count and its platform-latency sample, and the
/// spans of a delivery, with nobody listening (serve without an OTLP endpoint) and with a listener that samples all.
/// </summary>
[MemoryDiagnoser]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1822", Justification = "BenchmarkDotNet runs instance methods.")]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "BenchmarkDotNet derives from the class, so it is not sealed, and disposes the listeners in [GlobalCleanup].")]
public class TelemetryBenchmarks
{
    private MeterListener? _meters;
    private ActivityListener? _spans;

    [Params(false, true)]
    public bool Listening { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        if (!Listening)
        {
            return;
        }

        _meters = new MeterListener();
        _meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == RelayTelemetry.MeterName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _meters.SetMeasurementEventCallback<long>(static (_, _, _, _) => { });
        _meters.SetMeasurementEventCallback<double>(static (_, _, _, _) => { });
        _meters.Start();
        _spans = new ActivityListener
        {
            ShouldListenTo = source => source.Name == RelayTelemetry.SourceName,
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(_spans);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _meters?.Dispose();
        _spans?.Dispose();
    }

    [Benchmark]
    public void DeliveryMeasurements()
    {
        RelayTelemetry.Deliveries.Add(1, RelayTelemetry.Tags("deploy-docs", "started"));
        RelayTelemetry.JobStarts.Add(1, new TagList { { "jobrelay.trigger", "deploy-docs" }, { "jobrelay.platform", "kbc" }, { "jobrelay.outcome", "started" } });
        RelayTelemetry.PlatformDuration.Record(0.042, new TagList { { "jobrelay.platform", "kbc" }, { "jobrelay.operation", "start job" }, { "jobrelay.outcome", "2xx" } });
    }

    [Benchmark]
    public void DeliverySpans()
    {
        using var receive = RelayTelemetry.Source.StartActivity("webhook receive");
        receive?.SetTag("jobrelay.trigger", "deploy-docs");
        using (var verify = RelayTelemetry.Source.StartActivity("webhook verify"))
        {
            verify?.SetTag("jobrelay.outcome", "verified");
        }

        using (var claim = RelayTelemetry.Source.StartActivity("run claim"))
        {
            claim?.SetTag("jobrelay.claim.status", "First");
        }

        using var run = RelayTelemetry.Source.StartActivity("trigger run");
        using var platform = RelayTelemetry.Source.StartActivity("kbc start job", ActivityKind.Client);
        platform?.SetTag("http.response.status_code", 201);
    }
}
