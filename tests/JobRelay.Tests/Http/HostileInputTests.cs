using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using JobRelay.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace JobRelay.Tests.Http;

/// <summary>
/// Anonymous, malformed requests on raw sockets against the real Kestrel pipeline: none may get a 500 or write an
/// Error line, and every error comes back as problem details.
/// </summary>
public sealed class HostileInputTests : IAsyncLifetime
{
    internal const string Catalog = """
        {
          "platforms": { "kbc": { "type": "keboola", "url": "http://127.0.0.1:1/", "tokenSecret": "kbc-token" } },
          "triggers": {
            "token-hook": {
              "platform": "kbc",
              "keboola": { "component": "keboola.ex-db", "config": "1" },
              "webhook": { "scheme": "token", "secrets": ["hook-token"] }
            },
            "sms": {
              "platform": "kbc",
              "keboola": { "component": "keboola.ex-sms", "config": "2" },
              "webhook": { "scheme": "twilio", "secrets": ["hmac-secret"] }
            }
          }
        }
        """;

    private const string TwilioForm = "From=%2B12349013030&Body=hello";

    private LoopbackServer _keboola = null!;
    private RelayHost _host = null!;
    private int _nextJob;

    public async Task InitializeAsync()
    {
        _keboola = await StartKeboolaAsync(() => Interlocked.Increment(ref _nextJob));
        _host = await StartHostAsync(null);
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _keboola.DisposeAsync();
    }

    internal static Task<LoopbackServer> StartKeboolaAsync(Func<int> nextJob) => LoopbackServer.StartAsync(app =>
        app.MapPost("/jobs", () => Results.Json(
            new JsonObject { ["id"] = nextJob().ToString(System.Globalization.CultureInfo.InvariantCulture), ["status"] = "created", ["isFinished"] = false },
            statusCode: 201)));

    [Fact]
    public async Task AMalformedChunkedBodyIsABadRequestProblemWithoutAnErrorLine()
    {
        var response = await RawHttp.SendAsync(_host.Client.BaseAddress!, "POST /api/hooks/token-hook HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n");

        Assert.Equal(400, response.Status);
        Assert.Equal("application/problem+json", response.MediaType);
        Assert.Equal("urn:jobrelay:problem:invalid-input", (string?)JsonNode.Parse(response.Body)!["type"]);
        AssertNoErrorLines();
        Assert.Empty(_keboola.Requests);
    }

