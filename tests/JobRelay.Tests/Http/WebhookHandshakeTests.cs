using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using JobRelay.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace JobRelay.Tests.Http;

/// <summary>Handshakes and non-object bodies through the real pipeline.</summary>
public sealed class WebhookHandshakeTests : IAsyncLifetime
{
    private const string Catalog = """
        {
          "platforms": { "kbc": { "type": "keboola", "url": "http://127.0.0.1:1/", "tokenSecret": "kbc-token" } },
          "triggers": {
            "grid": {
              "platform": "kbc",
              "arguments": { "blob": { "from": "body:$.data.url", "required": true } },
              "keboola": { "component": "keboola.ex-storage", "variables": { "blob": "{{blob}}" } },
              "webhook": { "scheme": "eventGrid", "secrets": ["hook-token"] }
            },
            "cloud": {
              "platform": "kbc",
              "keboola": { "component": "keboola.ex-events" },
              "webhook": { "scheme": "cloudEvents", "secrets": ["hook-token"] }
            }
          }
        }
        """;

    private LoopbackServer _keboola = null!;
    private RelayHost _host = null!;

    public async Task InitializeAsync()
    {
        _keboola = await LoopbackServer.StartAsync(app => app.MapPost("/jobs", () => Results.Json(new JsonObject { ["id"] = "1", ["status"] = "created", ["isFinished"] = false }, statusCode: 201)));
        _host = await RelayHost.StartAsync(Catalog, new Dictionary<string, Uri> { ["kbc"] = _keboola.BaseAddress });
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _keboola.DisposeAsync();
    }

    [Fact]
    public async Task AnEventGridSubscriptionValidationIsAnsweredWithItsCodeAndStartsNothing()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/hooks/grid?token={RelayHost.HookToken}")
        {
            Content = new StringContent("""[{"id":"1","eventType":"Microsoft.EventGrid.SubscriptionValidationEvent","data":{"validationCode":"512d38b6-c7b8-40c8-89fe-f46f9e9622b6"}}]""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("aeg-event-type", "SubscriptionValidation");

        using var response = await _host.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("512d38b6-c7b8-40c8-89fe-f46f9e9622b6", (string?)(await response.Content.ReadFromJsonAsync<JsonObject>())!["validationResponse"]);
        Assert.Empty(_keboola.Requests);
    }

    [Fact]
    public async Task AnEventGridNotificationArrayIsMappedIntoTheJob()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/hooks/grid?token={RelayHost.HookToken}")
        {
            Content = new StringContent("""[{"id":"e-1","eventType":"Microsoft.Storage.BlobCreated","data":{"url":"https://acct.blob.core.windows.net/in/a.csv"}}]""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("aeg-event-type", "Notification");

        using var response = await _host.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Contains("https://acct.blob.core.windows.net/in/a.csv", Assert.Single(_keboola.Requests).Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACloudeventsOptionsHandshakeAllowsTheOriginOnlyWithTheToken()
    {
        using var allowed = new HttpRequestMessage(HttpMethod.Options, "/api/hooks/cloud");
        allowed.Headers.Add("WebHook-Request-Origin", "eventemitter.example.com");
        allowed.Headers.Add("X-JobRelay-Token", RelayHost.HookToken);
        using var refused = new HttpRequestMessage(HttpMethod.Options, "/api/hooks/cloud");
        refused.Headers.Add("WebHook-Request-Origin", "eventemitter.example.com");

        using var ok = await _host.Client.SendAsync(allowed);
        using var no = await _host.Client.SendAsync(refused);

        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal("eventemitter.example.com", ok.Headers.GetValues("WebHook-Allowed-Origin").Single());
        Assert.Equal(HttpStatusCode.Unauthorized, no.StatusCode);
        Assert.Empty(_keboola.Requests);
    }
}
