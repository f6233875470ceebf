using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;


namespace JobRelay.Sandbox;

/// <summary>Keboola's Job Queue API (jobs, kill, project subscriptions) and its Notification API deliveries.</summary>
public sealed partial class SandboxPlatforms
{
    private static readonly string[] KeboolaModes = ["run", "debug", "forceRun"];

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
            Keep(job);
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

    private static IResult KeboolaError(int status, string error) => Results.Json(new JsonObject
    {
        ["error"] = error,
        ["code"] = status,
        ["status"] = "error",
        ["exceptionId"] = "sandbox-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)),
    }, statusCode: status);

    private sealed record Subscription(string Id, string Event, IReadOnlyList<KeyValuePair<string, string>> Filters, Uri Url);
}
