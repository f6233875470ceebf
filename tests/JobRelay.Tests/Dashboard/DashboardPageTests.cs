using System.Net;
using System.Text.RegularExpressions;
using JobRelay.Http;
using JobRelay.Tests.Http;

namespace JobRelay.Tests.Dashboard;

/// <summary>The dashboard page as the test host serves it, read over HTTP without a browser.</summary>
public sealed partial class DashboardPageTests : IAsyncLifetime
{
    private const string Catalog = """
        {
          "platforms": { "kbc": { "type": "keboola", "url": "http://127.0.0.1:1/", "tokenSecret": "kbc-token" } },
          "triggers": { "load": { "platform": "kbc", "keboola": { "component": "keboola.ex-db", "config": "1" } } }
        }
        """;

    private const string ExpectedPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private RelayHost _host = null!;

    public async Task InitializeAsync()
        => _host = await RelayHost.StartAsync(Catalog, new Dictionary<string, Uri>());

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task ThePageIsServedWithoutAKeyWithAStrictPolicyAndNoCaching()
    {
        using var response = await _host.GetAsync("/dashboard", apiKey: null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        Assert.Equal(ExpectedPolicy, Single(response, "Content-Security-Policy"));
        Assert.Equal("nosniff", Single(response, "X-Content-Type-Options"));
        Assert.Equal("no-referrer", Single(response, "Referrer-Policy"));
        Assert.Equal("DENY", Single(response, "X-Frame-Options"));
        Assert.Equal("no-cache", Single(response, "Cache-Control"));
    }

    [Fact]
    public async Task ThePageHasNoInlineScriptOrStyleAndLoadsItsAssetsFromBelowItsOwnPath()
    {
        using var response = await _host.GetAsync("/dashboard", apiKey: null);
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(["/dashboard/dashboard.js"], ScriptTag().Matches(html).Select(m => m.Groups["src"].Value));
        Assert.Equal(["/dashboard/dashboard.css"], StyleLink().Matches(html).Select(m => m.Groups["href"].Value));
        Assert.Equal(1, Regex.Count(html, "<script", RegexOptions.IgnoreCase));
        Assert.DoesNotMatch(InlineHandlerOrStyle(), html);
        Assert.DoesNotContain("<style", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("http://", html, StringComparison.Ordinal);
        Assert.DoesNotContain("https://", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ThePageHoldsNoDataAndNoKey()
    {
        using var response = await _host.GetAsync("/dashboard", apiKey: RelayHost.ApiKey);
        var html = await response.Content.ReadAsStringAsync();

        Assert.DoesNotContain(RelayHost.ApiKey, html, StringComparison.Ordinal);
        Assert.DoesNotContain("load", html, StringComparison.Ordinal);
        Assert.DoesNotContain("kbc", html, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/dashboard/dashboard.js", "text/javascript; charset=utf-8", "sessionStorage")]
    [InlineData("/dashboard/dashboard.css", "text/css; charset=utf-8", ":focus-visible")]
    public async Task EachAssetIsServedWithItsTypeAndTheSameHeaders(string path, string contentType, string excerpt)
    {
        using var response = await _host.GetAsync(path, apiKey: null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(contentType, response.Content.Headers.ContentType!.ToString());
        Assert.Equal(ExpectedPolicy, Single(response, "Content-Security-Policy"));
        Assert.Equal("nosniff", Single(response, "X-Content-Type-Options"));
        Assert.Contains(excerpt, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheScriptKeepsTheKeyInSessionStorageOnlyAndSendsItAsTheFunctionsKeyHeader()
    {
        using var response = await _host.GetAsync("/dashboard/dashboard.js", apiKey: null);
        var script = await response.Content.ReadAsStringAsync();

        Assert.Contains("\"" + RelayEndpoints.ApiKeyHeader + "\": apiKey()", script, StringComparison.Ordinal);
        Assert.DoesNotContain("localStorage", script, StringComparison.Ordinal);
        Assert.DoesNotContain("document.cookie", script, StringComparison.Ordinal);
        Assert.DoesNotContain("innerHTML", script, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnknownAssetIsANotFoundProblem()
    {
        using var response = await _host.GetAsync("/dashboard/secrets.json", apiKey: null);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("urn:jobrelay:problem:not-found", (string?)(await RelayHost.JsonAsync(response))["type"]);
    }

    [Fact]
    public async Task ApiAnswersAreNeverCached()
    {
        using var catalog = await _host.GetAsync("/api/triggers");
        using var refused = await _host.GetAsync("/api/triggers", apiKey: "wrong");

        Assert.Equal(HttpStatusCode.OK, catalog.StatusCode);
        Assert.Equal("no-store", Single(catalog, "Cache-Control"));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("no-store", Single(refused, "Cache-Control"));
    }

    [Fact]
    public async Task ThePageHasAPlaceForTheSchedulersLastTickThatItsScriptFillsFromTheHeartbeatRoute()
    {
        using var page = await _host.GetAsync("/dashboard", apiKey: null);
        using var script = await _host.GetAsync("/dashboard/dashboard.js", apiKey: null);
        using var route = await _host.GetAsync("/api/health/scheduler");

        Assert.Contains("<p id=\"heartbeat\" data-state=\"\">", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var code = await script.Content.ReadAsStringAsync();
        Assert.Contains("api(\"GET\", \"/api/health/scheduler\")", code, StringComparison.Ordinal);
        Assert.Contains("el(\"heartbeat\").textContent", code, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, route.StatusCode);
        Assert.Equal("unscheduled", (string?)(await RelayHost.JsonAsync(route))["state"]);
    }

    private static string Single(HttpResponseMessage response, string header)
        => Assert.Single(response.Headers.TryGetValues(header, out var values) ? values : response.Content.Headers.GetValues(header));

    [GeneratedRegex("<script src=\"(?<src>[^\"]+)\" defer></script>")]
    private static partial Regex ScriptTag();

    [GeneratedRegex("<link rel=\"stylesheet\" href=\"(?<href>[^\"]+)\">")]
    private static partial Regex StyleLink();

    [GeneratedRegex("\\s(on[a-z]+|style)=", RegexOptions.IgnoreCase)]
    private static partial Regex InlineHandlerOrStyle();
}
