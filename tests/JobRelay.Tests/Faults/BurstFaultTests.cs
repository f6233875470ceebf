using System.Collections.Concurrent;
using System.Net;
using JobRelay.Sandbox;
using JobRelay.Tests.Http;

namespace JobRelay.Tests.Faults;

/// <summary>A small burst with redeliveries while the platform misbehaves: nothing is doubled, nothing is lost.</summary>
public sealed class BurstFaultTests : IAsyncLifetime
{
    private const string Catalog = """
        {
          "platforms": { "kbc": { "type": "keboola", "url": "http://127.0.0.1:1/", "tokenSecret": "kbc-token" } },
          "triggers": {
            "hook": {
              "platform": "kbc",
              "arguments": { "delivery": { "from": "header:X-Delivery", "required": true } },
              "keboola": { "component": "keboola.ex-db", "config": "1", "variables": { "delivery": "{{delivery}}" } },
              "webhook": { "scheme": "token", "secrets": ["hook-token"], "deliveryId": "header:X-Delivery" }
            }
          }
        }
        """;

    private SandboxPlatforms _sandbox = null!;
    private RelayHost _host = null!;

    public async Task InitializeAsync()
    {
        _sandbox = await SandboxPlatforms.StartAsync(new SandboxOptions(), CancellationToken.None);
        _host = await RelayHost.StartAsync(
            Catalog,
            new Dictionary<string, Uri> { ["kbc"] = _sandbox.KeboolaUrl },
            new Dictionary<string, string?>
            {
                ["JobRelay:Secrets:Values:kbc-token"] = SandboxCredentials.KeboolaToken,
                ["JobRelay:Platforms:Http:MaxRetries"] = "0",
            });
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _sandbox.DisposeAsync();
    }

    [Fact]
    public async Task A_burst_with_redeliveries_and_platform_faults_never_doubles_a_job_and_every_retried_delivery_lands()
    {
        _sandbox.InjectFault(new SandboxFault("keboola") { Status = 503, RetryAfterSeconds = 1, Count = 10 });
        _sandbox.InjectFault(new SandboxFault("keboola") { Status = 429, RetryAfterSeconds = 1, Count = 5 });
        var ids = Enumerable.Range(0, 70).Select(i => $"d-{i:D3}").ToList();
        var random = new Random(7);
        var burst = ids.Concat(Enumerable.Range(0, 30).Select(_ => ids[random.Next(ids.Count)])).OrderBy(_ => random.Next()).ToList();
        var answers = new ConcurrentDictionary<string, ConcurrentBag<HttpStatusCode>>();

        async Task SendAsync(string id)
        {
            using var response = await _host.PostHookAsync("hook", "{}", ("X-JobRelay-Token", RelayHost.HookToken), ("X-Delivery", id));
            answers.GetOrAdd(id, _ => []).Add(response.StatusCode);
        }

        await Parallel.ForEachAsync(burst, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (id, _) => await SendAsync(id));
        var refusals = answers.Values.SelectMany(a => a).Where(s => s is not (HttpStatusCode.Accepted or HttpStatusCode.OK)).ToList();
        foreach (var id in answers.Where(a => !a.Value.Any(s => s is HttpStatusCode.Accepted or HttpStatusCode.OK)).Select(a => a.Key).ToList())
        {
            await SendAsync(id);
        }

        Assert.NotEmpty(refusals);
        Assert.All(refusals, s => Assert.True(s is HttpStatusCode.ServiceUnavailable or HttpStatusCode.TooManyRequests, $"{s} is not a status senders retry on"));
        Assert.All(ids, id => Assert.Single(_sandbox.Jobs, j => j.RequestBody.Contains($"\"{id}\"", StringComparison.Ordinal)));
        _host.Logs.AssertContainsNone(SandboxCredentials.KeboolaToken, RelayHost.HookToken);
    }
}
