using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace JobRelay.Tests.Support;

public class SupportTests
{
    [Fact]
    public async Task ALoopbackServerRecordsTheExactRequestItAnswers()
    {
        await using var server = await LoopbackServer.StartAsync(ctx => ctx.Response.WriteAsync("ok"));
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var content = new StringContent("{\"a\":1}", System.Text.Encoding.UTF8, "application/json");

        using var response = await http.PostAsync(new Uri("things?x=1", UriKind.Relative), content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var request = Assert.Single(server.Requests);
        Assert.Equal("POST", request.Method);
        Assert.Equal("/things", request.Path);
        Assert.Equal("?x=1", request.QueryString);
        Assert.Equal("{\"a\":1}", request.Body);
        Assert.StartsWith("application/json", request.Header("Content-Type"), StringComparison.Ordinal);
    }

    [Fact]
    public void TheCapturingLoggerSeesPropertiesAndExceptionsOfEveryLine()
    {
        using var provider = new CapturingLoggerProvider();
        using var factory = provider.CreateFactory();
        var logger = factory.CreateLogger("test");

#pragma warning disable CA1848, CA1873, CA2254 // the capture itself is under test, not a production log site
        logger.LogTrace(new InvalidOperationException("inner-text"), "Hello {Name}", "value-1");
#pragma warning restore CA1848, CA1873, CA2254

        var line = Assert.Single(provider.Logs);
        Assert.Contains("value-1", line.ToString(), StringComparison.Ordinal);
        Assert.Contains("inner-text", line.ToString(), StringComparison.Ordinal);
        Assert.Throws<Xunit.Sdk.DoesNotContainException>(() => provider.AssertContainsNone("inner-text"));
    }
}
