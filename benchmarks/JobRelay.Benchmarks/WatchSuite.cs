using System.Diagnostics;
using System.Globalization;
using System.Net;
using JobRelay.Model;
using JobRelay.Platforms;
using JobRelay.Runs;
using JobRelay.Scheduling;
using JobRelay.Secrets;
using JobRelay.State;
using JobRelay.State.Sqlite;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace JobRelay.Benchmarks;

/// <summary>
/// <c>-- watch [--jobs N] [--minutes M] [--tick S] [--ending P] [--set Key=Value]…</c>: N running Keboola jobs, each
/// with a watch in a SQLite store on disk, followed by the engine's own tick (<see cref="SchedulerHeartbeat"/> and
/// <see cref="RunSweep"/>, as <c>jobrelay serve</c>'s loop runs them) against a loopback Keboola on Kestrel that answers
/// <c>GET /jobs/{id}</c>: <c>processing</c>, or <c>success</c> once a job's set end time has passed (P % of the jobs end
/// during the window). The clock the engine sees moves by one tick interval before each tick, so M minutes of ticks run
/// back to back; every duration reported is real time. Reports platform reads per tick and per job per poll interval,
/// the tick's duration (median, p99), the due watches a tick left behind, and the store operations per watch check, with
/// the tick's duration against a baseline measured in the same run: the same number of status reads sent by a bare
/// <see cref="HttpClient"/> at the watch's parallelism, nothing stored.
/// </summary>
internal static class WatchSuite
{
    private const string KeboolaToken = "bench-watch-kbc-token-3c3c";
    private const string Trigger = "watched";
    private const long FirstJobId = 1_000_000;

    /// <summary>The watch's default polling policy: first read after 10 s, doubling to 60 s.</summary>
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(60);

    public static async Task<int> RunAsync(string[] args)
    {
        var jobs = Number(args, "--jobs", 10_000);
        var minutes = Number(args, "--minutes", 10);
        var tick = TimeSpan.FromSeconds(Number(args, "--tick", 10));
        var endingPercent = Number(args, "--ending", 10);
        var settings = Settings(args);
        var work = Directory.CreateTempSubdirectory("jobrelay-watch-").FullName;

        var start = new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);
        var clock = new VirtualClock(start);
        var warmUp = PollInterval;
        var window = TimeSpan.FromMinutes(minutes);
        var measureFrom = start + warmUp;
        await using var keboola = await LoopbackKeboola.StartAsync(clock, jobs, endingPercent, measureFrom, window);

        var configuration = new Dictionary<string, string?>
        {
            ["JobRelay:Catalog:Path"] = await WriteCatalogAsync(work),
            ["JobRelay:Catalog:PlatformUrls:kbc"] = keboola.Address.ToString(),
            ["JobRelay:Store:DataFolder"] = Path.Combine(work, "data"),
            ["JobRelay:Store:SweepInterval"] = tick.ToString("c", CultureInfo.InvariantCulture),
        };
        foreach (var (key, value) in settings)
        {
            configuration[key] = value;
        }

        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(clock);
        services.AddSingleton<ISecretSource>(new CountingSecretSource(new Dictionary<string, string> { ["kbc-token"] = KeboolaToken }));
        services.AddJobRelay(new ConfigurationBuilder().AddInMemoryCollection(configuration).Build());
        services.Configure<SchedulerHeartbeatOptions>(o =>
        {
            o.Host = "serve";
            o.Interval = tick;
        });
        CountingRelayStore.Decorate(services);
        ReportingWatch.Decorate(services);
        await using var provider = services.BuildServiceProvider();
        var store = (CountingRelayStore)provider.GetRequiredService<IRelayStore>();
        var sqlite = (SqliteRelayStore)store.Inner;
        var watch = (ReportingWatch)provider.GetRequiredService<IJobWatch>();
        var sweep = provider.GetRequiredService<RunSweep>();
        var heartbeat = provider.GetRequiredService<SchedulerHeartbeat>();
        var options = provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<WatchOptions>>().Value;

