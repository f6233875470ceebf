using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using JobRelay.Runs;
using JobRelay.Tests.Http;
using JobRelay.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace JobRelay.Tests.State;

/// <summary>
/// The platform is down while webhooks arrive: every delivery is accepted as pending, none is lost, and when the
/// platform is back the sweep starts each one exactly once, with no sender sending anything again.
/// </summary>
public sealed class OutageTests : IAsyncDisposable
{
    private static readonly string Catalog = new CatalogBuilder().Keboola().DeliveryHook("hook").Build();

    private readonly List<IAsyncDisposable> _owned = [];

    [Fact]
    public async Task AHundredWebhooksDuringAnOutageAreAllPendingAndStartOnceEachWhenThePlatformIsBack()
    {
        var port = LoopbackServer.FreePort();
        var host = await Own(RelayHost.StartAsync(Catalog, new Dictionary<string, Uri> { ["kbc"] = new($"http://127.0.0.1:{port}/") }, new Dictionary<string, string?>
        {
            ["JobRelay:Store:RetryBaseDelay"] = "00:00:00.050",
            ["JobRelay:Store:RetryMaxDelay"] = "00:00:00.200",
        }));
        var answers = new ConcurrentBag<(HttpStatusCode Status, JsonObject Body)>();

        await Parallel.ForEachAsync(Enumerable.Range(0, 100), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) =>
        {
            using var response = await host.PostHookAsync("hook", "{}", ("X-JobRelay-Token", RelayHost.HookToken), ("X-Delivery", $"out-{i:D3}"));
            answers.Add((response.StatusCode, await RelayHost.JsonAsync(response)));
        });
        var sweep = host.Services.GetRequiredService<RunSweep>();
        var whileDown = await sweep.SweepAsync(CancellationToken.None);

        var platforms = await Own(LoopbackPlatforms.StartAsync(new LoopbackPlatformOptions { KeboolaPort = port }));
        var keboola = platforms.Keboola;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (keboola.Requests.Count < 100 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            await sweep.SweepAsync(CancellationToken.None);
        }

        await Task.Delay(300);
        var after = await sweep.SweepAsync(CancellationToken.None);
        using var redelivered = await host.PostHookAsync("hook", "{}", ("X-JobRelay-Token", RelayHost.HookToken), ("X-Delivery", "out-042"));

        Assert.Equal(100, answers.Count);
        Assert.All(answers, a =>
        {
            Assert.Equal(HttpStatusCode.Accepted, a.Status);
            Assert.Equal("pending", (string?)a.Body["status"]);
            Assert.False(string.IsNullOrEmpty((string?)a.Body["runId"]));
        });
        Assert.Equal(100, answers.Select(a => (string?)a.Body["runId"]).Distinct().Count());
        Assert.Equal(0, whileDown.Started);
        Assert.Equal(100, keboola.Requests.Count);
        Assert.All(Enumerable.Range(0, 100), i => Assert.Single(keboola.Requests, r => r.Body.Contains($"\"out-{i:D3}\"", StringComparison.Ordinal)));
        Assert.All(keboola.Requests, r => Assert.Equal("/jobs", r.Path));
        Assert.Equal(new SweepReport(0, 0, 0, 0, 0), after with { Purged = 0 });
        Assert.Equal(HttpStatusCode.OK, redelivered.StatusCode);
        Assert.Equal("started", StateOf(await RelayHost.JsonAsync(redelivered)));
    }

    [Fact]
    public async Task APendingStartWaitsAsLongAsThePlatformsRetryAfterAsks()
    {
        var keboola = await Own(LoopbackServer.StartAsync(app => app.MapPost("/jobs", (HttpContext context) =>
        {
            context.Response.Headers.RetryAfter = "30";
            return Results.StatusCode(503);
        })));
        var host = await Own(RelayHost.StartAsync(Catalog, new Dictionary<string, Uri> { ["kbc"] = keboola.BaseAddress }, new Dictionary<string, string?>
        {
            ["JobRelay:Store:RetryBaseDelay"] = "00:00:00.050",
        }));
        var before = DateTimeOffset.UtcNow;

        using var response = await host.PostHookAsync("hook", "{}", ("X-JobRelay-Token", RelayHost.HookToken), ("X-Delivery", "busy-1"));
        var body = await RelayHost.JsonAsync(response);
        var report = await host.Services.GetRequiredService<RunSweep>().SweepAsync(CancellationToken.None);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("pending", (string?)body["status"]);
        var next = DateTimeOffset.Parse((string)body["nextAttemptAt"]!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(next, before + TimeSpan.FromSeconds(29), DateTimeOffset.UtcNow + TimeSpan.FromSeconds(31));
        Assert.Single(keboola.Requests);
        Assert.Equal(new SweepReport(0, 0, 0, 0, 0), report with { Purged = 0 });
    }

    [Fact]
    public async Task APendingStartPastItsDeadlineIsRefusedLoggedAsAnErrorAndAnsweredSoToRedeliveries()
    {
        var host = await Own(RelayHost.StartAsync(Catalog, new Dictionary<string, Uri> { ["kbc"] = new($"http://127.0.0.1:{LoopbackServer.FreePort()}/") }, new Dictionary<string, string?>
        {
            ["JobRelay:Store:RetryBaseDelay"] = "00:00:00.050",
            ["JobRelay:Store:RetryMaxDelay"] = "00:00:00.100",
            ["JobRelay:Store:PendingDeadline"] = "00:00:01",
        }));

        using var first = await host.PostHookAsync("hook", "{}", ("X-JobRelay-Token", RelayHost.HookToken), ("X-Delivery", "late-1"));
        var sweep = host.Services.GetRequiredService<RunSweep>();
        var refused = 0;
        var until = DateTime.UtcNow.AddSeconds(10);
        while (refused == 0 && DateTime.UtcNow < until)
        {
            await Task.Delay(150);
            refused += (await sweep.SweepAsync(CancellationToken.None)).Refused;
        }

        using var redelivered = await host.PostHookAsync("hook", "{}", ("X-JobRelay-Token", RelayHost.HookToken), ("X-Delivery", "late-1"));
        var answer = await RelayHost.JsonAsync(redelivered);

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(1, refused);
        Assert.Equal(HttpStatusCode.OK, redelivered.StatusCode);
        Assert.Equal("refused", (string?)answer["status"]);
        Assert.Equal(true, (bool?)answer["duplicate"]);
        Assert.Contains(host.Logs.GetSnapshot(), l => l is { Level: Microsoft.Extensions.Logging.LogLevel.Error, Id.Id: 1003 or 1051 } && l.Message.Contains((string)answer["runId"]!, StringComparison.Ordinal));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var owned in Enumerable.Reverse(_owned))
        {
            await owned.DisposeAsync();
        }
    }

    private static string? StateOf(JsonObject run) => run["jobId"] is not null ? "started" : (string?)run["status"];

    private async Task<T> Own<T>(Task<T> starting)
        where T : IAsyncDisposable
    {
        var owned = await starting;
        _owned.Add(owned);
        return owned;
    }
}
