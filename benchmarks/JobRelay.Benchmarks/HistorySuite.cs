using System.Diagnostics;
using System.Globalization;
using System.Net;
using JobRelay.Benchmarks.OutOfProcess;
using JobRelay.Http;
using JobRelay.Model;
using JobRelay.Platforms;
using JobRelay.State;
using JobRelay.State.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace JobRelay.Benchmarks;

/// <summary>
/// <c>-- history [--runs N] [--requests M]</c>: fills a SQLite store in a temporary data folder with N runs over a few
/// triggers (webhook and schedule runs that started a job, chained followers with their parent run, refused deliveries
/// without a job), starts <c>jobrelay serve</c> on that folder, and times the history's reads over loopback, one request
/// at a time: the first page of <c>GET /api/runs</c>, one trigger's first page, one run without a job (no platform call)
/// and the dashboard page. Reports p50/p95/p99 and whether the first page's p95 is under 100 ms.
/// </summary>
internal static class HistorySuite
{
    private const string ApiKey = "bench-history-key";
    private const double FirstPageTargetMs = 100;
    private static readonly string[] Triggers = ["orders-webhook", "nightly-load", "report-build", "inbound-hook"];

    public static async Task<int> RunAsync(string[] args)
    {
        using var stopping = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stopping.Cancel();
        };
        var cancellationToken = stopping.Token;
        var runs = Number(args, "--runs", 10_000);
        var requests = Number(args, "--requests", 200);
        var repository = OutOfProcessSuite.RepositoryRoot();
        var cli = Path.Combine(repository, "src", "JobRelay.Cli", "bin", "Release", "net10.0", "JobRelay.Cli.dll");
        if (!File.Exists(cli))
        {
            Console.Error.WriteLine($"Build the CLI first: dotnet build -c Release src/JobRelay.Cli ({cli} is missing).");
            return 2;
        }

        var work = Directory.CreateTempSubdirectory("jobrelay-history-").FullName;
        var data = Path.Combine(work, "data");
        Directory.CreateDirectory(data);
        var clock = Stopwatch.StartNew();
        var detailRunId = await FillAsync(Path.Combine(data, StoreOptions.SqliteFileName), runs, cancellationToken);
        Console.WriteLine($"# History reads: {runs:N0} runs in SQLite (filled in {clock.Elapsed.TotalSeconds:0.0} s), {requests} timed requests each, one at a time, {Environment.ProcessorCount} cores, .NET {Environment.Version}");
        Console.WriteLine();

        var catalog = await WriteCatalogAsync(work, cancellationToken);
        var environment = new Dictionary<string, string>
        {
            ["JobRelay__Secrets__Values__kbc_token"] = "bench-history-kbc-token",
            ["JobRelay__Secrets__Values__hook_token"] = "bench-history-hook-token",
            ["JobRelay__KeyVault__VaultUri"] = string.Empty,
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = string.Empty,
        };
        await using var serve = await ServerProcess.StartAsync("jobrelay-history", cli, ["serve", "--triggers", catalog, "--api-key", ApiKey, "--data", data], work, environment, "/api/health");

        using var client = new HttpClient(new SocketsHttpHandler { AutomaticDecompression = DecompressionMethods.None }) { BaseAddress = serve.Address, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Add(RelayEndpoints.ApiKeyHeader, ApiKey);
        var routes = new (string Name, string Path)[]
        {
            ("GET /api/runs (first page, limit 50)", "api/runs"),
            ($"GET /api/runs?trigger={Triggers[0]}", $"api/runs?trigger={Triggers[0]}"),
            ("GET /api/runs/{id} (run without a job)", "api/runs/" + Uri.EscapeDataString(detailRunId)),
            ("GET /dashboard", "dashboard"),
        };

        var warmUp = Math.Max(20, requests / 10);
        foreach (var (_, path) in routes)
        {
            for (var i = 0; i < warmUp; i++)
            {
                await TimeAsync(client, path, cancellationToken);
            }
        }

        var timings = routes.ToDictionary(r => r.Path, _ => new List<double>(requests));
        for (var i = 0; i < requests; i++)
        {
            foreach (var (_, path) in routes)
            {
                timings[path].Add(await TimeAsync(client, path, cancellationToken));
            }
        }

        Console.WriteLine("| request | p50 ms | p95 ms | p99 ms | max ms |");
        Console.WriteLine("|---|---|---|---|---|");
        foreach (var (name, path) in routes)
        {
            var sorted = timings[path].Order().ToArray();
            Console.WriteLine($"| {name} | {Percentile(sorted, 50):0.00} | {Percentile(sorted, 95):0.00} | {Percentile(sorted, 99):0.00} | {sorted[^1]:0.00} |");
        }

        var firstPage = Percentile(timings[routes[0].Path].Order().ToArray(), 95);
        Console.WriteLine();
        Console.WriteLine($"First page p95 {firstPage:0.00} ms with {runs:N0} runs: {(firstPage < FirstPageTargetMs ? "under" : "NOT under")} the {FirstPageTargetMs:0} ms target.");
        Console.WriteLine($"- serve's log and the store: {work}");
        return firstPage < FirstPageTargetMs ? 0 : 1;
    }