        var filling = Stopwatch.StartNew();
        await FillAsync(sqlite, jobs, Trigger, start, CancellationToken.None);
        Console.WriteLine($"# The watch at {jobs:N0} running jobs: SQLite on disk ({sqlite.Path}), filled in {filling.Elapsed.TotalSeconds:0.0} s; {Environment.ProcessorCount} cores, .NET {Environment.Version}");
        Console.WriteLine($"Tick every {tick.TotalSeconds:0} s (engine clock), {minutes} minutes measured after {warmUp.TotalSeconds:0} s of warm-up ticks; poll interval {PollInterval.TotalSeconds:0} s (first read 10 s, doubling); watch batch {options.BatchSize}, parallelism {options.Parallelism}; {endingPercent} % of the jobs end during the window.");
        Console.WriteLine();

        while (clock.GetUtcNow() < measureFrom)
        {
            clock.Advance(tick);
            await heartbeat.RecordTickAsync(CancellationToken.None);
            await sweep.SweepAsync(CancellationToken.None);
        }

        var ticks = new List<TickFigures>();
        var operationsBefore = store.Operations();
        var (readsBefore, writesBefore) = (store.Reads, store.Writes);
        var (commitsBefore, committedBefore) = (sqlite.Commits, sqlite.CommittedWrites);
        var platformBefore = keboola.Reads;
        var measureEnd = measureFrom + window;
        while (clock.GetUtcNow() < measureEnd)
        {
            clock.Advance(tick);
            var now = clock.GetUtcNow();
            var dueBefore = (await sqlite.ListWatchesDueAsync(now, 100_000, CancellationToken.None)).Count;
            var platform = keboola.Reads;
            watch.Last = null;
            var (pauses, collections) = (GC.GetTotalPauseDuration(), GC.CollectionCount(2));
            var began = Stopwatch.GetTimestamp();
            await heartbeat.RecordTickAsync(CancellationToken.None);
            await sweep.SweepAsync(CancellationToken.None);
            var duration = Stopwatch.GetElapsedTime(began);
            var left = (await sqlite.ListWatchesDueAsync(now, 100_000, CancellationToken.None)).Count;
            ticks.Add(new TickFigures(duration, dueBefore, watch.Last?.Checked ?? 0, keboola.Reads - platform, left, watch.Last?.Ended ?? 0, GC.GetTotalPauseDuration() - pauses, GC.CollectionCount(2) - collections, LoadAverage()));
        }

        var platformReads = keboola.Reads - platformBefore;
        var checks = ticks.Sum(t => t.Checked);
        var operations = store.Operations();
        var watching = await CountWatchingAsync(sqlite.Path);

        // The floor: the same number of status reads, from a bare client at the watch's parallelism, nothing stored.
        var perTick = (int)Math.Round(ticks.Average(t => t.PlatformReads));
        var bare = new List<TimeSpan>();
        for (var i = 0; i < 7; i++)
        {
            bare.Add(await BareReadsAsync(keboola.Address, perTick, options.Parallelism, jobs));
        }

        var durations = ticks.Select(t => t.Duration.TotalMilliseconds).Order().ToArray();
        var bareMs = bare.Select(b => b.TotalMilliseconds).Order().ToArray();
        var (p50, p99, max) = (Percentile(durations, 50), Percentile(durations, 99), durations[^1]);
        var intervals = window / PollInterval;
        var readsPerJobPerInterval = platformReads / ((double)jobs * intervals);

