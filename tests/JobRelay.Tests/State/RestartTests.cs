using System.Net;
using JobRelay.Tests.Http;
using JobRelay.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;

namespace JobRelay.Tests.State;

/// <summary>What a host keeps across a restart when its state is in the data folder.</summary>
public sealed class RestartTests : IAsyncDisposable
{
    private const string TaskKey = "task-key-value-31f1";
    private const string JobSecret = "job-secret-value-8e8e";
    private const string Job = $$"""{"id":"64f0000000000000000000c1","task_id":"deploy-task","state":"in_progress","lifecycle":"ready","secret":"{{JobSecret}}"}""";

    private const string Catalog = """
        {
          "platforms": { "eye": { "type": "theeye", "url": "http://127.0.0.1:1/", "customer": "acme" } },
          "triggers": {
            "deploy": { "platform": "eye", "theeye": { "task": "deploy-task", "auth": "secretKey", "secretKeySecret": "task-key" } },
            "hook": {
              "platform": "eye",
              "theeye": { "task": "deploy-task", "auth": "secretKey", "secretKeySecret": "task-key" },
              "webhook": { "scheme": "token", "secrets": ["hook-token"], "deliveryId": "header:X-Delivery" }
            }
          }
        }
        """;

    private readonly string _data = Directory.CreateTempSubdirectory("jobrelay-restart-").FullName;
    private LoopbackServer? _theEye;

    [Fact]
    public async Task TheEyeJobStatusByJobSecretAndDeliveryOutcomesSurviveARestart()
    {
        _theEye = await LoopbackServer.StartAsync(context => context.Request.Method == "POST"
            ? context.Response.WriteAsync(Job)
            : context.Response.WriteAsync(Job.Replace("in_progress", "success", StringComparison.Ordinal).Replace("ready", "finished", StringComparison.Ordinal)));
        var platforms = new Dictionary<string, Uri> { ["eye"] = new(_theEye.BaseAddress, "theeye/") };
        var settings = new Dictionary<string, string?> { ["JobRelay:Store:DataFolder"] = _data, ["JobRelay:Secrets:Values:task-key"] = TaskKey };

        string runId;
        string firstAnswer;
        await using (var before = await RelayHost.StartAsync(Catalog, platforms, settings))
        {
            using var started = await before.PostHookAsync("hook", "{}", ("X-JobRelay-Token", RelayHost.HookToken), ("X-Delivery", "d-1"));
            firstAnswer = await started.Content.ReadAsStringAsync();
            runId = (string)(await RelayHost.JsonAsync(started))["runId"]!;
            Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        }

        await using var after = await RelayHost.StartAsync(Catalog, platforms, settings);
        using var status = await after.GetAsync("/api/triggers/hook/jobs/64f0000000000000000000c1");
        var statusAnswer = await status.Content.ReadAsStringAsync();
        using var redelivered = await after.PostHookAsync("hook", "{}", ("X-JobRelay-Token", RelayHost.HookToken), ("X-Delivery", "d-1"));

        Assert.Equal(HttpStatusCode.OK, status.StatusCode);
        Assert.Equal("succeeded", (string?)(await RelayHost.JsonAsync(status))["state"]);
        var read = Assert.Single(_theEye.Requests, r => r.Method == "GET");
        Assert.Equal($"/theeye/job/64f0000000000000000000c1/secret/{JobSecret}/result", read.Path);
        Assert.Equal(HttpStatusCode.OK, redelivered.StatusCode);
        Assert.Equal(runId, (string?)(await RelayHost.JsonAsync(redelivered))["runId"]);
        Assert.Single(_theEye.Requests, r => r.Method == "POST");
        Assert.DoesNotContain(JobSecret, firstAnswer, StringComparison.Ordinal);
        Assert.DoesNotContain(JobSecret, statusAnswer, StringComparison.Ordinal);
        after.Logs.AssertContainsNone(JobSecret, TaskKey);
    }

    public async ValueTask DisposeAsync()
    {
        if (_theEye is not null)
        {
            await _theEye.DisposeAsync();
        }

        SqliteConnection.ClearAllPools();
        Directory.Delete(_data, recursive: true);
    }
}
