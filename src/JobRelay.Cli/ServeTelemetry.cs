using JobRelay.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace JobRelay.Cli;

/// <summary>
/// <c>jobrelay serve</c>'s traces and metrics: JobRelay's own spans and instruments, ASP.NET Core's server spans and
/// HttpClient's client spans (which send W3C <c>traceparent</c> to the platforms), exported over OTLP when
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set. Without an endpoint nothing listens, so the hot path pays nothing.
/// </summary>
internal static class ServeTelemetry
{
    public const string EndpointSetting = "OTEL_EXPORTER_OTLP_ENDPOINT";
    public const string ServiceName = "jobrelay";

    /// <param name="tracing">More exporters for traces (tests add an in-memory one); they follow the redaction.</param>
    /// <param name="metrics">More readers for metrics.</param>
    public static IServiceCollection AddJobRelayServeTelemetry(
        this IServiceCollection services,
        IConfiguration configuration,
        Action<TracerProviderBuilder>? tracing = null,
        Action<MeterProviderBuilder>? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var otlp = !string.IsNullOrWhiteSpace(configuration[EndpointSetting]);
        if (!otlp && tracing is null && metrics is null)
        {
            return services;
        }

        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(ServiceName))
            .WithTracing(builder =>
            {
                builder.AddJobRelayTracing()
                    .AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation();
                tracing?.Invoke(builder);
                if (otlp)
                {
                    builder.AddOtlpExporter();
                }
            })
            .WithMetrics(builder =>
            {
                builder.AddMeter(RelayTelemetry.MeterName)
                    .AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation();
                metrics?.Invoke(builder);
                if (otlp)
                {
                    builder.AddOtlpExporter();
                }
            });
        return services;
    }
}
