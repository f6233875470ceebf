using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace JobRelay.Tests.Support;

/// <summary>
/// Keboola's Job Queue and TheEye's supervisor played on Kestrel at 127.0.0.1, each recording every request:
/// Keboola starts jobs (<c>POST /jobs</c>), reads them (<c>GET /jobs/{id}</c>) and kills them
/// (<c>POST /jobs/{id}/kill</c>); TheEye starts a job (<c>POST /job</c>, or <c>POST /job/secret/{key}</c>), reads it
/// (<c>GET /{customer}/job/{id}</c>), and takes its lifecycle actions (<c>PUT /{customer}/job/{id}/cancel</c>,
/// <c>/approve</c>, <c>/reject</c>, <c>/restart</c>) with the checks the supervisor makes.
/// </summary>
internal sealed class LoopbackPlatforms : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, bool> _killed = new();
    private readonly ConcurrentDictionary<string, (string State, string Lifecycle)> _theEyeEnds = new();
    private readonly LoopbackPlatformOptions _options;
    private int _lastJobId;

    private LoopbackPlatforms(LoopbackPlatformOptions options)
    {
        _options = options;
        _lastJobId = options.FirstJobId - 1;
    }

    public LoopbackServer Keboola { get; private set; } = null!;

    public LoopbackServer TheEye { get; private set; } = null!;

    /// <summary>The servers by the platform names <see cref="CatalogBuilder"/> gives them, for the relay's URL overrides.</summary>
    public IReadOnlyDictionary<string, Uri> Urls => new Dictionary<string, Uri> { ["kbc"] = Keboola.BaseAddress, ["eye"] = TheEye.BaseAddress };

    public static async Task<LoopbackPlatforms> StartAsync(LoopbackPlatformOptions? options = null)
    {
        var platforms = new LoopbackPlatforms(options ?? new LoopbackPlatformOptions());
        platforms.Keboola = await LoopbackServer.StartAsync(platforms.MapKeboola, port: platforms._options.KeboolaPort);
        platforms.TheEye = await LoopbackServer.StartAsync(platforms.MapTheEye);
        return platforms;
    }

    public async ValueTask DisposeAsync()
    {
        await Keboola.DisposeAsync();
        await TheEye.DisposeAsync();
    }

    private void MapKeboola(WebApplication app)
    {
        app.MapPost("/jobs", async (HttpContext context) =>
        {
            if (_options.KeboolaStartDelay > TimeSpan.Zero)
            {
                await Task.Delay(_options.KeboolaStartDelay, context.RequestAborted);
            }

            return KeboolaJob(Interlocked.Increment(ref _lastJobId).ToString(CultureInfo.InvariantCulture), "created", StatusCodes.Status201Created);
        });
        app.MapGet("/jobs/{id}", (string id) => KeboolaJob(id, _killed.ContainsKey(id) ? "terminating" : _options.KeboolaJobStatus, StatusCodes.Status200OK));
        app.MapPost("/jobs/{id}/kill", (string id) =>
        {
            _killed[id] = true;
            return Results.Json(new JsonObject { ["id"] = id, ["status"] = "terminating" }, statusCode: StatusCodes.Status202Accepted);
        });
    }

    private void MapTheEye(WebApplication app)
    {
        app.MapPost("/job", () => TheEyeJob("in_progress", _options.TheEyeApproval ? "onhold" : "ready"));
        app.MapPost("/job/secret/{key}", () => TheEyeJob("in_progress", _options.TheEyeApproval ? "onhold" : "ready"));
        app.MapGet("/{customer}/job/{id}", (string id) => _theEyeEnds.TryGetValue(id, out var end)
            ? TheEyeJob(end.State, end.Lifecycle)
            : _options.TheEyeApproval ? TheEyeJob("in_progress", "onhold") : TheEyeJob("success", "finished"));
        app.MapPut("/{customer}/job/{id}/cancel", (string id) =>
        {
            if (!_options.TheEyeCancellable)
            {
                return Results.Json("Job is not cancellable", statusCode: StatusCodes.Status403Forbidden);
            }

            _killed[id] = true;
            _theEyeEnds[id] = ("canceled", "canceled");
            return Results.NoContent();
        });
        app.MapPut("/{customer}/job/{id}/approve", (string id) => Decide(id, ("success", "finished")));
        app.MapPut("/{customer}/job/{id}/reject", (string id) => Decide(id, ("failure", "finished")));
        app.MapPut("/{customer}/job/{id}/restart", (string id) =>
        {
            _theEyeEnds[id] = ("in_progress", "ready");
            return TheEyeJob("in_progress", "ready");
        });
    }

    /// <summary>TheEye's approval checks: only an approval job on hold is approved or rejected, once.</summary>
    private IResult Decide(string id, (string State, string Lifecycle) end)
    {
        if (!_options.TheEyeApproval)
        {
            return Results.Json("unexpected job type. only Approvals", statusCode: StatusCodes.Status400BadRequest);
        }

        return _theEyeEnds.TryAdd(id, end)
            ? Results.NoContent()
            : Results.Json("approval request no longer available", statusCode: StatusCodes.Status409Conflict);
    }

    private static IResult KeboolaJob(string id, string status, int statusCode) => Results.Json(new JsonObject
    {
        ["id"] = id,
        ["runId"] = id,
        ["status"] = status,
        ["isFinished"] = status is "success" or "error" or "warning" or "cancelled" or "terminated",
        ["url"] = $"https://queue.example.com/jobs/{id}",
        ["result"] = new JsonArray(),
    }, statusCode: statusCode);

    private IResult TheEyeJob(string state, string lifecycle) => Results.Json(new JsonObject
    {
        ["id"] = _options.TheEyeJobId,
        ["task_id"] = _options.TheEyeTask,
        ["state"] = state,
        ["lifecycle"] = lifecycle,
        ["secret"] = _options.TheEyeJobSecret,
    });
}
