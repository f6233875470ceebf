using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using JobRelay.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace JobRelay.Tests.Watching;

/// <summary>
/// A Keboola queue and a TheEye supervisor on loopback whose jobs stay where the test puts them: each job is created
/// <c>processing</c> (<c>assigned/in_progress</c>) and moves only when the test sets its status, or plays the answer
/// the test scripts for its status reads (a status code, or a hang).
/// </summary>
internal sealed class ScriptedPlatforms : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, string> _status = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _answer = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _hang = new(StringComparer.Ordinal);
    private TaskCompletionSource<int>? _heldStart;
    private TaskCompletionSource<int>? _held;
    private TaskCompletionSource _startArrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<string, bool> _notCancellable = new(StringComparer.Ordinal);
    private int _keboolaJobs = 5000;
    private int _theEyeJobs;

    private ScriptedPlatforms(LoopbackServer keboola, LoopbackServer theEye)
    {
        Keboola = keboola;
        TheEye = theEye;
    }

    public LoopbackServer Keboola { get; private set; }

    public LoopbackServer TheEye { get; private set; }

    public static async Task<ScriptedPlatforms> StartAsync()
    {
        var platforms = new ScriptedPlatforms(null!, null!);
        platforms.Keboola = await LoopbackServer.StartAsync(app =>
        {
            app.MapPost("/jobs", () =>
            {
                var id = Interlocked.Increment(ref platforms._keboolaJobs).ToString(CultureInfo.InvariantCulture);
                platforms._status[id] = "processing";
                return Results.Json(KeboolaJob(id, "created"), statusCode: 201);
            });
            app.MapGet("/jobs/{id}", (string id, HttpContext context) => platforms.AnswerAsync(id, context, status => Results.Json(KeboolaJob(id, status))));
            app.MapPost("/jobs/{id}/kill", (string id) =>
            {
                platforms._status[id] = "terminating";
                return Results.Json(KeboolaJob(id, "terminating"), statusCode: 202);
            });
        });
        platforms.TheEye = await LoopbackServer.StartAsync(app =>
        {
            app.MapPost("/job", async (HttpContext context) =>
            {
                if (Interlocked.Exchange(ref platforms._heldStart, null) is { } held)
                {
                    platforms._startArrived.TrySetResult();
                    var code = await held.Task.WaitAsync(context.RequestAborted);
                    if (code >= 400)
                    {
                        return Results.Json(new JsonObject { ["message"] = "scripted refusal", ["statusCode"] = code }, statusCode: code);
                    }
                }

                var id = "64f0000000000000000000" + Interlocked.Increment(ref platforms._theEyeJobs).ToString("x2", CultureInfo.InvariantCulture);
                platforms._status[id] = "assigned/in_progress";
                return Results.Json(TheEyeJob(id, "ready/in_progress"));
            });
            app.MapGet("/acme/job/{id}", (string id, HttpContext context) => platforms.AnswerAsync(id, context, status => Results.Json(TheEyeJob(id, status))));
            app.MapPut("/acme/job/{id}/cancel", (string id) =>
            {
                if (platforms._notCancellable.ContainsKey(id))
                {
                    return Results.Json("Job is not cancellable", statusCode: StatusCodes.Status403Forbidden);
                }

                platforms._status[id] = "canceled/canceled";
                return Results.NoContent();
            });
        });
        return platforms;
    }

    /// <summary>The job's status from now on (<c>success</c>, <c>error</c>; <c>finished/success</c> on TheEye).</summary>
    public void Set(string jobId, string status) => _status[jobId] = status;

    /// <summary>TheEye refuses to cancel the job, as for a task set <c>cancellable: false</c> and a non-admin token.</summary>
    public void NotCancellable(string jobId) => _notCancellable[jobId] = true;

    /// <summary>Every status read of the job answers <paramref name="statusCode"/> until <see cref="Heal"/>.</summary>
    public void Fail(string jobId, int statusCode) => _answer[jobId] = statusCode;

    /// <summary>Every status read of the job hangs until <see cref="Heal"/>.</summary>
    public void Hang(string jobId) => _hang[jobId] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Heal(string jobId)
    {
        _answer.TryRemove(jobId, out _);
        if (_hang.TryRemove(jobId, out var hang))
        {
            hang.TrySetResult();
        }
    }

    /// <summary>
    /// The next TheEye start waits until <see cref="AnswerHeldStart"/> answers it: with a job, or with the status code
    /// given there. The task completes when that start has arrived.
    /// </summary>
    public Task HoldNextTheEyeStart()
    {
        _startArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _held = _heldStart = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        return _startArrived.Task;
    }

    /// <summary>Answers the held TheEye start: 200 creates the job, anything from 400 refuses it.</summary>
    public void AnswerHeldStart(int statusCode) => _held?.TrySetResult(statusCode);

    /// <summary>The status reads of a job received so far, on either platform.</summary>
    public int Reads(string jobId)
        => Keboola.Requests.Concat(TheEye.Requests).Count(r => r.Method == "GET" && (r.Path.EndsWith("/job/" + jobId, StringComparison.Ordinal) || r.Path == "/jobs/" + jobId));

    public async ValueTask DisposeAsync()
    {
        _held?.TrySetResult(503);
        foreach (var hang in _hang.Values)
        {
            hang.TrySetResult();
        }

        await Keboola.DisposeAsync();
        await TheEye.DisposeAsync();
    }

    private async Task<IResult> AnswerAsync(string id, HttpContext context, Func<string, IResult> job)
    {
        if (_hang.TryGetValue(id, out var hang))
        {
            await hang.Task.WaitAsync(context.RequestAborted);
        }

        if (_answer.TryGetValue(id, out var code))
        {
            if (code == 429)
            {
                context.Response.Headers.RetryAfter = "120";
            }

            return Results.Json(new JsonObject { ["error"] = "scripted failure", ["code"] = code }, statusCode: code);
        }

        return _status.TryGetValue(id, out var status) ? job(status) : Results.Json(new JsonObject { ["error"] = "Job not found" }, statusCode: 404);
    }

    private static JsonObject KeboolaJob(string id, string status) => new()
    {
        ["id"] = id,
        ["status"] = status,
        ["isFinished"] = status is "success" or "warning" or "error" or "terminated" or "cancelled",
        ["startTime"] = "2026-12-01T12:00:00+00:00",
        ["endTime"] = status is "success" or "warning" or "error" or "terminated" or "cancelled" ? "2026-12-01T12:01:30+00:00" : null,
    };

    private static JsonObject TheEyeJob(string id, string status) => new()
    {
        ["id"] = id,
        ["task_id"] = "eye-task",
        ["lifecycle"] = status[..status.IndexOf('/', StringComparison.Ordinal)],
        ["state"] = status[(status.IndexOf('/', StringComparison.Ordinal) + 1)..],
        ["secret"] = "theeye-job-secret-9d8e7f",
    };
}
