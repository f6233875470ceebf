using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;


namespace JobRelay.Sandbox;

/// <summary>
/// TheEye's task API: jobs by access token, by secret key and by task secret key, job reads, and the lifecycle
/// actions (cancel; approve and reject of task <c>sandbox-approval</c>'s jobs; restart of a finished job). A job of
/// task <c>sandbox-not-cancellable</c> refuses a cancel as TheEye does to a non-admin token.
/// </summary>
public sealed partial class SandboxPlatforms
{
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
        theEye.MapPut("/{customer}/job/{id}/cancel", (HttpContext context, string id) => TheEyeLifecycle(context, id, job =>
        {
            if (job.Name == "sandbox-not-cancellable")
            {
                return Bare(403, "Job is not cancellable");
            }

            job.KilledAt ??= _options.TimeProvider.GetUtcNow();
            return Results.NoContent();
        }));
        theEye.MapPut("/{customer}/job/{id}/approve", (HttpContext context, string id) => TheEyeLifecycle(context, id, job => Decide(job, "finished/success")));
        theEye.MapPut("/{customer}/job/{id}/reject", (HttpContext context, string id) => TheEyeLifecycle(context, id, job => Decide(job, "finished/failure")));
        theEye.MapPut("/{customer}/job/{id}/restart", (HttpContext context, string id) => TheEyeLifecycle(context, id, job =>
        {
            if (!IsTheEyeFinished(job) || job.Name == "sandbox-approval")
            {
                return Bare(400, "Only completed jobs allowed");
            }

            job.KilledAt = null;
            job.RestartedAt = _options.TimeProvider.GetUtcNow();
            return Results.Json(TheEyeJob(job));
        }));
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
        Keep(job);
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

    /// <summary>A lifecycle action (supervisor <c>core/controllers/job/lifecycle.js</c>): the access token, then the job.</summary>
    private IResult TheEyeLifecycle(HttpContext context, string id, Func<Job, IResult> act)
        => context.Request.Headers.Authorization.ToString() != $"Bearer {SandboxCredentials.TheEyeAccessToken}" ? Bare(401, "Unauthorized")
            : _jobs.TryGetValue(id, out var job) && job.Platform == "theeye" ? act(job)
            : Bare(404, "job not found");

    /// <summary>Task <c>sandbox-approval</c> runs approval jobs: on hold until approved or rejected, once.</summary>
    private static IResult Decide(Job job, string end)
    {
        if (job.Name != "sandbox-approval")
        {
            return Bare(400, "unexpected job type. only Approvals");
        }

        lock (job)
        {
            if (job.Decision is not null || job.KilledAt is not null)
            {
                return Bare(409, "approval request no longer available");
            }

            job.Decision = end;
        }

        return Results.NoContent();
    }

    private bool IsTheEyeFinished(Job job) => StateOf(job).Split('/')[0] is "finished" or "terminated" or "canceled";
}
