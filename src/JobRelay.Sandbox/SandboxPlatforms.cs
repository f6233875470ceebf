using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
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

/// <summary>The credentials the sandbox platforms accept.</summary>
public static class SandboxCredentials
{
    public const string KeboolaToken = "sandbox-keboola-token";
    public const string TheEyeAccessToken = "sandbox-theeye-token";
    public const string TheEyeTaskSecretKey = "sandbox-task-key";
    public const string TheEyeCustomer = "sandbox";
}

/// <summary>How the sandbox runs.</summary>
public sealed class SandboxOptions
{
    /// <summary>The loopback port; 0 picks a free one.</summary>
    public int Port { get; set; }

    /// <summary>How long a sandbox job runs before it ends.</summary>
    public TimeSpan JobDuration { get; set; } = TimeSpan.FromSeconds(6);

    public ILoggerFactory? LoggerFactory { get; set; }

    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// TheEye tasks by id with the number of arguments each takes: a shorter <c>task_arguments</c> array is refused
    /// as TheEye refuses it. Tasks not listed take any number.
    /// </summary>
    public Dictionary<string, int> TheEyeTaskArguments { get; } = new(StringComparer.Ordinal)
    {
        ["sandbox-hello"] = 1,
        ["sandbox-notify"] = 2,
    };
}

/// <summary>
/// A fault the sandbox plays on its next <see cref="Count"/> requests to a platform: a delay, an error status (with
/// <c>Retry-After</c> for 429 and 503), or a connection dropped without an answer.
/// </summary>
public sealed record SandboxFault(string Platform)
{
    public int Count { get; init; } = 1;

    public TimeSpan Latency { get; init; }

    public int? Status { get; init; }

    public int? RetryAfterSeconds { get; init; }

    /// <summary>Close the connection without answering (after reading the request).</summary>
    public bool Drop { get; init; }
}

/// <summary>A job the sandbox created.</summary>
public sealed record SandboxJob(string Platform, string Id, string Name, string State, DateTimeOffset CreatedAt, string RequestBody);

/// <summary>
/// Keboola's Job Queue API and TheEye's task API, played on 127.0.0.1 with the documented routes, status codes,
/// error bodies and quirks, and jobs that move through their states over <see cref="SandboxOptions.JobDuration"/>.
/// A component <c>sandbox.fail</c> or a task <c>sandbox-fail</c> ends in failure; a task <c>sandbox-missing</c>
/// does not exist; a task <c>sandbox-bad-args</c> is created already failed.
/// </summary>
public sealed partial class SandboxPlatforms : IAsyncDisposable
{
    private static readonly string[] KeboolaModes = ["run", "debug", "forceRun"];
    private readonly WebApplication _app;
    private readonly SandboxOptions _options;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, Job> _jobs = new(StringComparer.Ordinal);
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
        sandbox.MapKeboola(app);
        sandbox.MapTheEye(app);
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var root = new Uri(address.TrimEnd('/') + "/");
        sandbox.KeboolaUrl = new Uri(root, "keboola/");
        sandbox.TheEyeUrl = new Uri(root, "theeye/");
        sandbox._notifier = sandbox.NotifyAsync(sandbox._stopping.Token);
        return sandbox;
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

    // ---- Keboola -------------------------------------------------------------------------------------------------

