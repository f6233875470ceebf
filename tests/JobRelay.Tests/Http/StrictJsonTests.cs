using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using JobRelay.Http;
using JobRelay.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace JobRelay.Tests.Http;

/// <summary>
/// Every JSON route (hooks, runs, job-end events) refuses a body that is not strictly JSON with a 400 problem, before
/// anything starts: an object naming a property twice, bytes that are not UTF-8, or an escape that is not Unicode.
/// </summary>
public sealed class StrictJsonTests : IAsyncLifetime
{
    private const string Catalog = """
        {
          "platforms": { "kbc": { "type": "keboola", "url": "http://127.0.0.1:1/", "tokenSecret": "kbc-token", "eventSecret": "hook-token" } },
          "triggers": {
            "load": { "platform": "kbc", "arguments": { "since": { "default": "x", "overridable": true } },
                      "keboola": { "component": "keboola.ex-db", "config": "42", "variables": { "since": "{{since}}" } } },
            "token-hook": { "platform": "kbc", "arguments": { "who": { "from": "body:$.who", "required": true } },
                            "keboola": { "component": "keboola.ex-db", "config": "43", "variables": { "who": "{{who}}" } },
                            "webhook": { "scheme": "token", "secrets": ["hook-token"] } },
            "github-hook": { "platform": "kbc", "keboola": { "component": "keboola.ex-db", "config": "44" },
                             "webhook": { "scheme": "github", "secrets": ["hmac-secret"] } },
            "stripe-hook": { "platform": "kbc", "keboola": { "component": "keboola.ex-db", "config": "46" },
                             "webhook": { "scheme": "stripe", "secrets": ["hmac-secret"] } },
            "follower": { "platform": "kbc", "keboola": { "component": "keboola.tr", "config": "45" },
                          "after": [{ "platform": "kbc", "component": "keboola.ex-db", "config": "42" }] }
          }
        }
        """;

    private LoopbackServer _keboola = null!;
    private RelayHost _host = null!;

    public static TheoryData<string, byte[]> Bodies => new()
    {
        { "a property named twice", Encoding.UTF8.GetBytes("""{"who":"a","who":"b"}""") },
        { "a nested property named twice", Encoding.UTF8.GetBytes("""{"who":"a","arguments":{"since":"1","since":"2"},"job":{"id":1,"id":2}}""") },
        { "bytes that are not UTF-8", [.. "{\"who\":\""u8, 0xFF, 0xFE, .. "\"}"u8] },
        { "a property name that is not UTF-8", [.. "{\""u8, 0xC3, .. "\":1}"u8] },
        { "a lone surrogate escape", Encoding.UTF8.GetBytes("""{"who":"\ud800"}""") },
        { "a lone surrogate escape in a name", Encoding.UTF8.GetBytes("""{"\udc00x":1}""") },
        { "a lone surrogate escape in the id", Encoding.UTF8.GetBytes("""{"id":"\ud800","type":"\udc00"}""") },
    };

    public async Task InitializeAsync()
    {
        _keboola = await LoopbackServer.StartAsync(app => app.MapPost("/jobs", () => Results.Json(
            new JsonObject { ["id"] = "1", ["runId"] = "1", ["status"] = "created", ["isFinished"] = false, ["url"] = "https://queue.example.com/jobs/1", ["result"] = new JsonArray() },
            statusCode: 201)));
        _host = await RelayHost.StartAsync(Catalog, new Dictionary<string, Uri> { ["kbc"] = _keboola.BaseAddress });
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _keboola.DisposeAsync();
    }

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task ATokenHookRefusesTheBodyWithA400(string what, byte[] body)
    {
        using var response = await PostAsync("/api/hooks/token-hook", body, ("X-JobRelay-Token", RelayHost.HookToken));

        await AssertInvalidJsonAsync(response, what);
    }

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task ASignedGitHubHookRefusesTheBodyWithA400(string what, byte[] body)
    {
        var signature = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(RelayHost.HmacSecret), body));

        using var response = await PostAsync("/api/hooks/github-hook", body, ("X-Hub-Signature-256", signature), ("X-GitHub-Event", "push"), ("X-GitHub-Delivery", "d-1"));

        await AssertInvalidJsonAsync(response, what);
    }

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task AnApiRunRefusesTheBodyWithA400(string what, byte[] body)
    {
        using var response = await PostAsync("/api/triggers/load/runs", body, (RelayEndpoints.ApiKeyHeader, RelayHost.ApiKey));

        await AssertInvalidJsonAsync(response, what);
    }

    [Fact]
    public async Task AnApiRunRefusesArgumentsNamedTwice()
    {
        using var response = await PostAsync("/api/triggers/load/runs", """{"arguments":{},"arguments":{}}"""u8.ToArray(), (RelayEndpoints.ApiKeyHeader, RelayHost.ApiKey));

        await AssertInvalidJsonAsync(response, "arguments named twice");
    }

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task AJobEndEventRefusesTheBodyWithA400(string what, byte[] body)
    {
        using var response = await PostAsync("/api/events/kbc", body, ("X-JobRelay-Token", RelayHost.HookToken));

        await AssertInvalidJsonAsync(response, what);
    }

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task AStripeHookWhoseVerifierReadsTheIdRefusesTheBodyWithA400(string what, byte[] body)
    {
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        byte[] content = [.. Encoding.UTF8.GetBytes(timestamp + "."), .. body];
        var signed = HMACSHA256.HashData(Encoding.UTF8.GetBytes(RelayHost.HmacSecret), content);

        using var response = await PostAsync("/api/hooks/stripe-hook", body, ("Stripe-Signature", $"t={timestamp},v1={Convert.ToHexStringLower(signed)}"));

        await AssertInvalidJsonAsync(response, what);
    }

    [Fact]
    public async Task AStrictBodyWithEscapedUnicodeStillStartsItsJob()
    {
        using var response = await PostAsync("/api/hooks/token-hook", Encoding.UTF8.GetBytes("""{"who":"\ud83d\ude00 \u00e9t\u00e9"}"""), ("X-JobRelay-Token", RelayHost.HookToken));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var start = Assert.Single(_keboola.Requests);
        Assert.Equal("😀 été", (string?)JsonNode.Parse(start.Body)!["variableValuesData"]!["values"]![0]!["value"]);
    }

    private async Task AssertInvalidJsonAsync(HttpResponseMessage response, string what)
    {
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{what}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await RelayHost.JsonAsync(response);
        Assert.Equal("urn:jobrelay:problem:invalid-input", (string?)problem["type"]);
        Assert.StartsWith("The body is not valid JSON", (string?)problem["detail"], StringComparison.Ordinal);
        Assert.Empty(_keboola.Requests);
        Assert.DoesNotContain(_host.Logs.GetSnapshot(), l => l.Message.Contains("Unexpected", StringComparison.Ordinal));
    }

    private Task<HttpResponseMessage> PostAsync(string path, byte[] body, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return _host.Client.SendAsync(request);
    }
}
