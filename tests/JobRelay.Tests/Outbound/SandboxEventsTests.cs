using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using JobRelay.Sandbox;
using JobRelay.Tests.Support;
using Microsoft.Data.Sqlite;

namespace JobRelay.Tests.Outbound;

/// <summary>
/// The README's walkthrough of outbound events: in <c>jobrelay serve --sandbox</c>, a failed job's <c>job.failed</c>
/// reaches the sandbox's receiver as a Slack message and as a Standard Webhooks delivery the receiver verified.
/// </summary>
public sealed class SandboxEventsTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("jobrelay-sandbox-events-").FullName;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    public void Dispose()
    {
        _http.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task A_failed_sandbox_job_reaches_the_receiver_as_a_Slack_message_and_a_verified_signed_webhook()
    {
        var address = new Uri($"http://127.0.0.1:{LoopbackServer.FreePort()}/");
        using var serve = CliProcess.Start(
            _folder,
            new Dictionary<string, string>
            {
                ["JobRelay__Store__SweepInterval"] = "00:00:00.250",
                ["JobRelay__Watch__FirstCheck"] = "00:00:01",
                ["JobRelay__Watch__MaxInterval"] = "00:00:01",
            },
            "serve", "--sandbox", "--urls", address.GetLeftPart(UriPartial.Authority), "--data", Path.Combine(_folder, "data"));
        var receiver = new Uri((await serve.WaitForLineAsync("receiver", TimeSpan.FromSeconds(90))).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
        _http.DefaultRequestHeaders.Add("x-functions-key", "sandbox");

        using var started = await _http.PostAsync(new Uri(address, "api/triggers/load-invoices/runs"), null);
        var runId = (string)(await started.Content.ReadFromJsonAsync<JsonObject>())!["runId"]!;
        var received = await UntilReceivedAsync(receiver, r => r.Any(d => (string?)d!["kind"] == "slack") && r.Count(d => (string?)d!["kind"] == "webhook") == 2);
        var run = await UntilDeliveredAsync(new Uri(address, $"api/runs/{runId}"), 3);

        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        Assert.Equal("/sandbox/received", receiver.AbsolutePath);
        var webhooks = received.Where(d => (string?)d!["kind"] == "webhook").ToList();
        Assert.Equal([$"evt_{runId}_job.started", $"evt_{runId}_job.failed"], webhooks.Select(d => (string?)d!["webhookId"]));
        Assert.All(webhooks, d => Assert.True((bool)d!["accepted"]!, (string?)d["problem"]));
        var failed = webhooks[1]!["body"]!;
        Assert.Equal("job.failed", (string?)failed["type"]);
        Assert.Equal(runId, (string?)failed["data"]!["runId"]);
        Assert.Equal("load-invoices", (string?)failed["data"]!["trigger"]);
        Assert.Equal("failed", (string?)failed["data"]!["jobState"]);
        var slack = Assert.Single(received, d => (string?)d!["kind"] == "slack")!;
        Assert.True((bool)slack["accepted"]!, (string?)slack["problem"]);
        var text = (string)slack["body"]!["text"]!;
        Assert.StartsWith("❌ load-invoices: failed after ", text, StringComparison.Ordinal);
        Assert.EndsWith($" <{address.GetLeftPart(UriPartial.Authority)}/dashboard#run={runId}|Open the run>", text, StringComparison.Ordinal);
        Assert.Equal(
            [("warehouse", "job.started", "delivered"), ("ops-slack", "job.failed", "delivered"), ("warehouse", "job.failed", "delivered")],
            run.OrderBy(e => (string?)e!["type"] == "job.failed").ThenBy(e => (string?)e!["destination"], StringComparer.Ordinal)
                .Select(e => ((string)e!["destination"]!, (string)e["type"]!, (string)e["state"]!)));
        // The banner's catalog line prints the sandbox's well-known secrets on purpose; no log line carries one.
        var logs = serve.Stdout.Split('\n').Where(l => !l.TrimStart().StartsWith("catalog ", StringComparison.Ordinal));
        Assert.DoesNotContain(logs, l => l.Contains(SandboxCredentials.SigningSecret, StringComparison.Ordinal));
        Assert.DoesNotContain(SandboxCredentials.SigningSecret, serve.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(SandboxCredentials.SigningSecret, run.ToJsonString(), StringComparison.Ordinal);
    }

    private async Task<JsonArray> UntilReceivedAsync(Uri receiver, Func<JsonArray, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            var received = (await _http.GetFromJsonAsync<JsonObject>(receiver))!["received"]!.AsArray();
            if (done(received))
            {
                return received;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The receiver got {received.ToJsonString()} within 90 s.");
            }

            await Task.Delay(200);
        }
    }

    private async Task<JsonArray> UntilDeliveredAsync(Uri run, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var events = (await _http.GetFromJsonAsync<JsonObject>(run))!["events"]!.AsArray();
            if (events.Count(e => (string?)e!["state"] == "delivered") == count || DateTime.UtcNow > deadline)
            {
                return events;
            }

            await Task.Delay(200);
        }
    }
}
