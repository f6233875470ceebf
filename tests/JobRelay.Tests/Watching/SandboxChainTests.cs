using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using JobRelay.Tests.Support;
using Microsoft.Data.Sqlite;

namespace JobRelay.Tests.Watching;

/// <summary>
/// The README's walkthrough: <c>jobrelay serve --sandbox</c>, whose catalog names no <c>eventSecret</c>, runs a
/// Keboola → TheEye → Keboola chain end to end with nothing calling <c>/api/events</c>.
/// </summary>
public sealed class SandboxChainTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("jobrelay-sandbox-chain-").FullName;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    public void Dispose()
    {
        _http.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task ServeSandboxRunsAKeboolaToTheEyeToKeboolaChainWithNoEventSecret()
    {
        var catalog = await File.ReadAllTextAsync(Path.Combine(Path.GetDirectoryName(CliProcess.CliAssembly)!, "sandbox.triggers.json"));
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
        await serve.WaitForLineAsync("chaining", TimeSpan.FromSeconds(90));
        _http.DefaultRequestHeaders.Add("x-functions-key", "sandbox");

        using var started = await _http.PostAsync(new Uri(address, "api/triggers/load-orders/runs"), null);
        var parent = (await started.Content.ReadFromJsonAsync<JsonObject>())!;
        var publish = await UntilRunAsync(address, "publish-orders");
        var notify = await UntilRunAsync(address, "notify-team");
        var runs = await ListAsync(address);

        Assert.DoesNotContain("\"eventSecret\":", catalog, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        Assert.Equal((string?)parent["runId"], (string?)notify["parentRunId"]);
        Assert.Equal((string?)notify["runId"], (string?)publish["parentRunId"]);
        Assert.Equal("started", (string?)publish["state"]);
        Assert.Equal("succeeded", (string?)notify["jobStatus"]!["state"]);
        Assert.Equal((string?)notify["jobId"], (string?)publish["arguments"]!["notice"]);
        Assert.Single(runs, r => (string?)r!["trigger"] == "notify-team");
        Assert.Single(runs, r => (string?)r!["trigger"] == "publish-orders");
        Assert.Contains("chained trigger(s) start when JobRelay's watch sees their parent job end", serve.Stdout, StringComparison.Ordinal);
    }

    private async Task<JsonObject> UntilRunAsync(Uri address, string trigger)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            // A run listed while it is being started shows "claimed" or "starting" for a moment: wait for its settled row.
            var run = (await ListAsync(address)).FirstOrDefault(r => (string?)r!["trigger"] == trigger
                && (string?)r["state"] is not ("claimed" or "starting")
                && (trigger != "notify-team" || (string?)r["watch"]?["state"] == "ended"));
            if (run is JsonObject found)
            {
                return found;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"No run of {trigger} within 90 s.");
            }

            await Task.Delay(100);
        }
    }

    private async Task<JsonArray> ListAsync(Uri address)
        => (JsonArray)(await _http.GetFromJsonAsync<JsonObject>(new Uri(address, "api/runs")))!["runs"]!;
}
