using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using JobRelay.Scheduling;

namespace JobRelay.Benchmarks;

/// <summary>
/// Added latency, throughput, cold start, Key Vault reads and scheduler cost, each against a baseline measured in the
/// same run: the same client posting the same 2 KiB body straight to the same stand-in Keboola.
/// </summary>
internal static class LoadHarness
{
    private static readonly string[] ZoneIds = ["UTC", "Europe/Prague", "America/New_York", "Asia/Tokyo"];

    public static async Task<int> RunAsync(string[] args)
    {
        var seconds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 5;
        var duration = TimeSpan.FromSeconds(seconds);
        await using var keboola = await Rig.StartFastKeboolaAsync();
        var keboolaUrl = Rig.AddressOf(keboola);
        await using var rig = await Rig.StartAsync(keboolaUrl);
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256, PooledConnectionLifetime = TimeSpan.FromMinutes(10) });
        var body = Rig.PushBody();
        var hook = new Uri(rig.Address, "/api/hooks/push");
        var direct = new Uri(keboolaUrl, "jobs");

        HttpRequestMessage Baseline() => new(HttpMethod.Post, direct) { Content = Json(body) };
        HttpRequestMessage Relay() => Rig.SignedPush(hook, Guid.NewGuid().ToString(), body);

        Console.WriteLine($"JobRelay load harness — {Environment.ProcessorCount} cores, .NET {Environment.Version}, {seconds} s per measurement, body {body.Length} bytes");
        await SaturateAsync(client, Baseline, 16, TimeSpan.FromSeconds(1));
        await SaturateAsync(client, Relay, 16, TimeSpan.FromSeconds(1));

        Console.WriteLine();
        Console.WriteLine("Added latency (ms): signed GitHub push → JobRelay → stand-in Keboola, against the same client posting straight to it");
        Console.WriteLine("| offered load | requests | base p50 | relay p50 | added p50 | base p99 | relay p99 | added p99 | relay errors |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var rate in new[] { 100, 1000 })
        {
            var baseRun = await PaceAsync(client, Baseline, rate, duration);
            var relayRun = await PaceAsync(client, Relay, rate, duration);
            Row($"{rate}/s", baseRun, relayRun);
        }

        var jobsBefore = rig.Secrets.Reads;
        var baseSat = await SaturateAsync(client, Baseline, 64, duration);
        var relaySat = await SaturateAsync(client, Relay, 64, duration);
        Row("saturation (64 clients)", baseSat, relaySat);

        Console.WriteLine();
        Console.WriteLine("Throughput at saturation (64 concurrent clients)");
        Console.WriteLine("| path | requests/s | ratio to baseline |");
        Console.WriteLine("|---|---|---|");
        Console.WriteLine($"| baseline (straight to the stand-in) | {baseSat.PerSecond:F0} | 1.00 |");
        Console.WriteLine($"| JobRelay: verify + de-duplicate + map + start | {relaySat.PerSecond:F0} | {relaySat.PerSecond / baseSat.PerSecond:F2} |");
        Console.WriteLine($"peak working set: {Process.GetCurrentProcess().PeakWorkingSet64 / (1024 * 1024)} MiB (harness, JobRelay and stand-in in one process)");

        var jobs = relaySat.Count;
        Console.WriteLine();
        Console.WriteLine($"Key Vault reads: {rig.Secrets.Reads} in this whole run (2 secrets, cache TTL 5 min); during saturation {rig.Secrets.Reads - jobsBefore} for {jobs} jobs → {(rig.Secrets.Reads - jobsBefore) * 10_000.0 / Math.Max(1, jobs):F2} per 10,000 jobs");

        Console.WriteLine();
        SchedulerCost();
        Console.WriteLine();
        await ColdStartAsync();
        return 0;
    }

    private static ByteArrayContent Json(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        return content;
    }

    private static void Row(string label, Measurement baseline, Measurement relay)
    {
        var (b50, b99) = (baseline.Percentile(0.50), baseline.Percentile(0.99));
        var (r50, r99) = (relay.Percentile(0.50), relay.Percentile(0.99));
        Console.WriteLine($"| {label} | {relay.Count} | {b50:F2} | {r50:F2} | {r50 - b50:F2} | {b99:F2} | {r99:F2} | {r99 - b99:F2} | {relay.Errors} |");
    }

    /// <summary>Open loop: requests leave at the offered rate whether or not earlier ones have been answered.</summary>
    private static async Task<Measurement> PaceAsync(HttpClient client, Func<HttpRequestMessage> create, int rate, TimeSpan duration)
    {
        var total = (int)(rate * duration.TotalSeconds);
        var tasks = new List<Task<(double Ms, bool Ok)>>(total);
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < total; i++)
        {
            var due = TimeSpan.FromSeconds((double)i / rate);
            var wait = due - clock.Elapsed;
            if (wait > TimeSpan.FromMilliseconds(1))
            {
                await Task.Delay(wait);
            }

            tasks.Add(SendAsync(client, create));
        }

        var results = await Task.WhenAll(tasks);
        return new Measurement(results, clock.Elapsed);
    }

    private static async Task<Measurement> SaturateAsync(HttpClient client, Func<HttpRequestMessage> create, int clients, TimeSpan duration)
    {
        var results = new System.Collections.Concurrent.ConcurrentBag<(double, bool)>();
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
        {
            while (clock.Elapsed < duration)
            {
                results.Add(await SendAsync(client, create));
            }
        }));
        return new Measurement([.. results], clock.Elapsed);
    }

    private static async Task<(double Ms, bool Ok)> SendAsync(HttpClient client, Func<HttpRequestMessage> create)
    {
        using var request = create();
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var response = await client.SendAsync(request);
            return (Stopwatch.GetElapsedTime(started).TotalMilliseconds, response.StatusCode is HttpStatusCode.Created or HttpStatusCode.Accepted);
        }
        catch (HttpRequestException)
        {
            return (Stopwatch.GetElapsedTime(started).TotalMilliseconds, false);
        }
    }

    private static void SchedulerCost()
    {
        var zones = ZoneIds.Select(TimeZoneInfo.FindSystemTimeZoneById).ToArray();
        var schedules = Enumerable.Range(0, 10_000)
            .Select(i => new CronSchedule($"{i % 60} {(i / 60) % 60} * * * *", zones[i % zones.Length]))
            .ToArray();
        var from = new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);
        var to = from.AddMinutes(1);
        var times = new List<double>();
        var due = 0;
        for (var run = 0; run < 7; run++)
        {
            var clock = Stopwatch.StartNew();
            due = schedules.Sum(s => s.GetOccurrences(from, to).Count());
            times.Add(clock.Elapsed.TotalMilliseconds);
        }

        var one = Stopwatch.StartNew();
        for (var i = 0; i < 10_000; i++)
        {
            _ = schedules[0].GetOccurrences(from, to).Count();
        }

        var baseline = one.Elapsed.TotalMilliseconds;
        times.Sort();
        Console.WriteLine($"Scheduler: 10,000 cron triggers (4 time zones) over one one-minute window: median {times[3]:F1} ms, best {times[0]:F1} ms, {due} occurrences due");
        Console.WriteLine($"  baseline, one trigger evaluated 10,000 times: {baseline:F1} ms (ratio {times[3] / baseline:F2})");
    }

    /// <summary>Process start → first 202 from <c>jobrelay serve --sandbox</c>, built in Release beforehand.</summary>
    private static async Task ColdStartAsync()
    {
        var cli = Path.Combine(RepoRoot(), "src", "JobRelay.Cli", "bin", "Release", "net10.0", "JobRelay.Cli.dll");
        if (!File.Exists(cli))
        {
            Console.WriteLine($"Cold start: not measured — build the CLI first: dotnet build -c Release src/JobRelay.Cli");
            return;
        }

        var port = FreePort();
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(new ProcessStartInfo("dotnet", $"\"{cli}\" serve --sandbox --urls http://127.0.0.1:{port}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var client = new HttpClient();
        TimeSpan? first = null;
        while (clock.Elapsed < TimeSpan.FromSeconds(30) && first is null)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{port}/api/triggers/load-orders/runs");
                request.Headers.Add("x-functions-key", "sandbox");
                using var response = await client.SendAsync(request);
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    first = clock.Elapsed;
                }
            }
            catch (HttpRequestException)
            {
                await Task.Delay(10);
            }
        }

        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
        var runtime = Stopwatch.StartNew();
        using (var bare = Process.Start(new ProcessStartInfo("dotnet", "--version") { RedirectStandardOutput = true })!)
        {
            await bare.WaitForExitAsync();
        }

        Console.WriteLine(first is { } t
            ? $"Cold start: process start → first 202 in {t.TotalMilliseconds:F0} ms (baseline, `dotnet --version` start to exit: {runtime.Elapsed.TotalMilliseconds:F0} ms; ratio {t.TotalMilliseconds / runtime.Elapsed.TotalMilliseconds:F2})"
            : "Cold start: no 202 within 30 s");
    }

    /// <summary>A loopback port free at the moment of asking, for a server of the benchmarks' own.</summary>
    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    internal static string RepoRoot()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "Functions.sln")))
        {
            folder = folder.Parent;
        }

        return folder?.FullName ?? Directory.GetCurrentDirectory();
    }
}

internal sealed class Measurement((double Ms, bool Ok)[] results, TimeSpan elapsed)
{
    private readonly double[] _sorted = [.. results.Select(r => r.Ms).Order()];

    public int Count => results.Length;

    public int Errors => results.Count(r => !r.Ok);

    public double PerSecond => results.Count(r => r.Ok) / elapsed.TotalSeconds;

    public double Percentile(double p) => _sorted.Length == 0 ? double.NaN : _sorted[Math.Min(_sorted.Length - 1, (int)Math.Ceiling(p * _sorted.Length) - 1)];
}
