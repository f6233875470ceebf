using System.Collections.Concurrent;
using System.Net;
using System.Text;
using JobRelay.Http;
using JobRelay.Runs;
using JobRelay.Sandbox;
using JobRelay.Scheduling;
using JobRelay.Tests.Http;
using JobRelay.Web;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace JobRelay.Tests.State;

/// <summary>
/// Two hosts, each with its own service provider and HTTP server, share one store, as two instances of the
/// Functions app or two <c>serve</c> processes do: deliveries, schedule occurrences and chain events that reach both
/// still start each job once. The Keboola emulator counts the jobs.
/// </summary>
public abstract class TwoInstanceContract : IAsyncLifetime
{
    private const string EventToken = "kbc-event-token-9d9d";

    private const string Catalog = """
        {
          "platforms": { "kbc": { "type": "keboola", "url": "http://127.0.0.1:1/", "tokenSecret": "kbc-token", "eventSecret": "kbc-events" } },
          "triggers": {
            "hook": {
              "platform": "kbc",
              "arguments": { "delivery": { "from": "header:X-Delivery", "required": true } },
              "keboola": { "component": "keboola.ex-db", "config": "1", "variables": { "delivery": "{{delivery}}" } },
              "webhook": { "scheme": "token", "secrets": ["hook-token"], "deliveryId": "header:X-Delivery" }
            },
            "tick": {
              "platform": "kbc",
              "keboola": { "component": "keboola.ex-tick", "config": "2" },
              "schedule": { "cron": "0 * * * * *", "timeZone": "UTC" }
            },
            "follow": {
              "platform": "kbc",
              "arguments": { "source": { "from": "event:$.job.id", "required": true } },
              "keboola": { "component": "keboola.wr-follow", "config": "3", "variables": { "source": "{{source}}" } },
              "after": [{ "platform": "kbc", "component": "keboola.ex-upstream" }]
            },
            "also-follow": {
              "platform": "kbc",
              "keboola": { "component": "keboola.wr-also", "config": "4" },
              "after": [{ "platform": "kbc", "component": "keboola.ex-upstream" }]
            }
          }
        }
        """;

    private SandboxPlatforms _sandbox = null!;
    private RelayHost _first = null!;
    private RelayHost _second = null!;

    /// <summary>The store settings both hosts share.</summary>
    protected abstract IReadOnlyDictionary<string, string?> StoreSettings();

    public async Task InitializeAsync()
    {
        _sandbox = await SandboxPlatforms.StartAsync(new SandboxOptions(), CancellationToken.None);
        var settings = new Dictionary<string, string?>(StoreSettings())
        {
            ["JobRelay:Secrets:Values:kbc-token"] = SandboxCredentials.KeboolaToken,
            ["JobRelay:Secrets:Values:kbc-events"] = EventToken,
        };
        var platforms = new Dictionary<string, Uri> { ["kbc"] = _sandbox.KeboolaUrl };
        _first = await RelayHost.StartAsync(Catalog, platforms, settings);
        _second = await RelayHost.StartAsync(Catalog, platforms, settings);
    }

    public virtual async Task DisposeAsync()
    {
        await _first.DisposeAsync();
        await _second.DisposeAsync();
        await _sandbox.DisposeAsync();
    }

    [Fact]
    public async Task FiftyConcurrentIdenticalDeliveriesSplitAcrossBothHostsStartExactlyOneJob()
    {
        var answers = new ConcurrentBag<(HttpStatusCode Status, string? RunId)>();

        await Parallel.ForEachAsync(Enumerable.Range(0, 50), new ParallelOptions { MaxDegreeOfParallelism = 50 }, async (i, _) =>
        {
            using var response = await (i % 2 == 0 ? _first : _second).PostHookAsync("hook", "{}", ("X-JobRelay-Token", RelayHost.HookToken), ("X-Delivery", "same-1"));
            answers.Add((response.StatusCode, (string?)(await RelayHost.JsonAsync(response))["runId"]));
        });

        Assert.Single(_sandbox.Jobs, j => j.RequestBody.Contains("\"same-1\"", StringComparison.Ordinal));
        Assert.Single(answers, a => a.Status == HttpStatusCode.Accepted);
        Assert.Equal(49, answers.Count(a => a.Status == HttpStatusCode.OK));
        Assert.Single(answers.Select(a => a.RunId).Distinct());
        Assert.NotNull(answers.First().RunId);
    }

    [Fact]
    public async Task AThousandDeliveriesWithThreeHundredRedeliveriesSpreadOverBothHostsStartExactlySevenHundredJobs()
    {
        var random = new Random(12);
        var ids = Enumerable.Range(0, 700).Select(i => $"d-{i:D4}").ToList();
        var deliveries = ids.Concat(Enumerable.Range(0, 300).Select(_ => ids[random.Next(ids.Count)]))
            .Select(id => (Id: id, Host: random.Next(2) == 0 ? _first : _second))
            .OrderBy(_ => random.Next())
            .ToList();
        var statuses = new ConcurrentBag<HttpStatusCode>();

        await Parallel.ForEachAsync(deliveries, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (delivery, _) =>
        {
            using var response = await delivery.Host.PostHookAsync("hook", "{}", ("X-JobRelay-Token", RelayHost.HookToken), ("X-Delivery", delivery.Id));
            statuses.Add(response.StatusCode);
        });

        var jobs = _sandbox.Jobs.Where(j => j.RequestBody.Contains("keboola.ex-db", StringComparison.Ordinal)).ToList();
        Assert.Equal(700, jobs.Count);
        Assert.Equal(700, ids.Count(id => jobs.Count(j => j.RequestBody.Contains($"\"{id}\"", StringComparison.Ordinal)) == 1));
        Assert.Equal(700, statuses.Count(s => s == HttpStatusCode.Accepted));
        Assert.Equal(300, statuses.Count(s => s == HttpStatusCode.OK));
    }