        Console.WriteLine($"## {ticks.Count} ticks over {minutes} minutes");
        Console.WriteLine();
        Console.WriteLine("| figure | value |");
        Console.WriteLine("|---|---|");
        Console.WriteLine($"| watches due at a tick (median, max) | {Median(ticks.Select(t => (double)t.DueBefore)):N0}, {ticks.Max(t => t.DueBefore):N0} |");
        Console.WriteLine($"| watches checked per tick (median, max) | {Median(ticks.Select(t => (double)t.Checked)):N0}, {ticks.Max(t => t.Checked):N0} |");
        Console.WriteLine($"| platform reads per tick (median, max) | {Median(ticks.Select(t => (double)t.PlatformReads)):N0}, {ticks.Max(t => t.PlatformReads):N0} |");
        Console.WriteLine($"| due watches a tick left for the next (median, max) | {Median(ticks.Select(t => (double)t.Left)):N0}, {ticks.Max(t => t.Left):N0} |");
        Console.WriteLine($"| platform reads in the window | {platformReads:N0} ({platformReads / window.TotalSeconds:N0}/s) for {jobs:N0} jobs over {intervals:0} poll intervals |");
        Console.WriteLine($"| reads per job per poll interval | {readsPerJobPerInterval:0.00} (1.00 would be every job read once every {PollInterval.TotalSeconds:0} s) |");
        Console.WriteLine($"| jobs found ended in the window | {ticks.Sum(t => t.Ended):N0}; still watched at the end: {watching:N0} |");
        Console.WriteLine($"| tick duration, ms: median / p99 / max | {p50:0} / {p99:0} / {max:0} |");
        Console.WriteLine($"| baseline: the same {perTick:N0} reads from a bare client at parallelism {options.Parallelism}, ms (median of 7) | {Median(bareMs):0} |");
        Console.WriteLine($"| tick / baseline (median) | {p50 / Median(bareMs):0.00} |");
        Console.WriteLine($"| GC pause per tick, ms (median, max) | {Median(ticks.Select(t => t.GcPause.TotalMilliseconds)):0}, {ticks.Max(t => t.GcPause.TotalMilliseconds):0} |");
        Console.WriteLine();
        Console.WriteLine("Slowest ticks (the p99 is the slowest of fewer than 100):");
        Console.WriteLine();
        Console.WriteLine("| tick | ms | checked | ended | GC pause ms | gen 2 collections | load average (1 min) |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        foreach (var (t, index) in ticks.Select((t, index) => (t, index)).OrderByDescending(x => x.t.Duration).Take(3))
        {
            Console.WriteLine($"| {index + 1} of {ticks.Count} | {t.Duration.TotalMilliseconds:0} | {t.Checked:N0} | {t.Ended:N0} | {t.GcPause.TotalMilliseconds:0} | {t.Gen2Collections} | {t.Load} |");
        }

        Console.WriteLine();

        Console.WriteLine("## Store operations (counted at the store's interface)");
        Console.WriteLine();
        Console.WriteLine("| operation | calls | per watch check | per tick |");
        Console.WriteLine("|---|---|---|---|");
        foreach (var (name, count) in operations.OrderBy(o => o.Key, StringComparer.Ordinal))
        {
            var calls = count - operationsBefore.GetValueOrDefault(name);
            if (calls > 0)
            {
                Console.WriteLine($"| {name} | {calls:N0} | {(double)calls / Math.Max(1, checks):0.000} | {(double)calls / ticks.Count:0.0} |");
            }
        }

        var (reads, writes) = (store.Reads - readsBefore, store.Writes - writesBefore);
        Console.WriteLine($"| **all: reads / writes** | {reads:N0} / {writes:N0} | **{(double)reads / Math.Max(1, checks):0.000} / {(double)writes / Math.Max(1, checks):0.000}** | {(double)reads / ticks.Count:0.0} / {(double)writes / ticks.Count:0.0} |");
        var commits = sqlite.Commits - commitsBefore;
        Console.WriteLine();
        Console.WriteLine($"SQLite group commit: {sqlite.CommittedWrites - committedBefore:N0} writes in {commits:N0} transactions ({(double)(sqlite.CommittedWrites - committedBefore) / Math.Max(1, commits):0.0} writes per commit).");
        Console.WriteLine();

        Console.WriteLine("## Targets");
        Console.WriteLine();
        Console.WriteLine("| target | measured | met |");
        Console.WriteLine("|---|---|---|");
        Console.WriteLine($"| ≤ 1 platform read per job per poll interval | {readsPerJobPerInterval:0.00} | {(readsPerJobPerInterval <= 1.0 ? "yes" : "NO")} |");
        Console.WriteLine($"| every due watch checked in its tick (none left for the next) | {ticks.Max(t => t.Left):N0} left at most | {(ticks.Max(t => t.Left) == 0 ? "yes" : "NO")} |");
        Console.WriteLine($"| tick ≤ 1 s at {jobs:N0} watches, SQLite on disk (median; p99) | {p50 / 1000:0.00} s; {p99 / 1000:0.00} s | {(p50 <= 1000 ? "yes" : "NO")}; {(p99 <= 1000 ? "yes" : "NO")} |");
        Console.WriteLine();
        Console.WriteLine($"- The store and the catalog: {work}");
        return 0;
    }

