using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace JobRelay.Sandbox;

/// <summary>
/// Keboola's Job Queue API and TheEye's task API, played on 127.0.0.1 with the documented routes, status codes,
/// error bodies and quirks, and jobs that move through their states over <see cref="SandboxOptions.JobDuration"/>.
/// A component <c>sandbox.fail</c> or a task <c>sandbox-fail</c> ends in failure; a task <c>sandbox-missing</c>
/// does not exist; a task <c>sandbox-bad-args</c> is created already failed. A receiver takes JobRelay's outbound
/// events (signed webhook, Slack, Teams) and shows them at <c>GET /sandbox/received</c>.
/// </summary>
public sealed partial class SandboxPlatforms : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly SandboxOptions _options;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, Job> _jobs = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _jobOrder = new();
    private readonly ConcurrentQueue<SandboxFault> _faults = new();
    private readonly ConcurrentDictionary<string, Subscription> _subscriptions = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly HttpClient _notifications = new() { Timeout = TimeSpan.FromSeconds(10) };
    private Task _notifier = Task.CompletedTask;
    private long _nextKeboolaId = 1_000_000;

    private SandboxPlatforms(WebApplication app, SandboxOptions options)
    {
        _app = app;
        _options = options;
        _logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger("JobRelay.Sandbox");
    }

    public Uri KeboolaUrl { get; private set; } = null!;

    public Uri TheEyeUrl { get; private set; } = null!;

    /// <summary>Every job created so far, oldest first.</summary>
    public IReadOnlyList<SandboxJob> Jobs => [.. _jobs.Values.OrderBy(j => j.Sequence).Select(j => new SandboxJob(j.Platform, j.Id, j.Name, StateOf(j), j.CreatedAt, j.RequestBody))];

    /// <summary>Plays <paramref name="fault"/> on the next requests to its platform (<c>keboola</c> or <c>theeye</c>).</summary>
    public void InjectFault(SandboxFault fault)
    {
        ArgumentNullException.ThrowIfNull(fault);
        _faults.Enqueue(fault with { });
    }

    public static async Task<SandboxPlatforms> StartAsync(SandboxOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxJobs, 1);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(IPAddress.Loopback, options.Port);
        });
        var app = builder.Build();
        var sandbox = new SandboxPlatforms(app, options);
        app.Use(sandbox.PlayFaultsAsync);
        app.MapPost("/sandbox/faults", (SandboxFault fault) =>
        {
            sandbox.InjectFault(fault);
            return Results.Accepted();
        });
        app.MapGet("/sandbox/jobs", () => Results.Json(sandbox.JobsReceived()));
        sandbox.MapKeboola(app);
        sandbox.MapTheEye(app);
        sandbox.MapReceiver(app);
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var root = new Uri(address.TrimEnd('/') + "/");
        sandbox.KeboolaUrl = new Uri(root, "keboola/");
        sandbox.TheEyeUrl = new Uri(root, "theeye/");
        sandbox._notifier = sandbox.NotifyAsync(sandbox._stopping.Token);
        return sandbox;
    }

    /// <summary>Where <c>GET</c> lists what the emulators received: every job, oldest first, with the request that created it.</summary>
    public Uri JobsUrl => new(KeboolaUrl, "../sandbox/jobs");

    /// <summary>
    /// The jobs as <c>GET /sandbox/jobs</c> answers them: <c>{"jobs": [{platform, id, name, state, createdAt, request}]}</c>,
    /// the request being the body the job was created with, as JSON when it is.
    /// </summary>
    private JsonObject JobsReceived()
    {
        var jobs = new JsonArray();
        foreach (var job in Jobs)
        {
            jobs.Add(new JsonObject
            {
                ["platform"] = job.Platform,
                ["id"] = job.Id,
                ["name"] = job.Name,
                ["state"] = job.State,
                ["createdAt"] = job.CreatedAt,
                ["request"] = JsonOrText(job.RequestBody),
            });
        }

        return new JsonObject { ["jobs"] = jobs };
    }

    /// <summary>A body as the sandbox's listings show it: as JSON when it parses, else as its text.</summary>
    private static JsonNode? JsonOrText(string body)
    {
        try
        {
            return JsonNode.Parse(body);
        }
        catch (JsonException)
        {
            return JsonValue.Create(body);
        }
    }

    /// <summary>The notification subscriptions created so far.</summary>
    public int SubscriptionCount => _subscriptions.Count;

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        try
        {
            await _notifier;
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }

        _stopping.Dispose();
        _notifications.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task PlayFaultsAsync(HttpContext context, RequestDelegate next)
    {
        var platform = context.Request.Path.StartsWithSegments("/keboola", StringComparison.Ordinal) ? "keboola"
            : context.Request.Path.StartsWithSegments("/theeye", StringComparison.Ordinal) ? "theeye"
            : null;
        if (platform is not null && TakeFault(platform) is { } fault)
        {
            SandboxLog.Fault(_logger, platform, fault.Status ?? 0, fault.Drop, (long)fault.Latency.TotalMilliseconds);
            if (fault.Latency > TimeSpan.Zero)
            {
                await Task.Delay(fault.Latency, context.RequestAborted);
            }

            if (fault.Drop)
            {
                await context.Request.Body.CopyToAsync(Stream.Null, context.RequestAborted);
                context.Abort();
                return;
            }

            if (fault.Status is { } status)
            {
                context.Response.StatusCode = status;
                if (fault.RetryAfterSeconds is { } retryAfter)
                {
                    context.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
                }

                await context.Response.WriteAsJsonAsync(platform == "keboola"
                    ? new JsonObject { ["error"] = "The sandbox was asked to fail this request.", ["code"] = status, ["status"] = "error" }
                    : (JsonNode)JsonValue.Create("The sandbox was asked to fail this request."), context.RequestAborted);
                return;
            }
        }

        await next(context);
    }

    private SandboxFault? TakeFault(string platform)
    {
        lock (_faults)
        {
            if (!_faults.TryPeek(out var fault) || fault.Platform != platform)
            {
                return null;
            }

            if (fault.Count <= 1)
            {
                _faults.TryDequeue(out _);
            }
            else
            {
                _faults.TryDequeue(out _);
                var rest = _faults.ToArray();
                _faults.Clear();
                _faults.Enqueue(fault with { Count = fault.Count - 1 });
                foreach (var other in rest)
                {
                    _faults.Enqueue(other);
                }
            }

            return fault;
        }
    }

    private long _sequence;

    private string StateOf(Job job)
    {
        var now = _options.TimeProvider.GetUtcNow();
        var elapsed = now - job.CreatedAt;
        if (job.Platform == "keboola")
        {
            if (job.KilledAt is { } killed)
            {
                return now - killed >= TimeSpan.FromSeconds(1) ? "terminated" : "terminating";
            }

            var running = now - job.StartAt;
            return running >= _options.JobDuration ? (job.Fails ? "error" : "success")
                : running >= _options.JobDuration / 3 ? "processing"
                : "waiting";
        }

        if (job.BrokenAtStart)
        {
            return "terminated/error";
        }

        if (job.KilledAt is not null)
        {
            return "canceled/canceled";
        }

        if (job.Name == "sandbox-approval")
        {
            return job.Decision ?? "onhold/in_progress";
        }

        elapsed = now - (job.RestartedAt ?? job.CreatedAt);
        return elapsed >= _options.JobDuration ? (job.Fails ? "finished/failure" : "finished/success")
            : elapsed >= _options.JobDuration / 3 ? "assigned/in_progress"
            : "ready/in_progress";
    }

    /// <summary>
    /// Keeps a new job, forgetting the oldest beyond <see cref="SandboxOptions.MaxJobs"/> as a platform's retention
    /// would: a long-running sandbox under load keeps a bounded amount of memory.
    /// </summary>
    private void Keep(Job job)
    {
        _jobs[job.Id] = job;
        _jobOrder.Enqueue(job.Id);
        while (_jobs.Count > _options.MaxJobs && _jobOrder.TryDequeue(out var oldest))
        {
            _jobs.TryRemove(oldest, out _);
        }
    }

    private DateTimeOffset EndOf(Job job) => job.KilledAt is { } killed ? killed.AddSeconds(1) : job.StartAt + _options.JobDuration;

    /// <summary>The request body as text and, when it is one, as a JSON object.</summary>
    private static async Task<(string Text, JsonObject? Body)> ReadBodyAsync(HttpContext context)
    {
        var text = await new StreamReader(context.Request.Body).ReadToEndAsync(context.RequestAborted);
        try
        {
            return (text, JsonNode.Parse(text) as JsonObject);
        }
        catch (JsonException)
        {
            return (text, null);
        }
    }

    private static IResult Bare(int status, string message) => Results.Json(message, statusCode: status);

    private static string Iso(DateTimeOffset time) => time.ToString("yyyy-MM-ddTHH:mm:ss.fffzzz", CultureInfo.InvariantCulture);

    private sealed record Job(string Platform, string Id, string Name, DateTimeOffset CreatedAt, string RequestBody, long Sequence)
    {
        public bool Fails { get; init; }

        public bool BrokenAtStart { get; init; }

        public string? Secret { get; init; }

        public string? RunId { get; init; }

        public JsonObject? Details { get; init; }

        public DateTimeOffset? KilledAt { get; set; }

        /// <summary>A TheEye approval job's end once approved (<c>finished/success</c>) or rejected (<c>finished/failure</c>).</summary>
        public string? Decision { get; set; }

        /// <summary>When a finished TheEye job was last restarted: it runs again from then.</summary>
        public DateTimeOffset? RestartedAt { get; set; }

        public bool Notified { get; set; }

        /// <summary>When the job may start running: its creation, or the end of the job holding its configuration lock.</summary>
        public DateTimeOffset StartAt { get; init; } = CreatedAt;
    }

    private static partial class SandboxLog
    {
        [LoggerMessage(EventId = 1802, Level = LogLevel.Information, Message = "Sandbox keboola notified {EventType} of job {JobId}: HTTP {Status}")]
        public static partial void Notified(ILogger logger, string jobId, string eventType, int status);

        [LoggerMessage(EventId = 1803, Level = LogLevel.Warning, Message = "Sandbox keboola could not deliver {EventType} of job {JobId}: {Failure}")]
        public static partial void NotificationFailed(ILogger logger, string jobId, string eventType, string failure);

        [LoggerMessage(EventId = 1804, Level = LogLevel.Information, Message = "Sandbox receiver got a {Kind} delivery ({EventType}): accepted {Accepted}")]
        public static partial void Received(ILogger logger, string kind, bool accepted, string? eventType);

        [LoggerMessage(EventId = 1800, Level = LogLevel.Information, Message = "Sandbox {Platform} created job {JobId} ({Name})")]
        public static partial void Created(ILogger logger, string platform, string jobId, string name);

        [LoggerMessage(EventId = 1801, Level = LogLevel.Information, Message = "Sandbox {Platform} plays a fault: status {Status}, dropped {Dropped}, latency {LatencyMs} ms")]
        public static partial void Fault(ILogger logger, string platform, int status, bool dropped, long latencyMs);
    }
}
