using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using JobRelay.State;
using JobRelay.State.Sqlite;
using JobRelay.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace JobRelay.Tests.State;

/// <summary>
/// A real <c>jobrelay serve</c> process is killed with SIGKILL in the middle of a burst and started again on the same
/// data folder; every sender sends again whatever got no 2xx. Afterwards every delivery has exactly one run, in a
/// definite state, and no job was POSTed twice for one delivery.
/// </summary>
public sealed class CrashTests(Xunit.Abstractions.ITestOutputHelper output) : IAsyncDisposable
{
    private const string ApiKey = "crash-test-key";
    private const int Deliveries = 200;

    private static readonly string Catalog = new CatalogBuilder().Keboola().DeliveryHook("hook").Build();

    private readonly string _folder = Directory.CreateTempSubdirectory("jobrelay-crash-").FullName;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private LoopbackPlatforms? _platforms;
    private Process? _serve;

    [Fact]
    public async Task AServeProcessKilledMidBurstLeavesEveryDeliveryWithOneRunInADefiniteStateAndNoJobTwice()
    {
        // Slow enough that the kill lands while some starts are on the wire.
        _platforms = await LoopbackPlatforms.StartAsync(new LoopbackPlatformOptions { KeboolaStartDelay = TimeSpan.FromMilliseconds(15) });
        var catalog = Path.Combine(_folder, "triggers.json");
        await File.WriteAllTextAsync(catalog, Catalog);
        var data = Path.Combine(_folder, "data");
        var port = LoopbackServer.FreePort();
        var relay = new Uri($"http://127.0.0.1:{port}/");

        _serve = await StartServeAsync(catalog, data, relay);
        var answered = new ConcurrentDictionary<string, HttpStatusCode>();
        var killed = 0;
        var sent = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, Deliveries), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) =>
        {
            if (Interlocked.Increment(ref sent) == Deliveries / 3 && Interlocked.Exchange(ref killed, 1) == 0)
            {
                _serve.Kill();
            }

            if (await TrySendAsync(relay, $"c-{i:D3}") is { } status)
            {
                answered[$"c-{i:D3}"] = status;
            }
        });
        await _serve.WaitForExitAsync();
        var unanswered = Enumerable.Range(0, Deliveries).Select(i => $"c-{i:D3}").Where(id => !answered.TryGetValue(id, out var s) || (int)s >= 300).ToList();

        _serve = await StartServeAsync(catalog, data, relay);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        var finalAnswers = new ConcurrentDictionary<string, JsonObject>();
        while (unanswered.Count > 0 && DateTime.UtcNow < deadline)
        {
            var retried = new ConcurrentBag<string>();
            await Parallel.ForEachAsync(unanswered, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (id, ct) =>
            {
                using var content = new StringContent("{}", Encoding.UTF8, "application/json");
                using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(relay, "api/hooks/hook")) { Content = content };
                request.Headers.Add("X-JobRelay-Token", "hook-token-crash");
                request.Headers.Add("X-Delivery", id);
                using var response = await _http.SendAsync(request, ct);
                if (response.IsSuccessStatusCode)
                {
                    finalAnswers[id] = (await response.Content.ReadFromJsonAsync<JsonObject>(ct))!;
                }
                else
                {
                    retried.Add(id);
                }
            });
            unanswered = [.. retried];
            if (unanswered.Count > 0)
            {
                await Task.Delay(500);
            }
        }

        _serve.Kill();
        await _serve.WaitForExitAsync();
        SqliteConnection.ClearAllPools();
        using var store = new SqliteRelayStore(Path.Combine(data, StoreOptions.SqliteFileName), TimeProvider.System, NullLogger<SqliteRelayStore>.Instance);
        var runs = new List<RunRecord>();
        for (var i = 0; i < Deliveries; i++)
        {
            runs.Add(await store.FindAsync(new DeliveryKey("hook", $"c-{i:D3}"), CancellationToken.None)
                ?? throw new Xunit.Sdk.XunitException($"Delivery c-{i:D3} has no run."));
        }

        output.WriteLine($"answered 2xx before the kill: {answered.Count(a => (int)a.Value < 300)} of {Deliveries}; runs started: {runs.Count(r => r.State == RunState.Started)}, outcome unknown: {runs.Count(r => r.State == RunState.OutcomeUnknown)}; POSTs: {_platforms.Keboola.Requests.Count}");
        Assert.Equal(1, killed);
        Assert.Empty(unanswered);
        Assert.All(runs, run => Assert.True(run.State is RunState.Started or RunState.OutcomeUnknown, $"{run.Key} is {run.State}"));
        var posts = _platforms.Keboola.Requests.Where(r => r.Path == "/jobs").ToList();
        for (var i = 0; i < Deliveries; i++)
        {
            var id = $"c-{i:D3}";
            var count = posts.Count(p => p.Body.Contains($"\"{id}\"", StringComparison.Ordinal));
            Assert.True(count <= 1, $"Delivery {id} was POSTed {count} times.");
            if (runs[i].State == RunState.Started)
            {
                Assert.Equal(1, count);
            }
        }

        Assert.True(runs.Count(r => r.State == RunState.Started) >= Deliveries / 2, "Most deliveries should have started a job.");
    }

    public async ValueTask DisposeAsync()
    {
        if (_serve is { HasExited: false })
        {
            _serve.Kill();
            await _serve.WaitForExitAsync();
        }

        _serve?.Dispose();
        if (_platforms is not null)
        {
            await _platforms.DisposeAsync();
        }

        _http.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    private async Task<HttpStatusCode?> TrySendAsync(Uri relay, string id)
    {
        try
        {
            using var content = new StringContent("{}", Encoding.UTF8, "application/json");
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(relay, "api/hooks/hook")) { Content = content };
            request.Headers.Add("X-JobRelay-Token", "hook-token-crash");
            request.Headers.Add("X-Delivery", id);
            using var response = await _http.SendAsync(request);
            return response.StatusCode;
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    private async Task<Process> StartServeAsync(string catalog, string data, Uri relay)
    {
        var cli = CliProcess.CliAssembly;
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _folder,
        };
        foreach (var argument in new[] { cli, "serve", "--urls", relay.GetLeftPart(UriPartial.Authority), "--triggers", catalog, "--data", data, "--api-key", ApiKey })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["JobRelay__Secrets__Values__kbc-token"] = "kbc-token-crash";
        start.Environment["JobRelay__Secrets__Values__hook-token"] = "hook-token-crash";
        start.Environment["JobRelay__Catalog__PlatformUrls__kbc"] = _platforms!.Keboola.BaseAddress.ToString();
        start.Environment["JobRelay__Store__ClaimLease"] = "00:00:02";
        start.Environment["JobRelay__Store__StartLease"] = "00:00:03";
        start.Environment["JobRelay__Store__SweepInterval"] = "00:00:00.500";
        start.Environment["JobRelay__Platforms__Http__MaxRetries"] = "0";
        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var ready = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < ready)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"jobrelay serve exited with {process.ExitCode} before it listened.");
            }

            try
            {
                using var health = await _http.GetAsync(new Uri(relay, "api/health"));
                if (health.IsSuccessStatusCode)
                {
                    return process;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(200);
        }

        process.Kill();
        throw new InvalidOperationException("jobrelay serve did not answer /api/health within a minute.");
    }
}
