using System.Net;
using System.Text.Json.Nodes;
using JobRelay.Triggers;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

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
    public void TheFakeLogCollectorDescribesThePropertiesAndExceptionOfEveryLine()
    {
        var logs = new FakeLogCollector();
        using var factory = logs.CreateFactory();
        var logger = factory.CreateLogger("test");

#pragma warning disable CA1848, CA1873, CA2254 // the capture itself is under test, not a production log site
        logger.LogTrace(new InvalidOperationException("inner-text"), "Hello {Name}", "value-1");
#pragma warning restore CA1848, CA1873, CA2254

        var line = Assert.Single(logs.GetSnapshot());
        Assert.Contains("value-1", line.Describe(), StringComparison.Ordinal);
        Assert.Contains("inner-text", line.Describe(), StringComparison.Ordinal);
        Assert.Throws<Xunit.Sdk.DoesNotContainException>(() => logs.AssertContainsNone("inner-text"));
        Assert.Throws<Xunit.Sdk.DoesNotContainException>(() => logs.AssertContainsNone("value-1"));
    }

    [Fact]
    public void TheCatalogBuilderWritesACatalogTheLoaderAcceptsWithEachHooksArgumentAsAJobVariable()
    {
        var json = new CatalogBuilder()
            .Keboola(eventSecret: "kbc-events")
            .TheEye()
            .DeliveryHook()
            .CommitHook()
            .KeboolaJob("load", "7")
            .TheEyeTask("notify", "notify-task")
            .Build();

        var parsed = TriggerCatalogLoader.Parse(json, "built");

        Assert.True(parsed.IsValid, string.Join("\n", parsed.Errors));
        Assert.Equal(["hook", "ingest", "load", "notify"], parsed.Catalog!.Triggers.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["eye-token", "hook-token", "kbc-events", "kbc-token"], CatalogSecrets.Names(parsed.Catalog));
        var triggers = JsonNode.Parse(json)!["triggers"]!;
        Assert.Equal("{{delivery}}", (string?)triggers["hook"]!["keboola"]!["variables"]!["delivery"]);
        Assert.Equal("header:X-Delivery", (string?)triggers["hook"]!["arguments"]!["delivery"]!["from"]);
        Assert.Equal("{{sha}}", (string?)triggers["ingest"]!["keboola"]!["variables"]!["sha"]);
        Assert.Equal("42", (string?)triggers["ingest"]!["keboola"]!["config"]);
    }
}
