using System.Net;
using System.Text.Json.Nodes;
using JobRelay.Chaining;
using JobRelay.Model;
using JobRelay.Sandbox;
using JobRelay.Tests.Http;
using JobRelay.Tests.Support;
using JobRelay.Triggers;
using JobRelay.Web;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace JobRelay.Tests.Chaining;

public sealed class KeboolaSubscriptionTests
{
    private const string EventToken = "kbc-event-token-77aa";

    private const string Catalog = """
        {
          "platforms": {
            "kbc": { "type": "keboola", "url": "http://127.0.0.1:1/", "tokenSecret": "kbc-token", "eventSecret": "kbc-events" },
            "eye": { "type": "theeye", "url": "http://127.0.0.1:1/", "customer": "sandbox", "accessTokenSecret": "eye-token" }
          },
          "triggers": {
            "load": { "platform": "kbc", "keboola": { "component": "keboola.ex-db", "config": "42" } },
            "report": {
              "platform": "eye",
              "arguments": { "source": { "from": "event:$.job.id", "required": true } },
              "theeye": { "task": "report", "taskArguments": ["{{source}}"] },
              "after": [{ "trigger": "load" }, { "platform": "kbc", "component": "keboola.wr-db", "states": ["failed"] }]
            }
          }
        }
        """;

    [Fact]
    public void ThePlanNamesEachEventComponentAndConfigATriggerWaitsFor()
    {
        var catalog = TriggerCatalogLoader.Parse(Catalog).Catalog!;

        var plans = KeboolaSubscriptions.Plan(catalog, "report");

        Assert.Equal(
            [
                new KeboolaSubscriptionPlan("kbc", "job-succeeded", "keboola.ex-db", "42"),
                new KeboolaSubscriptionPlan("kbc", "job-succeeded-with-warning", "keboola.ex-db", "42"),
                new KeboolaSubscriptionPlan("kbc", "job-failed", "keboola.wr-db", null),
            ],
            plans);
        Assert.Equal(RelayErrorKind.InvalidInput, Assert.Throws<RelayException>(() => KeboolaSubscriptions.Plan(catalog, "load")).Kind);
    }

    [Fact]
    public void TheNotificationApiLivesBesideTheQueue()
    {
        Assert.Equal(new Uri("https://notification.eu-central-1.keboola.com/project-subscriptions"), KeboolaSubscriptions.NotificationUrl(new Uri("https://queue.eu-central-1.keboola.com/")));
    }

    [Fact]
    public async Task SubscribingPostsEachSubscriptionWithTheTokenHeaderAndATokenedRecipient()
    {
        await using var notification = await LoopbackServer.StartAsync(app => app.MapPost("/project-subscriptions", () => Results.Json(new JsonObject { ["id"] = "sub-1" }, statusCode: 201)));
        await using var host = await RelayHost.StartAsync(Catalog, new Dictionary<string, Uri> { ["kbc"] = notification.BaseAddress, ["eye"] = notification.BaseAddress },
            new Dictionary<string, string?> { ["JobRelay:Secrets:Values:kbc-events"] = EventToken });

        var created = await host.Services.GetRequiredService<KeboolaSubscriptions>().SubscribeAsync("report", new Uri("https://relay.example.com"), CancellationToken.None);

        Assert.Equal(3, created.Count);
        var first = notification.Requests[0];
        Assert.Equal("POST", first.Method);
        Assert.Equal("/project-subscriptions", first.Path);
        Assert.Equal(RelayHost.KeboolaToken, first.Header("X-StorageApi-Token"));
        Assert.Equal(
            $$$"""{"event":"job-succeeded","filters":[{"field":"job.component.id","value":"keboola.ex-db"},{"field":"job.configuration.id","value":"42"}],"recipient":{"channel":"webhook","url":"https://relay.example.com/api/events/kbc?token={{{EventToken}}}"}}""",
            first.Body);
        host.Logs.AssertContainsNone(EventToken, RelayHost.KeboolaToken);
    }

    [Fact]
    public async Task EachSubscriptionIsLoggedWithTheJobsItWatchesAndNoNullPlaceholder()
    {
        await using var notification = await LoopbackServer.StartAsync(app => app.MapPost("/project-subscriptions", () => Results.Json(new JsonObject { ["id"] = "sub-1" }, statusCode: 201)));
        await using var host = await RelayHost.StartAsync(Catalog, new Dictionary<string, Uri> { ["kbc"] = notification.BaseAddress, ["eye"] = notification.BaseAddress },
            new Dictionary<string, string?> { ["JobRelay:Secrets:Values:kbc-events"] = EventToken });

        await host.Services.GetRequiredService<KeboolaSubscriptions>().SubscribeAsync("report", new Uri("https://relay.example.com"), CancellationToken.None);

        Assert.Equal(
            [
                "Keboola platform kbc subscribed job-succeeded of keboola.ex-db/42 (subscription sub-1)",
                "Keboola platform kbc subscribed job-succeeded-with-warning of keboola.ex-db/42 (subscription sub-1)",
                "Keboola platform kbc subscribed job-failed of keboola.wr-db (subscription sub-1)",
            ],
            host.Logs.GetSnapshot().Where(l => l.Id.Id == 1710).Select(l => l.Message));
        Assert.All(host.Logs.GetSnapshot().Where(l => l.Id.Id == 1710), l => Assert.DoesNotContain("null", l.ToString(), StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task AChainRunsEndToEndInTheSandbox()
    {
        await using var sandbox = await SandboxPlatforms.StartAsync(new SandboxOptions { JobDuration = TimeSpan.FromMilliseconds(300) }, CancellationToken.None);
        await using var host = await RelayHost.StartAsync(Catalog, new Dictionary<string, Uri> { ["kbc"] = sandbox.KeboolaUrl, ["eye"] = sandbox.TheEyeUrl },
            new Dictionary<string, string?>
            {
                ["JobRelay:Secrets:Values:kbc-token"] = SandboxCredentials.KeboolaToken,
                ["JobRelay:Secrets:Values:eye-token"] = SandboxCredentials.TheEyeAccessToken,
                ["JobRelay:Secrets:Values:kbc-events"] = EventToken,
            });
        await host.Services.GetRequiredService<KeboolaSubscriptions>().SubscribeAsync("report", host.Client.BaseAddress!, CancellationToken.None);

        using var run = await host.PostRunAsync("load");
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (sandbox.Jobs.Count < 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.Equal(HttpStatusCode.Accepted, run.StatusCode);
        Assert.Equal(["keboola", "theeye"], sandbox.Jobs.Select(j => j.Platform));
        Assert.Equal($$"""{"task":"report","task_arguments":["{{sandbox.Jobs[0].Id}}"]}""", sandbox.Jobs[1].RequestBody);
    }
}
