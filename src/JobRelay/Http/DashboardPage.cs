using System.Text;
using JobRelay.Model;
using JobRelay.Web;
using Microsoft.AspNetCore.Http;

namespace JobRelay.Http;

/// <summary>
/// The operator dashboard: one static page with its script and style sheet, embedded in the engine so that both hosts
/// serve the same bytes with no file on disk and nothing fetched from the internet. The page holds no data: its
/// script asks for the API key and calls the run routes with it.
/// </summary>
public static class DashboardPage
{
    /// <summary>
    /// No inline script or style anywhere, so that an injected tag cannot run; API calls only to this origin; the page
    /// cannot be framed (a framed page could be clicked through an operator action).
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    /// <summary>What the page names its assets by; anything else is not found.</summary>
    public static IReadOnlyList<string> AssetNames { get; } = ["dashboard.js", "dashboard.css"];

    private const string AssetsPlaceholder = "{{assets}}";

    private static readonly string Html = Read("dashboard.html");
    private static readonly byte[] Script = Encoding.UTF8.GetBytes(Read("dashboard.js"));
    private static readonly byte[] Style = Encoding.UTF8.GetBytes(Read("dashboard.css"));

    /// <summary>
    /// The page. Its assets are addressed below the page's own path (<c>/dashboard/…</c> from serve,
    /// <c>/api/dashboard/…</c> in Azure), so one page works under both hosts' routes, with or without a trailing slash.
    /// </summary>
    public static IResult Page(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var own = (request.PathBase + request.Path).Value?.TrimEnd('/') ?? "/dashboard";
        var html = Html.Replace(AssetsPlaceholder, System.Net.WebUtility.HtmlEncode(own), StringComparison.Ordinal);
        return new StaticAsset(Encoding.UTF8.GetBytes(html), "text/html; charset=utf-8");
    }

    /// <summary>The page's script or style sheet by name; a 404 problem for any other name.</summary>
    public static IResult Asset(HttpRequest request, string name)
    {
        ArgumentNullException.ThrowIfNull(request);
        return name switch
        {
            "dashboard.js" => new StaticAsset(Script, "text/javascript; charset=utf-8"),
            "dashboard.css" => new StaticAsset(Style, "text/css; charset=utf-8"),
            _ => Problems.For(RelayErrorKind.NotFound, "The dashboard has no such file.", request.Path),
        };
    }

    private static string Read(string name)
    {
        var resource = $"JobRelay.Dashboard.{name}";
        using var stream = typeof(DashboardPage).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"The engine was built without its embedded resource {resource}.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    private sealed class StaticAsset(byte[] content, string contentType) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            ArgumentNullException.ThrowIfNull(httpContext);
            var response = httpContext.Response;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = contentType;
            response.ContentLength = content.Length;
            var headers = response.Headers;
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "no-referrer";
            headers["Cross-Origin-Opener-Policy"] = "same-origin";
            headers.CacheControl = "no-cache";
            return response.Body.WriteAsync(content, httpContext.RequestAborted).AsTask();
        }
    }
}
