using System.Net;
using System.Text.Json.Nodes;
using JobRelay.Http;

namespace JobRelay.Tests.Http;

/// <summary>What an anonymous caller can learn from the answers: neither the catalog's trigger names nor the API key's length.</summary>
public sealed class SurfaceLeakTests : IAsyncLifetime
{
    private const string Catalog = """
        {
          "platforms": { "kbc": { "type": "keboola", "url": "http://127.0.0.1:1/", "tokenSecret": "kbc-token" } },
          "triggers": {
            "load": { "platform": "kbc", "keboola": { "component": "keboola.ex-db", "config": "42" } },
            "hooked": { "platform": "kbc", "keboola": { "component": "keboola.ex-db", "config": "43" },
                        "webhook": { "scheme": "token", "secrets": ["hook-token"] } }
          }
        }
        """;

    private RelayHost _host = null!;

    public async Task InitializeAsync() => _host = await RelayHost.StartAsync(Catalog, new Dictionary<string, Uri>());

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task AHookForATriggerWithoutWebhooksGetsTheSameAnswerAsOneForATriggerNotInTheCatalog()
    {
        using var existing = await _host.PostHookAsync("load", "{}");
        using var missing = await _host.PostHookAsync("no-such-trigger", "{}");

        Assert.Equal(HttpStatusCode.NotFound, existing.StatusCode);
        Assert.Equal(existing.StatusCode, missing.StatusCode);
        Assert.Equal("application/problem+json", existing.Content.Headers.ContentType?.MediaType);
        Assert.Equal(existing.Content.Headers.ContentType?.ToString(), missing.Content.Headers.ContentType?.ToString());
        var first = await RelayHost.JsonAsync(existing);
        var second = await RelayHost.JsonAsync(missing);
        Assert.Equal("urn:jobrelay:problem:not-found", (string?)first["type"]);
        Assert.Equal((string?)first["type"], (string?)second["type"]);
        Assert.Equal((string?)first["title"], (string?)second["title"]);
        Assert.Equal((string?)first["detail"], (string?)second["detail"]);
        Assert.Equal("/api/hooks/load", (string?)first["instance"]);
        Assert.Equal("/api/hooks/no-such-trigger", (string?)second["instance"]);
        Assert.DoesNotContain("load", (string?)first["detail"], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("t")]
    [InlineData("test-api-ke")]
    [InlineData("test-api-keyy")]
    [InlineData("TEST-API-KEY")]
    [InlineData("test-api-key-and-more")]
    public async Task AnyKeyButTheExactOneIsRefusedWithTheSameProblem(string presented)
    {
        using var response = await _host.GetAsync("/api/triggers", apiKey: presented);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var problem = await RelayHost.JsonAsync(response);
        Assert.Equal("urn:jobrelay:problem:unauthorized", (string?)problem["type"]);
        Assert.Equal($"This route needs the API key in the {RelayEndpoints.ApiKeyHeader} header.", (string?)problem["detail"]);
    }

    [Fact]
    public async Task TheExactKeyIsAccepted()
    {
        using var response = await _host.GetAsync("/api/triggers", apiKey: RelayHost.ApiKey);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.NotNull((await RelayHost.JsonAsync(response))["triggers"] as JsonNode);
    }
}
