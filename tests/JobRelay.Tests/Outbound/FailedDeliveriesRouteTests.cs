using System.Net;
using System.Text.Json.Nodes;
using JobRelay.Runs;
using JobRelay.Tests.Http;
using JobRelay.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace JobRelay.Tests.Outbound;

/// <summary><c>GET /api/deliveries/failed</c> through serve's host: a delivery its receiver refused, listed with its attempt and no secret.</summary>
public sealed class FailedDeliveriesRouteTests : IAsyncLifetime
{
    private const string SigningSecret = "whsec_c2VjcmV0LXNpZ25pbmcta2V5LWZvci10ZXN0cw==";

    private LoopbackPlatforms _platforms = null!;
    private LoopbackServer _receiver = null!;
    private RelayHost _host = null!;

    public async Task InitializeAsync()
    {
        _platforms = await LoopbackPlatforms.StartAsync(new LoopbackPlatformOptions { FirstJobId = 7001 });
        _receiver = await LoopbackServer.StartAsync(context =>
        {
            context.Response.StatusCode = 503;
            return Task.CompletedTask;
        });
        var catalog = JsonNode.Parse(new CatalogBuilder().Keboola().KeboolaJob("load", "7").Build())!.AsObject();
        catalog["destinations"] = JsonNode.Parse($$"""{ "warehouse": { "type": "webhook", "url": "{{new Uri(_receiver.BaseAddress, "in")}}", "signingSecret": "warehouse-signing" } }""");
        catalog["subscriptions"] = JsonNode.Parse("""[ { "to": "warehouse", "events": ["run.accepted"], "triggers": ["load"] } ]""");
        _host = await RelayHost.StartAsync(catalog.ToJsonString(), _platforms.Urls, new Dictionary<string, string?>
        {
            ["JobRelay:Secrets:Values:warehouse-signing"] = SigningSecret,
            ["JobRelay:Outbound:FirstDelay"] = "01:00:00",
            ["JobRelay:Outbound:MaxDelay"] = "01:00:00",
        });
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _receiver.DisposeAsync();
        await _platforms.DisposeAsync();
    }

    [Fact]
    public async Task A_delivery_the_receiver_refused_is_listed_with_its_attempt_and_no_secret()
    {
        var runId = await FailOneDeliveryAsync();

        using var response = await _host.GetAsync("/api/deliveries/failed");
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var delivery = Assert.Single(JsonNode.Parse(text)!["deliveries"]!.AsArray())!;
        Assert.Equal(runId, (string?)delivery["runId"]);
        Assert.Equal($"evt_{runId}_run.accepted", (string?)delivery["eventId"]);
        Assert.Equal("warehouse#0", (string?)delivery["subscription"]);
        Assert.Equal("warehouse", (string?)delivery["destination"]);
        Assert.Equal("pending", (string?)delivery["state"]);
        Assert.Equal(1, (int)delivery["attemptCount"]!);
        var attempt = Assert.Single(delivery["attempts"]!.AsArray())!;
        Assert.Equal(503, (int)attempt["status"]!);
        Assert.Equal("HTTP 503", (string?)attempt["error"]);
        Assert.NotNull(delivery["nextAttemptAt"]);
        Assert.DoesNotContain(SigningSecret["whsec_".Length..], text, StringComparison.Ordinal);
        Assert.DoesNotContain(_receiver.BaseAddress.Authority, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_no_failure_the_list_is_empty()
    {
        using var response = await _host.GetAsync("/api/deliveries/failed?limit=5");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""{"deliveries":[]}""", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-key")]
    public async Task Without_the_right_API_key_the_list_is_refused_with_401(string? apiKey)
    {
        await FailOneDeliveryAsync();

        using var response = await _host.GetAsync("/api/deliveries/failed", apiKey);
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.DoesNotContain("evt_", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("1001")]
    [InlineData("ten")]
    [InlineData("-1")]
    public async Task A_limit_out_of_range_or_not_a_number_is_answered_400_naming_it(string limit)
    {
        using var response = await _host.GetAsync("/api/deliveries/failed?limit=" + limit);
        var problem = await RelayHost.JsonAsync(response);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("limit must be a whole number from 1 to 1000.", (string?)problem["detail"]);
    }

    private async Task<string> FailOneDeliveryAsync()
    {
        using var started = await _host.PostRunAsync("load");
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var runId = (string)(await RelayHost.JsonAsync(started))["runId"]!;
        var sweep = _host.Services.GetRequiredService<RunSweep>();
        for (var tick = 0; tick < 20 && _receiver.Requests.Count == 0; tick++)
        {
            await sweep.SweepAsync(CancellationToken.None);
            await Task.Delay(50);
        }

        Assert.Single(_receiver.Requests);
        return runId;
    }
}
