using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace JobRelay.Benchmarks.OutOfProcess;

/// <summary>
/// The two small servers the out-of-process suite starts as processes of their own: a stand-in Keboola queue that
/// accepts every job at once, and the bare relay, the least any relay on this stack must do.
/// </summary>
internal static class Servers
{
    /// <summary>The header JobRelay's Keboola adapter sends the Storage API token in; the bare relay sends it too.</summary>
    public const string TokenHeader = "X-StorageApi-Token";

    /// <summary>
    /// <c>stand-in --urls URL</c>: <c>POST /jobs</c> answers 201 with a new job, as Keboola's queue does;
    /// <c>GET /jobs/{id}</c> answers every job as still <c>processing</c> (the watch's status read), and
    /// <c>GET /counts</c> how many such reads it answered.
    /// </summary>
    public static async Task<int> RunStandInAsync(string[] args)
    {
        var app = Create(args);
        long next = 1_000_000;
        long reads = 0;
        app.MapGet("/health", () => Results.Ok());
        app.MapGet("/counts", () => Results.Json(new StandInCounts(Interlocked.Read(ref reads))));
        app.MapGet("/jobs/{id}", (string id) =>
        {
            Interlocked.Increment(ref reads);
            return Results.Json(new StandInJob(id, "processing", false));
        });
        app.MapPost("/jobs", async (HttpRequest request) =>
        {
            await request.Body.CopyToAsync(Stream.Null, request.HttpContext.RequestAborted);
            var id = Interlocked.Increment(ref next).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Results.Json(new StandInJob(id, "created", false), statusCode: StatusCodes.Status201Created);
        });
        await app.RunAsync();
        return 0;
    }

    /// <summary>
    /// <c>bare-relay --urls URL --target URL</c>: reads the body, POSTs it to the target's <c>/jobs</c> through a
    /// <see cref="SocketsHttpHandler"/> set up as JobRelay sets up its platform client, and answers 202 with the job id.
    /// No verification, no catalog, no logging: the floor any relay on ASP.NET Core and HttpClient stands on.
    /// </summary>
    public static async Task<int> RunBareRelayAsync(string[] args)
    {
        var target = new Uri(new Uri(Argument(args, "--target")), "jobs");
        var app = Create(args);
        using var client = new HttpClient(new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(3),
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            AutomaticDecompression = DecompressionMethods.All,
            AllowAutoRedirect = false,
        })
        { Timeout = TimeSpan.FromSeconds(25) };
        app.MapGet("/health", () => Results.Ok());
        app.MapPost("/relay", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body, request.HttpContext.RequestAborted);
            using var outbound = new HttpRequestMessage(HttpMethod.Post, target) { Content = new ByteArrayContent(body.ToArray()) };
            outbound.Headers.Add(TokenHeader, "bare-relay-token");
            outbound.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            using var response = await client.SendAsync(outbound, request.HttpContext.RequestAborted);
            var job = await response.Content.ReadFromJsonAsync<StandInJob>(request.HttpContext.RequestAborted);
            return Results.Json(new BareRelayAnswer(job?.Id), statusCode: StatusCodes.Status202Accepted);
        });
        await app.RunAsync();
        return 0;
    }

    internal static string Argument(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : throw new ArgumentException($"{name} is required.");
    }

    private static WebApplication Create(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(Argument(args, "--urls"));
        builder.Logging.ClearProviders();
        builder.Services.ConfigureHttpJsonOptions(options => options.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.CamelCase);
        return builder.Build();
    }
}

internal sealed record StandInJob(string Id, string Status, bool IsFinished);

internal sealed record StandInCounts(long Reads);

internal sealed record BareRelayAnswer(string? JobId);
