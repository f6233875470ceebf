using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace JobRelay.Tests.Support;

/// <summary>
/// Keboola's Job Queue and TheEye's supervisor played on Kestrel at 127.0.0.1, each recording every request:
/// Keboola starts jobs (<c>POST /jobs</c>), reads them (<c>GET /jobs/{id}</c>) and kills them
/// (<c>POST /jobs/{id}/kill</c>); TheEye starts a job (<c>POST /job</c>) and reads it (<c>GET /{customer}/job/{id}</c>).
/// </summary>
internal sealed class LoopbackPlatforms : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, bool> _killed = new();
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
        app.MapPost("/job", () => TheEyeJob("in_progress", "ready"));
        app.MapGet("/{customer}/job/{id}", (string id) => _killed.ContainsKey(id) ? TheEyeJob("canceled", "canceled") : TheEyeJob("success", "finished"));
        app.MapPut("/{customer}/job/{id}/cancel", (string id) =>
        {
            _killed[id] = true;
            return Results.NoContent();
        });
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