    /// <summary>Writes the runs through the store's own claim, calling and settle steps; returns a run that has no job.</summary>
    private static async Task<string> FillAsync(string file, int runs, CancellationToken cancellationToken)
    {
        using var store = new SqliteRelayStore(file, TimeProvider.System, NullLogger<SqliteRelayStore>.Instance);
        var detail = -1;
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(
            async () =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < runs)
                {
                    var trigger = Triggers[i % Triggers.Length];
                    var runId = RunId(i);
                    NewRun run = (i % Triggers.Length) switch
                    {
                        0 => new NewRun(new DeliveryKey(trigger, $"delivery-{i}"), runId, trigger, "webhook", $$"""{"order":"o{{i}}"}"""),
                        1 => new NewRun(new RequestKey(runId), runId, trigger, "schedule", "{}"),
                        2 => new NewRun(new ChainEventKey("kbc", JobId(i - 1), trigger), runId, trigger, "chain", "{}") { ParentRunId = RunId(i - 1) },
                        _ => new NewRun(new DeliveryKey(trigger, $"delivery-{i}"), runId, trigger, "webhook", "{}"),
                    };
                    var claimed = await store.ClaimAsync(run, TimeSpan.FromSeconds(30), cancellationToken);
                    if (i % Triggers.Length == 3)
                    {
                        await store.SettleAsync(claimed.Lease!, RunSettlement.Refused("The delivery's token did not match."), cancellationToken);
                        if (i >= runs / 2)
                        {
                            Interlocked.CompareExchange(ref detail, i, -1);
                        }

                        continue;
                    }

                    var lease = await store.BeginStartAsync(claimed.Lease!, TimeSpan.FromMinutes(5), cancellationToken);
                    await store.SettleAsync(lease!, RunSettlement.Started("kbc", new JobStatus(JobId(i), JobState.Queued, "created", false), null), cancellationToken);
                }
            },
            cancellationToken)));
        return RunId(detail >= 0 ? detail : 3);
    }

    private static string RunId(int i) => $"run-{i:D6}";

    private static string JobId(int i) => (1_000_000 + i).ToString(CultureInfo.InvariantCulture);

    private static async Task<double> TimeAsync(HttpClient client, string path, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        using var response = await client.GetAsync(path, HttpCompletionOption.ResponseContentRead, cancellationToken);
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"GET /{path} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }

        return elapsed;
    }

    private static double Percentile(double[] sorted, double percent)
        => sorted[Math.Clamp((int)Math.Ceiling(percent / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];

    private static int Number(string[] args, string name, int fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
    }

    private static async Task<string> WriteCatalogAsync(string folder, CancellationToken cancellationToken)
    {
        var path = Path.Combine(folder, "history.triggers.json");
        await File.WriteAllTextAsync(path, """
            {
              "platforms": { "kbc": { "type": "keboola", "url": "http://127.0.0.1:1/", "tokenSecret": "kbc-token" } },
              "triggers": {
                "orders-webhook": {
                  "platform": "kbc",
                  "keboola": { "component": "keboola.orchestrator", "config": "1" },
                  "webhook": { "scheme": "token", "secrets": ["hook-token"] }
                },
                "nightly-load": { "platform": "kbc", "keboola": { "component": "keboola.orchestrator", "config": "2" } },
                "report-build": { "platform": "kbc", "keboola": { "component": "keboola.orchestrator", "config": "3" } },
                "inbound-hook": {
                  "platform": "kbc",
                  "keboola": { "component": "keboola.orchestrator", "config": "4" },
                  "webhook": { "scheme": "token", "secrets": ["hook-token"] }
                }
              }
            }
            """, cancellationToken);
        return path;
    }
}
