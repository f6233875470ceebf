using System.Net;
using System.Text.Json.Nodes;
using JobRelay.Tests.Http;
using JobRelay.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace JobRelay.Tests.Platforms.TheEye;

/// <summary>The platforms' HttpClient as the hosts register it: a redirect is an answer to read, never one to follow.</summary>
public sealed class PlatformRedirectTests
{
    private const string JobSecret = "job-secret-redirect-0042";
    private const string JobId = "64f0000000000000000000a1";

    private const string Catalog = """
        {
          "platforms": { "eye": { "type": "theeye", "url": "http://127.0.0.1:1/", "customer": "acme" } },
          "triggers": {
            "deploy": { "platform": "eye", "theeye": { "task": "task-1", "auth": "secretKey", "secretKeySecret": "task-key" } }
          }
        }
        """;

    [Fact]
    public async Task A303FromTheJobSecretResultRouteIsReadAsRunningAfterOneRequest()
    {
        await using var theEye = await LoopbackServer.StartAsync(app =>
        {
            app.MapPost("/job/secret/{key}", () => Results.Json(new JsonObject
            {
                ["id"] = JobId,
                ["task_id"] = "task-1",
                ["state"] = "in_progress",
                ["lifecycle"] = "ready",
                ["secret"] = JobSecret,
            }));
            app.MapGet("/job/{id}/secret/{secret}/result", (HttpContext context) =>
            {
                context.Response.Headers.Location = $"/job/{JobId}/secret/{JobSecret}/result?full&timeout=1";
                return Results.StatusCode(StatusCodes.Status303SeeOther);
            });
        });
        await using var host = await RelayHost.StartAsync(
            Catalog,
            new Dictionary<string, Uri> { ["eye"] = theEye.BaseAddress },
            new Dictionary<string, string?> { ["JobRelay:Secrets:Values:task-key"] = "task-key-value-303" });
        using var started = await host.PostRunAsync("deploy");
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);

        using var status = await host.GetAsync($"/api/triggers/deploy/jobs/{JobId}");

        Assert.Equal(HttpStatusCode.OK, status.StatusCode);
        var body = await RelayHost.JsonAsync(status);
        Assert.Equal("running", (string?)body["state"]);
        Assert.Equal(false, (bool?)body["isFinal"]);
        var read = Assert.Single(theEye.Requests, r => r.Method == "GET");
        Assert.Equal($"/job/{JobId}/secret/{JobSecret}/result", read.Path);
        Assert.Equal("?full&timeout=1", read.QueryString);
    }

    [Fact]
    public async Task ARedirectedJobStartIsNotFollowedSoTheTokenNeverReachesAnotherHost()
    {
        await using var elsewhere = await LoopbackServer.StartAsync(context => Task.CompletedTask);
        await using var keboola = await LoopbackServer.StartAsync(context =>
        {
            context.Response.StatusCode = StatusCodes.Status307TemporaryRedirect;
            context.Response.Headers.Location = new Uri(elsewhere.BaseAddress, "jobs").ToString();
            return Task.CompletedTask;
        });
        const string catalog = """
            {
              "platforms": { "kbc": { "type": "keboola", "url": "http://127.0.0.1:1/", "tokenSecret": "kbc-token" } },
              "triggers": { "load": { "platform": "kbc", "keboola": { "component": "keboola.ex-db", "config": "42" } } }
            }
            """;
        await using var host = await RelayHost.StartAsync(catalog, new Dictionary<string, Uri> { ["kbc"] = keboola.BaseAddress });

        using var response = await host.PostRunAsync("load");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var start = Assert.Single(keboola.Requests);
        Assert.Equal("POST", start.Method);
        Assert.Equal("/jobs", start.Path);
        Assert.Equal(RelayHost.KeboolaToken, start.Header("X-StorageApi-Token"));
        Assert.Empty(elsewhere.Requests);
    }
}
