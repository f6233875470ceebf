using System.Collections.ObjectModel;
using System.Diagnostics;
using Azure.Identity;
using JobRelay.Diagnostics;
using JobRelay.Functions;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace JobRelay.Tests.Functions;

public class FunctionsTelemetryTests
{
    [Fact]
    public void TheWorkerExportsJobRelaySpansWithTheirUrlSecretsRedacted()
    {
        // The exporter adds spans from whatever runs on the shared source meanwhile: a list that locks its adds.
        var spans = new LockedCollection<Activity>();
        // Azure Monitor's exporter samples traces (rate-limited by default); a fixed 100% makes this span certain to be exported.
        var sampling = new Dictionary<string, string?> { ["OTEL_TRACES_SAMPLER"] = "microsoft.fixed_percentage", ["OTEL_TRACES_SAMPLER_ARG"] = "1.0" };
        using var host = FunctionsAppHost.Build(settings: sampling, afterSetup: services =>
            services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(spans)));
        var tracerProvider = host.Services.GetRequiredService<TracerProvider>();
        Assert.NotNull(host.Services.GetRequiredService<MeterProvider>());
        var trigger = "functions-" + Guid.NewGuid().ToString("n");

        // A root span: an ambient one left by whatever ran before on this thread would decide its sampling.
        Activity.Current = null;

        using (var activity = RelayTelemetry.Source.StartActivity("traced in the worker", ActivityKind.Client))
        {
            Assert.NotNull(activity);
            activity.SetTag("jobrelay.trigger", trigger);
            activity.SetTag("url.full", "https://supervisor.theeye.io/job/secret/k3y-f0r-task?customer=acme");
            activity.SetTag("http.url", "https://connection.keboola.com/api/events/kbc?token=kbc-event-token-1");
        }

        // The exporters behind the app's own processors may hold a span until flushed.
        Assert.True(tracerProvider.ForceFlush(10_000));
        var exported = Assert.Single(spans.Snapshot(), span => (string?)span.GetTagItem("jobrelay.trigger") == trigger);

        Assert.Equal($"https://supervisor.theeye.io/job/secret/{UrlRedaction.Redacted}?customer={UrlRedaction.Redacted}", exported.GetTagItem("url.full"));
        Assert.Equal($"https://connection.keboola.com/api/events/kbc?token={UrlRedaction.Redacted}", exported.GetTagItem("http.url"));
    }

    [Fact]
    public void TheExportSignsInAsTheManagedIdentityTheAuthenticationSettingNames()
    {
        Assert.IsType<ManagedIdentityCredential>(FunctionsTelemetry.Credential("Authorization=AAD;ClientId=5b1a0c9e-0000-4000-8000-000000000001"));
        Assert.IsType<ManagedIdentityCredential>(FunctionsTelemetry.Credential("Authorization=AAD"));
        Assert.Null(FunctionsTelemetry.Credential(null));
        Assert.Null(FunctionsTelemetry.Credential("Authorization=Key"));
    }

    private sealed class LockedCollection<T> : Collection<T>
    {
        private readonly Lock _gate = new();

        public T[] Snapshot()
        {
            lock (_gate)
            {
                return [.. Items];
            }
        }

        protected override void InsertItem(int index, T item)
        {
            lock (_gate)
            {
                base.InsertItem(index, item);
            }
        }
    }
}