    private void MapKeboola(WebApplication app)
    {
        var keboola = app.MapGroup("/keboola");
        keboola.MapGet("/", () => Results.Json(new JsonObject { ["api"] = "job-queue", ["sandbox"] = true }));
        keboola.MapPost("/jobs", async (HttpContext context) =>
        {
            if (KeboolaAuth(context) is { } refused)
            {
                return refused;
            }

            var (text, body) = await ReadBodyAsync(context);

            if (body is null)
            {
                return KeboolaError(400, "The request body is not a JSON object.");
            }

            if (KeboolaInvalid(body) is { } invalid)
            {
                return KeboolaError(400, invalid);
            }

            var id = Interlocked.Increment(ref _nextKeboolaId).ToString(CultureInfo.InvariantCulture);
            var parentRun = context.Request.Headers["X-KBC-RunId"].ToString();
            var now = _options.TimeProvider.GetUtcNow();
            var name = $"{(string?)body["component"]}/{(string?)body["config"]}";

            // A second job of the same configuration waits on the configuration lock until the first one ends.
            var lockedUntil = _jobs.Values.Where(j => j.Platform == "keboola" && j.Name == name && body["config"] is not null && j.KilledAt is null)
                .Select(EndOf).Where(end => end > now).DefaultIfEmpty(now).Max();
            var job = new Job("keboola", id, name, now, text, Interlocked.Increment(ref _sequence))
            {
                StartAt = lockedUntil,
                Fails = (string?)body["component"] == "sandbox.fail",
                Details = body,
                RunId = parentRun.Length > 0 ? $"{parentRun}.{id}" : id,
            };
            _jobs[id] = job;
            SandboxLog.Created(_logger, "keboola", id, job.Name);
            return Results.Json(KeboolaJob(context, job), statusCode: 201);
        });
        keboola.MapPost("/project-subscriptions", async (HttpContext context) =>
        {
            if (KeboolaAuth(context) is { } refused)
            {
                return refused;
            }

            JsonObject? body;
            try
            {
                body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) as JsonObject;
            }
            catch (JsonException)
            {
                body = null;
            }

            var url = (string?)body?["recipient"]?["url"];
            if (body is null || (string?)body["event"] is not { } eventType || (string?)body["recipient"]?["channel"] != "webhook" || !Uri.TryCreate(url, UriKind.Absolute, out var recipient))
            {
                return KeboolaError(400, "A subscription needs \"event\" and a webhook \"recipient\" with a \"url\".");
            }

            var filters = (body["filters"] as JsonArray ?? []).OfType<JsonObject>()
                .Select(f => KeyValuePair.Create((string?)f["field"] ?? string.Empty, (string?)f["value"] ?? string.Empty)).ToList();
            var id = Guid.NewGuid().ToString("n");
            _subscriptions[id] = new Subscription(id, eventType, filters, recipient);
            return Results.Json(new JsonObject { ["id"] = id, ["event"] = eventType, ["filters"] = body["filters"]?.DeepClone(), ["recipient"] = new JsonObject { ["channel"] = "webhook" } }, statusCode: 201);
        });
        keboola.MapGet("/jobs/{id}", (HttpContext context, string id) =>
            KeboolaAuth(context) ?? (_jobs.TryGetValue(id, out var job) && job.Platform == "keboola"
                ? Results.Json(KeboolaJob(context, job))
                : KeboolaError(404, $"Job \"{id}\" not found")));
        keboola.MapPost("/jobs/{id}/kill", (HttpContext context, string id) =>
        {
            if (KeboolaAuth(context) is { } refused)
            {
                return refused;
            }

            if (!_jobs.TryGetValue(id, out var job) || job.Platform != "keboola")
            {
                return KeboolaError(404, $"Job \"{id}\" not found");
            }

            job.KilledAt ??= _options.TimeProvider.GetUtcNow();
            return Results.Json(new JsonObject { ["id"] = id, ["status"] = "terminating" }, statusCode: 202);
        });
    }

    private static IResult? KeboolaAuth(HttpContext context)
        => context.Request.Headers["X-StorageApi-Token"].ToString() == SandboxCredentials.KeboolaToken ? null : KeboolaError(401, "Invalid access token");

    private static string? KeboolaInvalid(JsonObject body)
    {
        if (body["component"] is not JsonValue component || component.GetValueKind() != JsonValueKind.String)
        {
            return "Invalid configuration for path \"jobData.component\": The value must be a non-empty string.";
        }

        if (body["mode"] is { } mode && !KeboolaModes.Contains((string?)mode, StringComparer.Ordinal))
        {
            return $"Invalid configuration for path \"jobData.mode\": Mode \"{mode.ToJsonString()}\" is not valid.";
        }

        if (body.ContainsKey("variableValuesId") && body.ContainsKey("variableValuesData"))
        {
            return "Provide either \"variableValuesId\" or \"variableValuesData\", but not both.";
        }

        if (body.ContainsKey("delayedStartTime") && body.ContainsKey("delay"))
        {
            return "Provide either \"delayedStartTime\" or \"delay\", but not both.";
        }

        if (body["backend"] is { } backend && backend is not JsonObject)
        {
            return "Invalid configuration for path \"jobData.backend\": This value should be of type array.";
        }

        if (body["parallelism"] is JsonValue parallelism
            && !(parallelism.GetValueKind() == JsonValueKind.Number && parallelism.TryGetValue<int>(out var n) && n is >= 2 and <= 100)
            && !(parallelism.GetValueKind() == JsonValueKind.String && (string?)parallelism == "infinity"))
        {
            return "Invalid configuration for path \"jobData.parallelism\": The value must be 2 to 100 or \"infinity\".";
        }

        return null;
    }

    private JsonObject KeboolaJob(HttpContext context, Job job)
    {
        var state = StateOf(job);
        var finished = state is "success" or "error" or "terminated";
        var details = job.Details!;
        return new JsonObject
        {
            ["id"] = job.Id,
            ["runId"] = job.RunId,
            ["status"] = state,
            ["isFinished"] = finished,
            ["url"] = $"{context.Request.Scheme}://{context.Request.Host}/keboola/jobs/{job.Id}",
            ["component"] = details["component"]?.DeepClone(),
            ["config"] = details["config"]?.DeepClone(),
            ["mode"] = details["mode"]?.DeepClone() ?? "run",
            ["tag"] = details["tag"]?.DeepClone(),
            ["branchId"] = details["branchId"]?.DeepClone(),
            ["configData"] = details["configData"]?.DeepClone() ?? new JsonArray(),
            ["createdTime"] = Iso(job.CreatedAt),
            ["startTime"] = state is "created" or "waiting" ? null : Iso(job.StartAt + (_options.JobDuration / 3)),
            ["endTime"] = finished ? Iso(EndOf(job)) : null,
            ["result"] = finished
                ? new JsonObject { ["message"] = state switch { "success" => "Component processing finished.", "terminated" => "Job was terminated.", _ => "The sandbox was asked to fail." } }
                : new JsonArray(),
            ["parentRunId"] = string.Empty,
        };
    }

    /// <summary>Delivers a Keboola notification to every matching subscription when a job ends, as the Notification API does.</summary>
    private async Task NotifyAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(200));
        while (await timer.WaitForNextTickAsync(cancellationToken))
        {
            foreach (var job in _jobs.Values.Where(j => j.Platform == "keboola" && !j.Notified).ToList())
            {
                var eventType = StateOf(job) switch
                {
                    "success" => "job-succeeded",
                    "error" => "job-failed",
                    "terminated" => "job-terminated",
                    _ => null,
                };
                if (eventType is null)
                {
                    continue;
                }

                job.Notified = true;
                var component = (string?)job.Details?["component"];
                var config = (string?)job.Details?["config"];
                foreach (var subscription in _subscriptions.Values.Where(s => s.Event == eventType && s.Filters.All(f =>
                    f.Key switch
                    {
                        "job.component.id" => f.Value == component,
                        "job.configuration.id" => f.Value == config,
                        _ => true,
                    })))
                {
                    var payload = new JsonObject
                    {
                        ["job"] = new JsonObject
                        {
                            ["id"] = job.Id,
                            ["url"] = new Uri(KeboolaUrl, $"jobs/{job.Id}").ToString(),
                            ["startTime"] = Iso(job.StartAt),
                            ["endTime"] = Iso(EndOf(job)),
                            ["component"] = new JsonObject { ["id"] = component },
                            ["configuration"] = new JsonObject { ["id"] = config },
                            ["tasks"] = new JsonArray(),
                        },
                        ["branch"] = new JsonObject { ["id"] = "default" },
                        ["project"] = new JsonObject { ["id"] = "sandbox", ["name"] = "Sandbox" },
                        ["eventType"] = eventType,
                    };
                    try
                    {
                        using var content = new StringContent(payload.ToJsonString(), System.Text.Encoding.UTF8, "application/json");
                        using var response = await _notifications.PostAsync(subscription.Url, content, cancellationToken);
                        SandboxLog.Notified(_logger, job.Id, eventType, (int)response.StatusCode);
                    }
                    catch (HttpRequestException ex)
                    {
                        SandboxLog.NotificationFailed(_logger, job.Id, eventType, ex.GetType().Name);
                    }
                }
            }
        }
    }

    // ---- TheEye --------------------------------------------------------------------------------------------------

    private void MapTheEye(WebApplication app)
    {
        var theEye = app.MapGroup("/theeye");
        theEye.MapPost("/job", async (HttpContext context) =>
        {
            var header = context.Request.Headers.Authorization.ToString();
            var query = context.Request.Query["access_token"].ToString();
            if ((header.Length > 0 && query.Length > 0)
                || (header != $"Bearer {SandboxCredentials.TheEyeAccessToken}" && query != SandboxCredentials.TheEyeAccessToken))
            {
                return Bare(401, "Unauthorized");
            }

            return await CreateTheEyeJobAsync(context, pathTask: null);
        });
        theEye.MapPost("/job/secret/{key}", async (HttpContext context, string key) =>
            key != SandboxCredentials.TheEyeTaskSecretKey ? Bare(403, "invalid secret")
            : context.Request.Query["customer"].ToString().Length == 0 ? Bare(403, "organization is required")
            : await CreateTheEyeJobAsync(context, pathTask: null));
        theEye.MapPost("/task/{task}/secret/{key}/job", async (HttpContext context, string task, string key) =>
            key != SandboxCredentials.TheEyeTaskSecretKey ? Bare(403, "invalid secret") : await CreateTheEyeJobAsync(context, task));
        theEye.MapGet("/{customer}/job/{id}", (HttpContext context, string customer, string id) =>
            context.Request.Headers.Authorization.ToString() != $"Bearer {SandboxCredentials.TheEyeAccessToken}" ? Bare(401, "Unauthorized")
            : _jobs.TryGetValue(id, out var job) && job.Platform == "theeye" ? Results.Json(TheEyeJob(job))
            : Bare(404, "job not found"));
        theEye.MapGet("/job/{id}/secret/{secret}/result", async (HttpContext context, string id, string secret) =>
        {
            if (!_jobs.TryGetValue(id, out var job) || job.Platform != "theeye")
            {
                return Bare(404, "job not found");
            }

            if (!CryptographicOperations.FixedTimeEquals(System.Text.Encoding.UTF8.GetBytes(secret), System.Text.Encoding.UTF8.GetBytes(job.Secret!)))
            {
                return Bare(403, "invalid secret");
            }

            var wait = int.TryParse(context.Request.Query["timeout"], CultureInfo.InvariantCulture, out var seconds) ? Math.Clamp(seconds, 0, 2) : 0;
            var until = _options.TimeProvider.GetUtcNow().AddSeconds(wait);
            while (!IsTheEyeFinished(job) && _options.TimeProvider.GetUtcNow() < until)
            {
                await Task.Delay(100, context.RequestAborted);
            }

            return IsTheEyeFinished(job)
                ? Results.Json(TheEyeJob(job), statusCode: StateOf(job) == "finished/success" ? 200 : 500)
                : Results.Json(TheEyeJob(job), statusCode: 408);
        });
    }

    private async Task<IResult> CreateTheEyeJobAsync(HttpContext context, string? pathTask)
    {
        var (text, body) = await ReadBodyAsync(context);

        var task = (string?)body?["task"] ?? pathTask;
        if (body is null || task is null || (pathTask is not null && task != pathTask))
        {
            return Results.Json(new JsonObject { ["statusCode"] = 400, ["message"] = "task is required" }, statusCode: 400);
        }

        var expected = _options.TheEyeTaskArguments.GetValueOrDefault(task, 0);
        if (body["task_arguments"] is not JsonArray arguments || arguments.Count < expected)
        {
            return Results.Json(new JsonObject { ["statusCode"] = 400, ["message"] = $"Invalid Task Arguments. An array of length {Math.Max(expected, 1)} is required" }, statusCode: 400);
        }

        if (task == "sandbox-missing")
        {
            return Bare(404, "task not found");
        }

        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
        var job = new Job("theeye", id, task, _options.TimeProvider.GetUtcNow(), text, Interlocked.Increment(ref _sequence))
        {
            Fails = task == "sandbox-fail",
            BrokenAtStart = task == "sandbox-bad-args",
            Secret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
        };
        _jobs[id] = job;
        SandboxLog.Created(_logger, "theeye", id, task);
        return Results.Json(TheEyeJob(job));
    }

    private JsonObject TheEyeJob(Job job)
    {
        var parts = StateOf(job).Split('/');
        return new JsonObject
        {
            ["id"] = job.Id,
            ["name"] = $"Sandbox task {job.Name}",
            ["task_id"] = job.Name,
            ["lifecycle"] = parts[0],
            ["state"] = parts[1],
            ["secret"] = job.Secret,
            ["creation_date"] = Iso(job.CreatedAt),
            ["customer_name"] = SandboxCredentials.TheEyeCustomer,
            ["output"] = parts[0] == "finished" ? new JsonArray(job.Fails ? "the sandbox was asked to fail" : "done") : new JsonArray(),
        };
    }

    private bool IsTheEyeFinished(Job job) => StateOf(job).StartsWith("finished", StringComparison.Ordinal) || StateOf(job).StartsWith("terminated", StringComparison.Ordinal);

    // ---- Shared --------------------------------------------------------------------------------------------------

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

        return elapsed >= _options.JobDuration ? (job.Fails ? "finished/failure" : "finished/success")
            : elapsed >= _options.JobDuration / 3 ? "assigned/in_progress"
            : "ready/in_progress";
    }

    private DateTimeOffset EndOf(Job job) => job.KilledAt is { } killed ? killed.AddSeconds(1) : job.StartAt + _options.JobDuration;

    private static IResult KeboolaError(int status, string error) => Results.Json(new JsonObject
    {
        ["error"] = error,
        ["code"] = status,
        ["status"] = "error",
        ["exceptionId"] = "sandbox-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)),
    }, statusCode: status);

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

        public bool Notified { get; set; }

        /// <summary>When the job may start running: its creation, or the end of the job holding its configuration lock.</summary>
        public DateTimeOffset StartAt { get; init; } = CreatedAt;
    }

    private sealed record Subscription(string Id, string Event, IReadOnlyList<KeyValuePair<string, string>> Filters, Uri Url);

    private static partial class SandboxLog
    {
        [LoggerMessage(EventId = 1802, Level = LogLevel.Information, Message = "Sandbox keboola notified {EventType} of job {JobId}: HTTP {Status}")]
        public static partial void Notified(ILogger logger, string jobId, string eventType, int status);

        [LoggerMessage(EventId = 1803, Level = LogLevel.Warning, Message = "Sandbox keboola could not deliver {EventType} of job {JobId}: {Failure}")]
        public static partial void NotificationFailed(ILogger logger, string jobId, string eventType, string failure);

        [LoggerMessage(EventId = 1800, Level = LogLevel.Information, Message = "Sandbox {Platform} created job {JobId} ({Name})")]
        public static partial void Created(ILogger logger, string platform, string jobId, string name);

        [LoggerMessage(EventId = 1801, Level = LogLevel.Information, Message = "Sandbox {Platform} plays a fault: status {Status}, dropped {Dropped}, latency {LatencyMs} ms")]
        public static partial void Fault(ILogger logger, string platform, int status, bool dropped, long latencyMs);
    }
}