    /// <summary>
    /// N runs of <paramref name="trigger"/> that started a Keboola job (ids from 1,000,000), through the store's own
    /// claim, calling and settle steps, each with its watch armed; first reads spread over one poll interval from
    /// <paramref name="start"/>, and each read once per poll interval after it.
    /// </summary>
    internal static async Task FillAsync(SqliteRelayStore store, int jobs, string trigger, DateTimeOffset start, CancellationToken cancellationToken)
    {
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(
            async () =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < jobs)
                {
                    var runId = $"run-{i:D6}";
                    var claimed = await store.ClaimAsync(new NewRun(new RequestKey(runId), runId, trigger, "schedule", "{}"), TimeSpan.FromSeconds(30), cancellationToken);
                    var lease = await store.BeginStartAsync(claimed.Lease!, TimeSpan.FromMinutes(5), cancellationToken);
                    var firstRead = start + TimeSpan.FromTicks(PollInterval.Ticks * i / jobs);
                    await store.SettleAsync(lease!, RunSettlement.Started("kbc", new JobStatus(JobId(i), JobState.Running, "processing", false), null) with { WatchNextAt = firstRead }, cancellationToken);
                }
            },
            cancellationToken)));
        await PastBackOffAsync(store.Path, cancellationToken);
    }

    /// <summary>
    /// Marks every watch as read three times already, so each is read once per poll interval from the first tick on, as
    /// jobs that have run for a minute are: the only write the suite makes outside the store's interface.
    /// </summary>
    private static async Task PastBackOffAsync(string file, CancellationToken cancellationToken)
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = file, Pooling = false }.ToString());
        await connection.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "UPDATE runs SET watch_checks = 3 WHERE watch_state = 'Watching'";
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<long> CountWatchingAsync(string file)
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = file, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM runs WHERE watch_state = 'Watching'";
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static async Task<TimeSpan> BareReadsAsync(Uri keboola, int reads, int parallelism, int jobs)
    {
        using var client = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2), AutomaticDecompression = DecompressionMethods.All });
        var began = Stopwatch.GetTimestamp();
        await Parallel.ForEachAsync(Enumerable.Range(0, reads), new ParallelOptions { MaxDegreeOfParallelism = parallelism }, async (i, ct) =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(keboola, "jobs/" + JobId(i % jobs)));
            request.Headers.Add(OutOfProcess.Servers.TokenHeader, KeboolaToken);
            using var response = await client.SendAsync(request, ct);
            _ = await response.Content.ReadAsStringAsync(ct);
        });
        return Stopwatch.GetElapsedTime(began);
    }

    private static async Task<string> WriteCatalogAsync(string folder)
    {
        var path = Path.Combine(folder, "watch.triggers.json");
        // The trigger is Trigger ("watched"), spelled out so that the repository's catalog check reads this catalog.
        await File.WriteAllTextAsync(path, """
            {
              "platforms": { "kbc": { "type": "keboola", "url": "http://127.0.0.1:1/", "tokenSecret": "kbc-token" } },
              "triggers": { "watched": { "platform": "kbc", "keboola": { "component": "keboola.orchestrator", "config": "1" } } }
            }
            """);
        return path;
    }

    /// <summary>The machine's load average over the last minute, as Linux reports it: how busy the two cores were.</summary>
    private static string LoadAverage()
        => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "n/a";

    internal static string JobId(int i) => (FirstJobId + i).ToString(CultureInfo.InvariantCulture);

    private static Dictionary<string, string?> Settings(string[] args)
    {
        var settings = new Dictionary<string, string?>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < args.Length; i++)
        {
            if (args[i] == "--set" && args[i + 1].Split('=', 2) is [var key, var value])
            {
                settings[key] = value;
            }
        }

        return settings;
    }

    private static int Number(string[] args, string name, int fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
    }

    private static double Percentile(double[] sorted, double percent)
        => sorted[Math.Clamp((int)Math.Ceiling(percent / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private sealed record TickFigures(TimeSpan Duration, int DueBefore, int Checked, long PlatformReads, int Left, int Ended, TimeSpan GcPause, int Gen2Collections, string Load);

    /// <summary>The engine's clock: wall-clock timestamps and timers, but a date that moves only when the suite moves it.</summary>
    private sealed class VirtualClock(DateTimeOffset start) : TimeProvider
    {
        private long _utcTicks = start.UtcTicks;

        public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _utcTicks), TimeSpan.Zero);

        public void Advance(TimeSpan by) => Interlocked.Add(ref _utcTicks, by.Ticks);
    }

    /// <summary>The engine's watch, keeping the report of its last tick.</summary>
    private sealed class ReportingWatch(IJobWatch inner) : IJobWatch
    {
        public WatchReport? Last { get; set; }

        public static void Decorate(ServiceCollection services)
        {
            var registered = services.Single(d => d.ServiceType == typeof(IJobWatch));
            var factory = registered.ImplementationFactory ?? throw new InvalidOperationException("The watch is expected to be registered by a factory.");
            services.Remove(registered);
            services.AddSingleton<IJobWatch>(provider => new ReportingWatch((IJobWatch)factory(provider)));
        }

        public async Task<WatchReport> CheckDueAsync(CancellationToken cancellationToken)
            => Last = await inner.CheckDueAsync(cancellationToken);
    }

    /// <summary>
    /// Keboola's queue on loopback, as far as the watch reads it: <c>GET /jobs/{id}</c> answers the job as Keboola does,
    /// <c>processing</c> until its end time (set for a share of the jobs) and <c>success</c> after, by the engine's clock.
    /// </summary>
    private sealed class LoopbackKeboola : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private long _reads;

        private LoopbackKeboola(WebApplication app, Uri address)
        {
            _app = app;
            Address = address;
        }

        public Uri Address { get; }

        public long Reads => Interlocked.Read(ref _reads);

        public static async Task<LoopbackKeboola> StartAsync(TimeProvider clock, int jobs, int endingPercent, DateTimeOffset windowStart, TimeSpan window)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
            var app = builder.Build();
            LoopbackKeboola? self = null;
            app.MapGet("/jobs/{id}", async (string id, HttpContext context) =>
            {
                Interlocked.Increment(ref self!._reads);
                if (!long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number < FirstJobId || number >= FirstJobId + jobs)
                {
                    context.Response.StatusCode = StatusCodes.Status404NotFound;
                    await context.Response.WriteAsync("""{"error":"Job not found","code":404,"status":"error"}""");
                    return;
                }

                var i = (int)(number - FirstJobId);
                DateTimeOffset? endsAt = i % 100 < endingPercent ? windowStart + TimeSpan.FromTicks(window.Ticks * ((i * 7919L) % 1000) / 1000) : null;
                var ended = endsAt <= clock.GetUtcNow();
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync(ended
                    ? $$"""{"id":"{{id}}","runId":"{{id}}","status":"success","isFinished":true,"startTime":"2026-12-07T11:59:00+00:00","endTime":"{{endsAt!.Value:yyyy-MM-ddTHH:mm:ssK}}","result":{"message":"done"} }"""
                    : $$"""{"id":"{{id}}","runId":"{{id}}","status":"processing","isFinished":false,"startTime":"2026-12-07T11:59:00+00:00","result":[]}""");
            });
            await app.StartAsync();
            self = new LoopbackKeboola(app, Rig.AddressOf(app));
            return self;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
