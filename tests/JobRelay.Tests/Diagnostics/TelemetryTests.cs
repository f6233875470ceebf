using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using JobRelay.Cli;
using JobRelay.Diagnostics;
using JobRelay.Tests.Http;
using JobRelay.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace JobRelay.Tests.Diagnostics;

/// <summary>
/// Traces and metrics of real requests through the host wired as <c>jobrelay serve</c> wires it, exported in memory
/// after the same redaction as the OTLP export. Platform and trigger names are this class's own, so that the
/// process-wide instruments can be read without the other tests' measurements.
/// </summary>
public sealed class TelemetryTests : IAsyncLifetime
{
    private const string EventToken = "kbc-event-token-7e1e";
    private const string TaskKey = "eye-task-key-9d9d";

    private const string Catalog = """
        {
          "platforms": {
            "traced-kbc": { "type": "keboola", "url": "http://127.0.0.1:1/", "tokenSecret": "kbc-token", "eventSecret": "kbc-events" },
            "traced-eye": { "type": "theeye", "url": "http://127.0.0.1:1/", "customer": "acme", "accessTokenSecret": "eye-token" }
          },
          "triggers": {
            "traced-load": {
              "platform": "traced-kbc",
              "keboola": { "component": "keboola.ex-db", "config": "42" },
              "webhook": { "scheme": "cloudEvents", "secrets": ["hook-token"] }
            },
            "traced-report": {
              "platform": "traced-eye",
              "theeye": { "task": "report-task", "auth": "secretKey", "secretKeySecret": "task-key" },
              "after": [{ "trigger": "traced-load" }]
            }
          }
        }
        """;

    private static readonly string[] Secrets = [RelayHost.HookToken, EventToken, TaskKey, RelayHost.KeboolaToken, RelayHost.TheEyeToken];

    private readonly List<Activity> _spans = [];
    private readonly List<MetricSnapshot> _metrics = [];
    private LoopbackServer _keboola = null!;
    private LoopbackServer _theEye = null!;
    private RelayHost _host = null!;

    public async Task InitializeAsync()
    {
        _keboola = await LoopbackServer.StartAsync(app => app.MapPost("/jobs", () => Results.Json(new JsonObject { ["id"] = "2001", ["status"] = "created", ["isFinished"] = false }, statusCode: 201)));
        _theEye = await LoopbackServer.StartAsync(app => app.MapPost("/job/secret/{key}", () => Results.Json(new JsonObject { ["id"] = "64f0000000000000000000ab", ["state"] = "in_progress", ["lifecycle"] = "ready" })));
        _host = await RelayHost.StartAsync(
            Catalog,
            new Dictionary<string, Uri> { ["traced-kbc"] = _keboola.BaseAddress, ["traced-eye"] = _theEye.BaseAddress },
            new Dictionary<string, string?>
            {
                ["JobRelay:Secrets:Values:kbc-events"] = EventToken,
                ["JobRelay:Secrets:Values:task-key"] = TaskKey,
            },
            services => services.AddJobRelayServeTelemetry(
                new ConfigurationBuilder().Build(),
                tracing => tracing.AddInMemoryExporter(_spans),
                metrics => metrics.AddInMemoryExporter(_metrics)));
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _keboola.DisposeAsync();
        await _theEye.DisposeAsync();
    }