    [Fact]
    public async Task AScheduleWindowDispatchedByBothHostsFiresEachOccurrenceOnce()
    {
        var to = new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
        var from = to - TimeSpan.FromMinutes(5);

        var reports = await Task.WhenAll(new[] { _first, _second }.Select(host =>
        {
            var target = host.Services.GetRequiredService<IScheduleTarget>();
            return host.Services.GetRequiredService<ScheduleDispatcher>().DispatchAsync(target.GetScheduledTriggers(), from, to, target.StartAsync, CancellationToken.None);
        }));

        Assert.Equal(5, _sandbox.Jobs.Count(j => j.RequestBody.Contains("keboola.ex-tick", StringComparison.Ordinal)));
        Assert.All(reports, r => Assert.Equal(0, r.Failed));
    }

    [Fact]
    public async Task AQueuedApiRunIsAnsweredPendingAndStartedOnceWhenBothHostsSweep()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/triggers/tick/runs?mode=queue");
        request.Headers.Add(RelayEndpoints.ApiKeyHeader, RelayHost.ApiKey);

        using var queued = await _first.Client.SendAsync(request);
        var answer = await RelayHost.JsonAsync(queued);

        Assert.Equal(HttpStatusCode.Accepted, queued.StatusCode);
        Assert.Equal("pending", (string?)answer["status"]);
        Assert.Equal("tick", (string?)answer["trigger"]);
        var runId = (string?)answer["runId"];
        Assert.False(string.IsNullOrEmpty(runId));
        Assert.Equal($"/api/triggers/tick/runs/{runId}", queued.Headers.Location?.OriginalString);
        Assert.DoesNotContain(_sandbox.Jobs, j => j.RequestBody.Contains("keboola.ex-tick", StringComparison.Ordinal));

        using var beforeSweep = await _second.GetAsync($"/api/triggers/tick/runs/{runId}");
        Assert.Equal(HttpStatusCode.OK, beforeSweep.StatusCode);
        Assert.Equal("pending", (string?)(await RelayHost.JsonAsync(beforeSweep))["status"]);

        var reports = await Task.WhenAll(new[] { _first, _second, _first, _second }.Select(host =>
            host.Services.GetRequiredService<RunSweep>().SweepAsync(CancellationToken.None)));

        var job = Assert.Single(_sandbox.Jobs, j => j.RequestBody.Contains("keboola.ex-tick", StringComparison.Ordinal));
        Assert.Equal(1, reports.Sum(r => r.Started));
        using var afterSweep = await _second.GetAsync($"/api/triggers/tick/runs/{runId}");
        var run = await RelayHost.JsonAsync(afterSweep);
        Assert.Equal(HttpStatusCode.OK, afterSweep.StatusCode);
        Assert.Equal(runId, (string?)run["runId"]);
        Assert.Equal(job.Id, (string?)run["jobId"]);
        Assert.Equal("kbc", (string?)run["platform"]);

        using var otherTrigger = await _first.GetAsync($"/api/triggers/hook/runs/{runId}");
        Assert.Equal(HttpStatusCode.NotFound, otherTrigger.StatusCode);
    }

    [Fact]
    public async Task AChainEventDeliveredToBothHostsStartsEachFollowerOnce()
    {
        var body = """{"job":{"id":"9001","component":{"id":"keboola.ex-upstream"},"configuration":{"id":"5"}},"eventType":"job-succeeded"}""";

        var answers = await Task.WhenAll(Enumerable.Range(0, 10).Select(async i =>
        {
            using var content = new StringContent(body, Encoding.UTF8, "application/json");
            using var response = await (i % 2 == 0 ? _first : _second).Client.PostAsync(new Uri($"/api/events/kbc?token={EventToken}", UriKind.Relative), content);
            return response.StatusCode;
        }));

        Assert.All(answers, s => Assert.Equal(HttpStatusCode.Accepted, s));
        var follow = Assert.Single(_sandbox.Jobs, j => j.RequestBody.Contains("keboola.wr-follow", StringComparison.Ordinal));
        Assert.Contains("\"9001\"", follow.RequestBody, StringComparison.Ordinal);
        Assert.Single(_sandbox.Jobs, j => j.RequestBody.Contains("keboola.wr-also", StringComparison.Ordinal));
    }
}

/// <summary>Two hosts on one SQLite file, as two <c>serve</c> processes on one machine.</summary>
public sealed class TwoInstancesOnSqliteTests : TwoInstanceContract
{
    private readonly string _folder = Directory.CreateTempSubdirectory("jobrelay-shared-").FullName;

    protected override IReadOnlyDictionary<string, string?> StoreSettings() => new Dictionary<string, string?>
    {
        ["JobRelay:Store:Kind"] = "sqlite",
        ["JobRelay:Store:DataFolder"] = _folder,
    };

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }
}

/// <summary>Two hosts on one Table Storage account, as two instances of the Functions app.</summary>
[Collection(AzuriteGroup.Name)]
public sealed class TwoInstancesOnAzureTablesTests(AzuriteFixture azurite) : TwoInstanceContract
{
    private readonly string _table = "shared" + Guid.NewGuid().ToString("n")[..16];

    protected override IReadOnlyDictionary<string, string?> StoreSettings() => new Dictionary<string, string?>
    {
        ["JobRelay:Store:Kind"] = "tables",
        ["JobRelay:Store:TableConnectionString"] = azurite.ConnectionString,
        ["JobRelay:Store:TableName"] = _table,
    };
}
