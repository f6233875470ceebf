using JobRelay.Functions;
using JobRelay.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace JobRelay.Tests.Functions;

/// <summary>The dashboard as the Functions app serves it: under the host's route prefix, at <c>/api/dashboard</c>.</summary>
public class DashboardFunctionTests
{
    [Fact]
    public async Task ThePageAtApiDashboardLoadsItsAssetsFromBelowApiDashboardWithTheStrictPolicy()
    {
        using var host = FunctionsAppHost.Build();
        var function = ActivatorUtilities.CreateInstance<DashboardFunction>(host.Services);
        var context = new DefaultHttpContext { RequestServices = host.Services };
        context.Request.Method = "GET";
        context.Request.Path = "/api/dashboard";
        using var body = new MemoryStream();
        context.Response.Body = body;

        await function.Page(context.Request).ExecuteAsync(context);

        var html = System.Text.Encoding.UTF8.GetString(body.ToArray());
        Assert.Equal(200, context.Response.StatusCode);
        Assert.Contains("<script src=\"/api/dashboard/dashboard.js\" defer></script>", html, StringComparison.Ordinal);
        Assert.Contains("<link rel=\"stylesheet\" href=\"/api/dashboard/dashboard.css\">", html, StringComparison.Ordinal);
        Assert.Equal(DashboardPage.ContentSecurityPolicy, context.Response.Headers.ContentSecurityPolicy.ToString());
        Assert.Equal("no-referrer", context.Response.Headers["Referrer-Policy"].ToString());
    }

    [Fact]
    public async Task TheScriptIsServedAtApiDashboardAndAnyOtherNameIsNotFound()
    {
        using var host = FunctionsAppHost.Build();
        var function = ActivatorUtilities.CreateInstance<DashboardFunction>(host.Services);

        var script = await ExecuteAsync(host.Services, function.Asset, "/api/dashboard/dashboard.js", "dashboard.js");
        var other = await ExecuteAsync(host.Services, function.Asset, "/api/dashboard/web.config", "web.config");

        Assert.Equal((200, "text/javascript; charset=utf-8"), script);
        Assert.Equal((404, "application/problem+json"), other);
    }

    private static async Task<(int Status, string? ContentType)> ExecuteAsync(IServiceProvider services, Func<HttpRequest, string, IResult> handler, string path, string asset)
    {
        var context = new DefaultHttpContext { RequestServices = services };
        context.Request.Method = "GET";
        context.Request.Path = path;
        context.Response.Body = new MemoryStream();
        await handler(context.Request, asset).ExecuteAsync(context);
        return (context.Response.StatusCode, context.Response.ContentType);
    }
}
