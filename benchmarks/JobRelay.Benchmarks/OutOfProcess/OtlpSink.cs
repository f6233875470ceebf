using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace JobRelay.Benchmarks.OutOfProcess;

/// <summary>
/// The least OTLP/HTTP collector serve can export to: a loopback Kestrel app that reads and drops every
/// <c>POST /v1/traces</c> and <c>POST /v1/metrics</c>, answers 200, and counts them, so the suite can show that
/// export happened while tracing was on.
/// </summary>
internal sealed class OtlpSink : IAsyncDisposable
{
    public const string EndpointSetting = "OTEL_EXPORTER_OTLP_ENDPOINT";
    public const string ProtocolSetting = "OTEL_EXPORTER_OTLP_PROTOCOL";

    private readonly WebApplication _app;
    private long _traces;
    private long _metrics;
    private long _bytes;

    private OtlpSink(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    public Uri Address { get; }

    public long Traces => Interlocked.Read(ref _traces);

    public long Metrics => Interlocked.Read(ref _metrics);

    public long Bytes => Interlocked.Read(ref _bytes);

    public static async Task<OtlpSink> StartAsync(CancellationToken cancellationToken)
    {
        var address = new Uri($"http://127.0.0.1:{LoadHarness.FreePort()}/");
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(address.ToString().TrimEnd('/'));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var sink = new OtlpSink(app, address);
        app.MapPost("/v1/traces", (HttpContext http) => sink.ReceiveAsync(http, ref sink._traces));
        app.MapPost("/v1/metrics", (HttpContext http) => sink.ReceiveAsync(http, ref sink._metrics));
        await app.StartAsync(cancellationToken);
        return sink;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }

    private Task ReceiveAsync(HttpContext http, ref long counter)
    {
        Interlocked.Increment(ref counter);
        return DrainAsync(http);
    }

    private async Task DrainAsync(HttpContext http)
    {
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await http.Request.Body.ReadAsync(buffer, http.RequestAborted)) > 0)
        {
            Interlocked.Add(ref _bytes, read);
        }

        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.ContentType = "application/x-protobuf";
        http.Response.ContentLength = 0;
    }
}