    [Fact]
    public async Task OneWebhookIsOneTraceFromReceiveToAnswerAndThePlatformGetsItsTraceparent()
    {
        using var response = await PostHookAsync("evt-tree-1");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        var receive = await SpanAsync(s => s.OperationName == "webhook receive" && Tag(s, "jobrelay.trigger") == "traced-load");
        var answer = await SpanAsync(s => s.OperationName == "webhook answer" && s.TraceId == receive.TraceId);
        var server = await SpanAsync(s => s.Kind == ActivityKind.Server && s.SpanId == receive.ParentSpanId);
        var trace = Snapshot().Where(s => s.TraceId == receive.TraceId).ToList();

        Assert.Equal("POST /api/hooks/{trigger}", server.DisplayName);
        var verify = Assert.Single(trace, s => s.OperationName == "webhook verify");
        var claim = Assert.Single(trace, s => s.OperationName == "run claim");
        var run = Assert.Single(trace, s => s.OperationName == "trigger run");
        var platform = Assert.Single(trace, s => s.OperationName == "traced-kbc start job");
        var http = await SpanAsync(s => s.Kind == ActivityKind.Client && s.ParentSpanId == platform.SpanId);
        Assert.Equal(receive.SpanId, verify.ParentSpanId);
        Assert.Equal(receive.SpanId, claim.ParentSpanId);
        Assert.Equal(receive.SpanId, run.ParentSpanId);
        Assert.Equal(receive.SpanId, answer.ParentSpanId);
        Assert.Equal(run.SpanId, platform.ParentSpanId);
        Assert.Equal(ActivityKind.Client, platform.Kind);
        Assert.Equal("verified", Tag(verify, "jobrelay.outcome"));
        Assert.Equal("First", Tag(claim, "jobrelay.claim.status"));
        Assert.Equal("2001", Tag(run, "jobrelay.job_id"));
        Assert.Equal("202", Tag(answer, "http.response.status_code"));
        Assert.Equal("POST", Tag(http, "http.request.method"));

        var sent = Assert.Single(_keboola.Requests);
        Assert.Equal("POST", sent.Method);
        Assert.Equal("/jobs", sent.Path);
        Assert.Equal($"00-{http.TraceId}-{http.SpanId}-01", sent.Header("traceparent"));
    }

    [Fact]
    public async Task MetricsCountTheDeliveryTheStartAndThePlatformCall()
    {
        using (var first = await PostHookAsync("evt-metrics-1"))
        {
            Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        }

        using (var duplicate = await PostHookAsync("evt-metrics-1"))
        {
            Assert.Equal(HttpStatusCode.OK, duplicate.StatusCode);
        }

        using (var forged = await PostHookAsync("evt-metrics-2", token: "not-the-token"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        }

        var points = Collect();

        Assert.Equal(1, Sum(points, "jobrelay.webhook.deliveries", ("jobrelay.trigger", "traced-load"), ("jobrelay.outcome", "started")));
        Assert.Equal(1, Sum(points, "jobrelay.webhook.deliveries", ("jobrelay.trigger", "traced-load"), ("jobrelay.outcome", "duplicate")));
        Assert.Equal(1, Sum(points, "jobrelay.webhook.deliveries", ("jobrelay.trigger", "traced-load"), ("jobrelay.outcome", "rejected")));
        Assert.Equal(1, Sum(points, "jobrelay.job.starts", ("jobrelay.trigger", "traced-load"), ("jobrelay.platform", "traced-kbc"), ("jobrelay.outcome", "started")));
        var latency = Single(points, "jobrelay.platform.request.duration", ("jobrelay.platform", "traced-kbc"), ("jobrelay.operation", "start job"), ("jobrelay.outcome", "2xx"));
        Assert.Equal(1, latency.GetHistogramCount());
        Assert.InRange(latency.GetHistogramSum(), 0.000_001, 30);
        Assert.Single(_keboola.Requests);
    }

    [Fact]
    public async Task AChainedFollowerLinksToItsParentRunsTraceAndNoSpanCarriesASecret()
    {
        using (var hook = await PostHookAsync("evt-chain-1"))
        {
            Assert.Equal(HttpStatusCode.Accepted, hook.StatusCode);
        }

        var parentRun = await SpanAsync(s => s.OperationName == "trigger run" && Tag(s, "jobrelay.trigger") == "traced-load");
        using (var jobEnd = await _host.Client.PostAsync(
            new Uri($"/api/events/traced-kbc?token={EventToken}", UriKind.Relative),
            new StringContent(KeboolaEvent("2001"), Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.Accepted, jobEnd.StatusCode);
        }

        var follower = await SpanAsync(s => s.OperationName == "chain follower" && Tag(s, "jobrelay.trigger") == "traced-report");
        var link = Assert.Single(follower.Links);
        Assert.Equal(parentRun.TraceId, link.Context.TraceId);
        Assert.NotEqual(parentRun.TraceId, follower.TraceId);
        Assert.Equal(Tag(parentRun, "jobrelay.run_id"), Tag(follower, "jobrelay.parent_run_id"));

        var started = Assert.Single(_theEye.Requests);
        Assert.Equal($"/job/secret/{TaskKey}", started.Path);
        Assert.Equal("?customer=acme", started.QueryString);
        var theEyeCall = await SpanAsync(s => s.Kind == ActivityKind.Client && s.TraceId == follower.TraceId && Tag(s, "url.full") is not null);
        Assert.Equal($"{_theEye.BaseAddress}job/secret/{UrlRedaction.Redacted}?*", Tag(theEyeCall, "url.full"));
        var eventServer = await SpanAsync(s => s.Kind == ActivityKind.Server && s.TraceId == follower.TraceId && s.DisplayName == "POST /api/events/{platform}");
        Assert.Equal($"?token={UrlRedaction.Redacted}", Tag(eventServer, "url.query"));

        var hookServer = await SpanAsync(s => s.Kind == ActivityKind.Server && s.TraceId == parentRun.TraceId && s.DisplayName == "POST /api/hooks/{trigger}");
        Assert.Equal($"?token={UrlRedaction.Redacted}", Tag(hookServer, "url.query"));
        foreach (var span in Snapshot().Where(s => s.TraceId == parentRun.TraceId || s.TraceId == follower.TraceId))
        {
            var texts = span.TagObjects.Select(t => $"{t.Key}={t.Value}")
                .Concat(span.Events.SelectMany(e => e.Tags.Select(t => $"{e.Name} {t.Key}={t.Value}")))
                .Append(span.DisplayName)
                .Append(span.StatusDescription ?? string.Empty);
            foreach (var text in texts)
            {
                foreach (var secret in Secrets)
                {
                    Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
                }
            }
        }
    }

    private Task<HttpResponseMessage> PostHookAsync(string eventId, string token = RelayHost.HookToken)
    {
        var body = $$$"""{"specversion":"1.0","type":"com.example.loaded","source":"/tests","id":"{{{eventId}}}","data":{}}""";
        return _host.Client.PostAsync(
            new Uri($"/api/hooks/traced-load?token={token}", UriKind.Relative),
            new StringContent(body, Encoding.UTF8, "application/cloudevents+json"));
    }

    private static string KeboolaEvent(string jobId)
        => $$$"""{"job":{"id":"{{{jobId}}}","url":"https://queue.keboola.com/jobs/{{{jobId}}}","component":{"id":"keboola.ex-db"},"configuration":{"id":"42"}},"branch":{"id":"1"},"project":{"id":"7","name":"p"},"eventType":"job-succeeded"}""";

    private List<Activity> Snapshot()
    {
        lock (_spans)
        {
            return [.. _spans];
        }
    }

    /// <summary>Spans end after the answer is on its way (the server span last of all): wait a while for one.</summary>
    private async Task<Activity> SpanAsync(Func<Activity, bool> match)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            if (Snapshot().FirstOrDefault(match) is { } span)
            {
                return span;
            }

            await Task.Delay(50);
        }

        throw new Xunit.Sdk.XunitException("No exported span matched; exported: " + string.Join(", ", Snapshot().Select(s => $"{s.DisplayName} ({s.Kind} from {s.Source.Name}, {s.TraceId}/{s.SpanId} under {s.ParentSpanId})")));
    }

