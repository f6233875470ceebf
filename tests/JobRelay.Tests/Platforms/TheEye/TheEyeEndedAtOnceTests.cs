using System.Net;
using JobRelay.Model;
using JobRelay.Platforms;
using JobRelay.State;
using JobRelay.Tests.Http;
using JobRelay.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace JobRelay.Tests.Platforms.TheEye;

/// <summary>
/// TheEye answers a start with 200 and a job it ended at once (bad arguments): the job exists, so the run is recorded
/// as started with that job, failed, and a redelivery is answered with it instead of creating a second job.
/// </summary>
public sealed class TheEyeEndedAtOnceTests : IAsyncDisposable
{
    private const string JobId = "64f0000000000000000000ee";
    private const string Catalog = """
        {
          "platforms": { "eye": { "type": "theeye", "url": "http://127.0.0.1:1/", "customer": "acme", "accessTokenSecret": "eye-token" } },
          "triggers": {
            "deploy": {
              "platform": "eye",
              "theeye": { "task": "deploy-task" },
              "webhook": { "scheme": "token", "secrets": ["hook-token"], "deliveryId": "header:X-Delivery" }
            }
          }
        }
        """;

    private readonly List<IAsyncDisposable> _owned = [];

    [Fact]
    public async Task AJobThatEndedAtOnceIsRecordedAsAFailedStartAndARedeliveryGetsItWithoutASecondJob()
    {
        var theEye = await Own(LoopbackServer.StartAsync(app => app.MapPost("/{**path}", () => Results.Text(
            $$"""{"id":"{{JobId}}","task_id":"deploy-task","state":"error","lifecycle":"terminated","output":["Invalid Task Arguments"]}""", "application/json"))));
        var host = await Own(RelayHost.StartAsync(Catalog, new Dictionary<string, Uri> { ["eye"] = theEye.BaseAddress }));

        using var first = await host.PostHookAsync("deploy", "{}", ("X-JobRelay-Token", RelayHost.HookToken), ("X-Delivery", "d-1"));
        using var redelivered = await host.PostHookAsync("deploy", "{}", ("X-JobRelay-Token", RelayHost.HookToken), ("X-Delivery", "d-1"));
        var firstBody = await RelayHost.JsonAsync(first);
        var redeliveredBody = await RelayHost.JsonAsync(redelivered);
        var run = await host.Services.GetRequiredService<IRelayStore>().FindAsync(new DeliveryKey("deploy", "d-1"), CancellationToken.None);

        var sent = Assert.Single(theEye.Requests);
        Assert.Equal("/job", sent.Path);
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal((JobId, "failed"), ((string?)firstBody["jobId"], (string?)firstBody["status"]));
        Assert.Equal(HttpStatusCode.OK, redelivered.StatusCode);
        Assert.Equal((JobId, "failed"), ((string?)redeliveredBody["jobId"], (string?)redeliveredBody["status"]));
        Assert.Equal((string?)firstBody["runId"], (string?)redeliveredBody["runId"]);
        Assert.NotNull(run);
        Assert.Equal((RunState.Started, "eye", JobId, JobState.Failed, 1), (run.State, run.Platform, run.JobId, run.JobState, run.Attempts));
        Assert.Contains("ended at once", run.Reason, StringComparison.Ordinal);
        Assert.Contains("Invalid Task Arguments", run.Reason, StringComparison.Ordinal);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var owned in Enumerable.Reverse(_owned))
        {
            await owned.DisposeAsync();
        }
    }

    private async Task<T> Own<T>(Task<T> starting)
        where T : IAsyncDisposable
    {
        var owned = await starting;
        _owned.Add(owned);
        return owned;
    }
}