    [Fact]
    public async Task AStalledBodyIsARequestTimeoutProblemOnceTheGracePeriodEnds()
    {
        await using var host = await StartHostAsync(new Dictionary<string, string?>
        {
            ["JobRelay:Serve:Limits:MinRequestBodyGracePeriod"] = "00:00:01.500",
        });
        var clock = Stopwatch.StartNew();

        var response = await RawHttp.SendAsync(
            host.Client.BaseAddress!,
            "POST /api/hooks/token-hook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{",
            halfClose: false,
            timeout: TimeSpan.FromSeconds(15));

        Assert.Equal(408, response.Status);
        Assert.Equal("application/problem+json", response.MediaType);
        Assert.Equal("urn:jobrelay:problem:request-timeout", (string?)JsonNode.Parse(response.Body)!["type"]);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"answered after {clock.Elapsed}");
        Assert.DoesNotContain(host.Logs.GetSnapshot(), l => l.Level >= LogLevel.Error);
    }

    [Theory]
    [InlineData("Host: x\r\nX-Forwarded-Host: a b\r\n")]
    [InlineData("Host: x\r\nX-Forwarded-Proto: %%%\r\n")]
    [InlineData("Host: xn--a\r\n")]
    [InlineData("Host: \r\n")]
    [InlineData("Host: [::1]:99999\r\n")]
    public async Task OddHostAndForwardedHeadersStillStartTheJob(string hostLines)
    {
        var body = """{"a":1}""";
        var response = await RawHttp.SendAsync(
            _host.Client.BaseAddress!,
            $"POST /api/hooks/token-hook HTTP/1.1\r\n{hostLines}X-JobRelay-Token: {RelayHost.HookToken}\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\n\r\n{body}");

        Assert.True(response.Status is 202 or 400, $"status {response.Status}");
        if (response.Status == 400)
        {
            // Kestrel refuses a Host line it cannot parse before JobRelay sees the request.
            Assert.Empty(_keboola.Requests);
        }
        else
        {
            Assert.Single(_keboola.Requests);
        }

        AssertNoErrorLines();
    }

    [Fact]
    public async Task ForwardedHeadersAreIgnoredWhenNoProxyIsConfigured()
    {
        var signedUrl = "https://relay.example.net/api/hooks/sms";

        var response = await PostTwilioAsync(_host, signedUrl, "X-Forwarded-Proto: https\r\nX-Forwarded-Host: relay.example.net\r\n");

        Assert.Equal(401, response.Status);
        Assert.Equal("urn:jobrelay:problem:unauthorized", (string?)JsonNode.Parse(response.Body)!["type"]);
        Assert.Empty(_keboola.Requests);
    }

    [Fact]
    public async Task ForwardedHeadersFromAConfiguredProxyRebuildTheSignedUrl()
    {
        await using var host = await StartHostAsync(new Dictionary<string, string?>
        {
            ["JobRelay:Serve:ForwardedHeaders:KnownProxies:0"] = "127.0.0.1",
        });

        var response = await PostTwilioAsync(host, "https://relay.example.net/api/hooks/sms", "X-Forwarded-Proto: https\r\nX-Forwarded-Host: relay.example.net\r\n");

        Assert.Equal(202, response.Status);
        Assert.Single(_keboola.Requests);
    }

    [Fact]
    public async Task ForwardedHeadersFromAnAddressOutsideTheConfiguredNetworksAreIgnored()
    {
        await using var host = await StartHostAsync(new Dictionary<string, string?>
        {
            ["JobRelay:Serve:ForwardedHeaders:KnownNetworks:0"] = "10.0.0.0/8",
        });

        var response = await PostTwilioAsync(host, "https://relay.example.net/api/hooks/sms", "X-Forwarded-Proto: https\r\nX-Forwarded-Host: relay.example.net\r\n");

        Assert.Equal(401, response.Status);
        Assert.Empty(_keboola.Requests);
    }

    [Fact]
    public async Task APublicBaseUrlIsTheUrlTwilioSignaturesAreCheckedAgainst()
    {
        await using var host = await StartHostAsync(new Dictionary<string, string?>
        {
            ["JobRelay:Webhooks:PublicBaseUrl"] = "https://relay.example.net",
        });

        var response = await PostTwilioAsync(host, "https://relay.example.net/api/hooks/sms?tenant=a", string.Empty, "/api/hooks/sms?tenant=a");

        Assert.Equal(202, response.Status);
        var job = JsonNode.Parse(Assert.Single(_keboola.Requests).Body)!;
        Assert.Equal("keboola.ex-sms", (string?)job["component"]);
    }

    [Theory]
    [InlineData("GET", "/api/nowhere", 404, "not-found")]
    [InlineData("GET", "/", 404, "not-found")]
    [InlineData("PUT", "/api/triggers", 405, "method-not-allowed")]
    [InlineData("DELETE", "/api/hooks/token-hook", 405, "method-not-allowed")]
    [InlineData("GET", "/api/hooks/token-hook", 405, "method-not-allowed")]
    public async Task RoutingErrorsAreProblemDetails(string method, string path, int status, string type)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);

        using var response = await _host.Client.SendAsync(request);

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("urn:jobrelay:problem:" + type, (string?)problem["type"]);
        Assert.Equal(status, (int?)problem["status"]);
        Assert.Equal(path, (string?)problem["instance"]);
    }

    [Fact]
    public async Task AHeadRequestToAGetRouteIsAMethodNotAllowedProblemWithoutABody()
    {
        var response = await RawHttp.SendAsync(_host.Client.BaseAddress!, "HEAD /api/health HTTP/1.1\r\nHost: x\r\n\r\n");

        Assert.Equal(405, response.Status);
        Assert.Equal("application/problem+json", response.MediaType);
        Assert.Equal("GET", response.Header("Allow"));
    }

    [Fact]
    public async Task AnUnknownMethodIsAProblem()
    {
        var response = await RawHttp.SendAsync(_host.Client.BaseAddress!, "BREW /api/health HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");

        Assert.Equal(405, response.Status);
        Assert.Equal("application/problem+json", response.MediaType);
        Assert.Equal("urn:jobrelay:problem:method-not-allowed", (string?)JsonNode.Parse(response.Body)!["type"]);
    }

    internal static Task<RelayHost> StartHostAsync(IReadOnlyDictionary<string, string?>? settings, Uri? keboola = null)
        => RelayHost.StartAsync(Catalog, new Dictionary<string, Uri> { ["kbc"] = keboola ?? new Uri("http://127.0.0.1:1/") }, settings);

    private async Task<RelayHost> StartHostAsync(IReadOnlyDictionary<string, string?>? settings)
        => await StartHostAsync(settings, _keboola.BaseAddress);

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA5350:Do Not Use Weak Cryptographic Algorithms", Justification = "Twilio signs with HMAC-SHA1.")]
    private static Task<RawResponse> PostTwilioAsync(RelayHost host, string signedUrl, string extraHeaders, string target = "/api/hooks/sms")
    {
        var signed = signedUrl + "BodyhelloFrom+12349013030";
        var signature = Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes(RelayHost.HmacSecret), Encoding.UTF8.GetBytes(signed)));
        return RawHttp.SendAsync(
            host.Client.BaseAddress!,
            $"POST {target} HTTP/1.1\r\nHost: {host.Client.BaseAddress!.Authority}\r\n{extraHeaders}X-Twilio-Signature: {signature}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {TwilioForm.Length}\r\n\r\n{TwilioForm}");
    }

    private void AssertNoErrorLines()
        => Assert.DoesNotContain(_host.Logs.GetSnapshot(), l => l.Level >= LogLevel.Error);
}