    private static string? Tag(Activity span, string key) => span.GetTagItem(key) switch
    {
        null => null,
        IFormattable number => number.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        var value => value.ToString(),
    };

    private List<(string Name, MetricPoint Point)> Collect()
    {
        Assert.True(_host.Services.GetRequiredService<MeterProvider>().ForceFlush());
        lock (_metrics)
        {
            // Each flush exports every instrument's cumulative state: the latest snapshot of a name is its whole story.
            return [.. _metrics
                .GroupBy(m => m.Name)
                .Select(g => g.Last())
                .SelectMany(m => m.MetricPoints.Select(p => (m.Name, p)))];
        }
    }

    private static MetricPoint Single(List<(string Name, MetricPoint Point)> points, string name, params (string Key, string Value)[] tags)
        => Assert.Single(points, p => p.Name == name && HasTags(p.Point, tags)).Point;

    private static long Sum(List<(string Name, MetricPoint Point)> points, string name, params (string Key, string Value)[] tags)
        => Single(points, name, tags).GetSumLong();

    private static bool HasTags(MetricPoint point, (string Key, string Value)[] tags)
    {
        var present = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var tag in point.Tags)
        {
            present[tag.Key] = tag.Value?.ToString();
        }

        return present.Count == tags.Length && tags.All(t => present.TryGetValue(t.Key, out var value) && value == t.Value);
    }
}
