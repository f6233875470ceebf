using JobRelay.Outbound;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using JobRelay.State;
using JobRelay.State.Sqlite;
using JobRelay.Tests.Support;
using JobRelay.Triggers;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace JobRelay.Tests.Cli;

/// <summary><c>jobrelay events</c> as a process over a store on disk: the failed and dead-lettered deliveries, nothing else.</summary>
public sealed class EventsCommandTests : IDisposable
{
    private const string Catalog = """
        {
          "platforms": { "kbc": { "type": "keboola", "url": "https://queue.example/", "tokenSecret": "kbc-token" } },
          "triggers": { "nightly-load": { "platform": "kbc", "keboola": { "component": "keboola.ex-db", "config": "42" } } },
          "destinations": { "ops": { "type": "slack", "urlSecret": "ops-slack-url" } },
          "subscriptions": [ { "to": "ops", "events": ["run.accepted"] } ]
        }
        """;

    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("jobrelay-events-");

    public void Dispose() => _folder.Delete(recursive: true);

    [Fact]
    public async Task Events_lists_the_dead_lettered_and_the_failing_deliveries_but_not_the_delivered_or_untried_ones()
    {
        await File.WriteAllTextAsync(Path.Combine(_folder.FullName, "triggers.json"), Catalog);
        var data = Path.Combine(_folder.FullName, "data");
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
        var catalog = TriggerCatalogLoader.Parse(Catalog).Catalog!;
        using (var store = new SqliteRelayStore(Path.Combine(data, StoreOptions.SqliteFileName), clock, NullLogger<SqliteRelayStore>.Instance, outbox: new CatalogOutboxPlanner(() => catalog)))
        {
            foreach (var run in new[] { "run-dead", "run-retry", "run-done", "run-new" })
            {
                await store.ClaimAsync(new NewRun(new DeliveryKey("nightly-load", run), run, "nightly-load", "webhook", "{}"), TimeSpan.FromSeconds(30), CancellationToken.None);
            }

            async Task SettleAsync(string runId, DeliveryTransition transition, int? status, string? error)
            {
                var due = (await store.ListDeliveriesAsync(runId, CancellationToken.None)).Single();
                var lease = await store.TakeDeliveryAsync(due, TimeSpan.FromSeconds(30), CancellationToken.None);
                var update = new DeliveryUpdate(transition, new DeliveryAttempt(clock.GetUtcNow(), status, error)) { NextAt = clock.GetUtcNow().AddMinutes(5) };
                Assert.True(await store.UpdateDeliveryAsync(lease!, update, CancellationToken.None));
            }

            await SettleAsync("run-dead", DeliveryTransition.DeliveryDeadLetter, 500, "HTTP 500");
            await SettleAsync("run-retry", DeliveryTransition.DeliveryRetry, null, "no answer: ConnectionError");
            await SettleAsync("run-done", DeliveryTransition.DeliveryDone, 200, null);
        }

        using var cli = CliProcess.Start(_folder.FullName, new Dictionary<string, string> { ["JobRelay__Secrets__Values__kbc-token"] = "unused", ["JobRelay__Secrets__Values__ops-slack-url"] = "https://hooks.slack.example/unused" }, "events", "--data", data);
        var exit = await cli.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.True(exit == 0, cli.Stderr);
        var lines = cli.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(2, lines.Length);
        Assert.Contains(lines, l => l.StartsWith("dead-lettered evt_run-dead_run.accepted  → ops#0  1 attempt(s), last: 2026-12-01 12:00:00Z 500 HTTP 500", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("pending       evt_run-retry_run.accepted  → ops#0  1 attempt(s), last: 2026-12-01 12:00:00Z no answer no answer: ConnectionError  next 2026-12-01 12:05:00Z", StringComparison.Ordinal));
        Assert.DoesNotContain("hooks.slack.example", cli.Stdout + cli.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Events_with_url_reads_the_apps_failed_deliveries_with_the_key_and_says_the_apps_refusal()
    {
        const string Answer = """{"deliveries":[{"runId":"r-1","eventId":"evt_r-1_job.failed","type":"job.failed","subscription":"ops#0","destination":"ops","state":"dead-lettered","createdAt":"2026-12-01T12:00:00Z","nextAttemptAt":null,"attemptCount":3,"attempts":[{"at":"2026-12-01T13:00:00Z","status":503,"error":"HTTP 503"}]}]}""";
        await using var app = await LoopbackServer.StartAsync(web => web.MapGet("/api/deliveries/failed", (HttpRequest request) =>
            request.Headers["x-functions-key"] == "ops-key"
                ? Results.Text(Answer, "application/json")
                : Results.Text("""{"type":"urn:jobrelay:problem:unauthorized","status":401,"title":"Unauthorized"}""", "application/problem+json", statusCode: 401)));
        var url = app.BaseAddress.ToString();

        using var listed = CliProcess.Start(_folder.FullName, new Dictionary<string, string>(), "events", "--url", url, "--api-key", "ops-key", "--limit", "20");
        var listedExit = await listed.WaitForExitAsync(TimeSpan.FromSeconds(60));
        using var refused = CliProcess.Start(_folder.FullName, new Dictionary<string, string> { ["JOBRELAY_API_KEY"] = "wrong-key" }, "events", "--url", url);
        var refusedExit = await refused.WaitForExitAsync(TimeSpan.FromSeconds(60));
        using var keyless = CliProcess.Start(_folder.FullName, new Dictionary<string, string>(), "events", "--url", url);
        var keylessExit = await keyless.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.True(listedExit == 0, listed.Stderr);
        Assert.Equal(
            ["dead-lettered evt_r-1_job.failed  → ops#0  3 attempt(s), last: 2026-12-01 13:00:00Z 503 HTTP 503"],
            listed.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.Equal(1, refusedExit);
        Assert.Equal("error: The app refused the API key (HTTP 401).", refused.Stderr.Trim());
        Assert.NotEqual(0, keylessExit);
        Assert.Contains("--url needs the app's API key: pass --api-key or set JOBRELAY_API_KEY.", keyless.Stderr, StringComparison.Ordinal);
        Assert.Equal(
            [("GET", "/api/deliveries/failed", "?limit=20", "ops-key"), ("GET", "/api/deliveries/failed", "?limit=50", "wrong-key")],
            app.Requests.Select(r => (r.Method, r.Path, r.QueryString, r.Header("x-functions-key"))));
        Assert.DoesNotContain("wrong-key", refused.Stdout + refused.Stderr, StringComparison.Ordinal);
    }
}
