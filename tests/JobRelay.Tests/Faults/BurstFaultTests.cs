using System.Collections.Concurrent;
using System.Net;
using JobRelay.Runs;
using JobRelay.Sandbox;
using JobRelay.Tests.Http;
using JobRelay.Tests.Support;
using JobRelay.Web;
using Microsoft.Extensions.DependencyInjection;

namespace JobRelay.Tests.Faults;

/// <summary>A small burst with redeliveries while the platform misbehaves: nothing is doubled, nothing is lost, and the
/// deliveries the platform refused are kept pending and started by the sweep, without the senders sending them again.</summary>
public sealed class BurstFaultTests : IAsyncLifetime
{
    private static readonly string Catalog = new CatalogBuilder().Keboola().DeliveryHook("hook").Build();

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
                ["JobRelay:Store:RetryBaseDelay"] = "00:00:00.050",
            });
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _sandbox.DisposeAsync();
    }

    [Fact]
    public async Task ABurstWithRedeliveriesAndPlatformFaultsNeverDoublesAJobAndEveryDeliveryLandsWithoutAResend()
    {
        _sandbox.InjectFault(new SandboxFault("keboola") { Status = 503, RetryAfterSeconds = 1, Count = 10 });
        _sandbox.InjectFault(new SandboxFault("keboola") { Status = 429, RetryAfterSeconds = 1, Count = 5 });
        var ids = Enumerable.Range(0, 70).Select(i => $"d-{i:D3}").ToList();
        var random = new Random(7);
        var burst = ids.Concat(Enumerable.Range(0, 30).Select(_ => ids[random.Next(ids.Count)])).OrderBy(_ => random.Next()).ToList();
        var answers = new ConcurrentBag<(HttpStatusCode Status, string? State)>();

        await Parallel.ForEachAsync(burst, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (id, _) =>
        {
            using var response = await _host.PostHookAsync("hook", "{}", ("X-JobRelay-Token", RelayHost.HookToken), ("X-Delivery", id));
            answers.Add((response.StatusCode, (string?)(await RelayHost.JsonAsync(response))["status"]));
        });
        var sweep = _host.Services.GetRequiredService<RunSweep>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (ids.Any(id => !_sandbox.Jobs.Any(j => j.RequestBody.Contains($"\"{id}\"", StringComparison.Ordinal))) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
            await sweep.SweepAsync(CancellationToken.None);
        }

        Assert.All(answers, a => Assert.True(a.Status is HttpStatusCode.Accepted or HttpStatusCode.OK, $"{a.Status} is not an acceptance"));
        Assert.Equal(15, answers.Count(a => a is { Status: HttpStatusCode.Accepted, State: "pending" }));
        Assert.All(ids, id => Assert.Single(_sandbox.Jobs, j => j.RequestBody.Contains($"\"{id}\"", StringComparison.Ordinal)));
        _host.Logs.AssertContainsNone(SandboxCredentials.KeboolaToken, RelayHost.HookToken);
    }
}
