using System.Net;
using System.Text.Json.Nodes;
using JobRelay.Runs;
using JobRelay.Tests.Http;
using JobRelay.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using StandardWebhooks;

namespace JobRelay.Tests.Outbound;

/// <summary>The whole path through serve's host: a run started over the API, its events sent by the sweep's tick to a loopback receiver, and listed by GET /api/runs/{id}.</summary>
public sealed class RunEventsRouteTests : IAsyncLifetime
{
    private const string SigningSecret = "whsec_c2VjcmV0LXNpZ25pbmcta2V5LWZvci10ZXN0cw==";

    private LoopbackPlatforms _platforms = null!;
    private LoopbackServer _receiver = null!;
    private RelayHost _host = null!;
    private int _answers;

    public async Task InitializeAsync()
    {
        _platforms = await LoopbackPlatforms.StartAsync(new LoopbackPlatformOptions { FirstJobId = 7001 });
        _receiver = await LoopbackServer.StartAsync(context =>
        {
            // The first delivery meets an outage, so its attempts show the failure and the retry.
            context.Response.StatusCode = Interlocked.Increment(ref _answers) == 1 ? 503 : 204;
            return Task.CompletedTask;
        });
        var catalog = JsonNode.Parse(new CatalogBuilder().Keboola().KeboolaJob("load", "7").Build())!.AsObject();
        catalog["destinations"] = JsonNode.Parse($$"""{ "warehouse": { "type": "webhook", "url": "{{new Uri(_receiver.BaseAddress, "in")}}", "signingSecret": "warehouse-signing" } }""");
        catalog["subscriptions"] = JsonNode.Parse("""[ { "to": "warehouse", "events": ["run.accepted", "job.started"], "triggers": ["load"] } ]""");
        _host = await RelayHost.StartAsync(catalog.ToJsonString(), _platforms.Urls, new Dictionary<string, string?>
        {
            ["JobRelay:Secrets:Values:warehouse-signing"] = SigningSecret,
            ["JobRelay:Outbound:FirstDelay"] = "00:00:00.010",
            ["JobRelay:Outbound:MaxDelay"] = "00:00:00.020",
        });
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _receiver.DisposeAsync();
        await _platforms.DisposeAsync();
    }

    [Fact]
    public async Task A_runs_events_and_each_delivery_attempt_are_listed_with_the_run_and_carry_no_secret()
    {
        using var started = await _host.PostRunAsync("load");
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var runId = (string)(await RelayHost.JsonAsync(started))["runId"]!;
        var sweep = _host.Services.GetRequiredService<RunSweep>();

        for (var tick = 0; tick < 20 && _receiver.Requests.Select(r => r.Header("webhook-id")).Distinct().Count() < 2 || _answers < 3; tick++)
        {
            await sweep.SweepAsync(CancellationToken.None);
            await Task.Delay(50);
        }

        using var response = await _host.GetAsync("/api/runs/" + runId);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        var events = JsonNode.Parse(text)!["events"]!.AsArray();
        Assert.Equal(["run.accepted", "job.started"], events.Select(e => e!["type"]!.GetValue<string>()));
        Assert.All(events, e =>
        {
            Assert.Equal("warehouse#0", e!["subscription"]!.GetValue<string>());
            Assert.Equal("warehouse", e["destination"]!.GetValue<string>());
            Assert.Equal("delivered", e["state"]!.GetValue<string>());
            Assert.Equal($"evt_{runId}_{e["type"]!.GetValue<string>()}", e["eventId"]!.GetValue<string>());
        });
        var first = events[0]!["attempts"]!.AsArray();
        Assert.Equal([503, 204], first.Select(a => a!["status"]!.GetValue<int>()));
        Assert.Equal("HTTP 503", first[0]!["error"]!.GetValue<string>());
        Assert.Equal(2, events[0]!["attemptCount"]!.GetValue<int>());
        Assert.DoesNotContain(SigningSecret["whsec_".Length..], text, StringComparison.Ordinal);
        Assert.DoesNotContain(_receiver.BaseAddress.Port.ToString(System.Globalization.CultureInfo.InvariantCulture) + "/in", text, StringComparison.Ordinal);

        foreach (var request in _receiver.Requests.Where(r => r.Header("webhook-id") is not null))
        {
            var headers = new HeaderDictionary();
            foreach (var name in new[] { "webhook-id", "webhook-timestamp", "webhook-signature" })
            {
                headers[name] = request.Header(name);
            }

            new StandardWebhook(SigningSecret).Verify(request.Body, headers);
        }

        _host.Logs.AssertContainsNone(SigningSecret, SigningSecret["whsec_".Length..]);
    }
}
