using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace JobRelay.Benchmarks.OutOfProcess;

/// <summary>
/// <c>-- oop</c>: the stand-in platform, the bare relay and <c>jobrelay serve</c> each run as a process of their own,
/// loaded over loopback by this process's one client. Systems are measured interleaved, repetition by repetition, and
/// every figure is reported as the median and range of its ratio to the bare relay measured in the same repetition.
/// </summary>
internal static class OutOfProcessSuite
{
    private const string ApiKey = "bench-key";
    private const string HookToken = "bench-hook-token-5e5e";
    private const string GitHubSecret = "bench-github-secret-0f0f";
    private const string KeboolaToken = "bench-keboola-token-1e1e";
    private static readonly byte[] StandardWebhooksKey = RandomNumberGenerator.GetBytes(32);
    private static readonly string Padding = new('x', 1024);
    private static long _sequence;

    public static async Task<int> RunAsync(string[] args)
    {
        var options = SuiteOptions.Parse(args);
        var repository = RepositoryRoot();
        var cli = options.Serve ?? Path.Combine(repository, "src", "JobRelay.Cli", "bin", "Release", "net10.0", "JobRelay.Cli.dll");
        if (!File.Exists(cli))
        {
            Console.Error.WriteLine($"Build the CLI first: dotnet build -c Release src/JobRelay.Cli, or pass --serve with a published JobRelay.Cli.dll ({cli} is missing).");
            return 2;
        }

        var work = Directory.CreateTempSubdirectory("jobrelay-oop-").FullName;
        var self = typeof(OutOfProcessSuite).Assembly.Location;
        bool Wanted(string id) => options.Only is null || id == "bare" || options.Only.Contains(id);
        await using var standIn = await ServerProcess.StartAsync("stand-in", self, ["stand-in"], work, new Dictionary<string, string>(), "/health");
        await using var bare = await ServerProcess.StartAsync("bare-relay", self, ["bare-relay", "--target", standIn.Address.ToString()], work, new Dictionary<string, string>(), "/health");
        var catalog = await WriteCatalogAsync(work);
        var serveEnvironment = ServeEnvironment(standIn.Address);
        await using var resources = new Resources();
        async Task<ServerProcess> ServeAsync(string name, IReadOnlyDictionary<string, string> extra)
        {
            var environment = new Dictionary<string, string>(serveEnvironment);
            foreach (var (key, value) in extra)
            {
                environment[key] = value;
            }

            return resources.Add(await ServerProcess.StartAsync(name, cli, ["serve", "--triggers", catalog, "--api-key", ApiKey, "--data", Path.Combine(work, name)], work, environment, "/api/health"));
        }

        var relay = await ServeAsync("jobrelay", new Dictionary<string, string>());
        var quiet = Wanted("warning") ? await ServeAsync("jobrelay-warning", new Dictionary<string, string> { ["Logging__LogLevel__Default"] = "Warning" }) : null;
        OtlpSink? sink = null;
        ServerProcess? traced = null;
        if (Wanted("tracing"))
        {
            sink = resources.Add(await OtlpSink.StartAsync(CancellationToken.None));
            traced = await ServeAsync("jobrelay-tracing", new Dictionary<string, string>
            {
                [OtlpSink.EndpointSetting] = sink.Address.ToString().TrimEnd('/'),
                [OtlpSink.ProtocolSetting] = "http/protobuf",
            });
        }

        // One more serve, the same as `token`, with N started jobs in its store, measured twice in each repetition: with
        // their watches off (`watch-off`), and on (`watch`), each read once a minute by the tick while the webhooks
        // arrive. The switch is a write to its store before each measurement (WatchSwitch), so the two differ in the
        // watches alone: same process, same store file, same moment of the run. The jobs the webhooks start are watched
        // from an hour on (the catalog's watch policy), in every serve, so no serve reads its own jobs during the run.
        ServerProcess? watched = null;
        WatchSwitch? watches = null;
        if (Wanted("watch"))
        {
            var folder = Path.Combine(work, "jobrelay-watch");
            Directory.CreateDirectory(folder);
            watches = new WatchSwitch(Path.Combine(folder, JobRelay.State.StoreOptions.SqliteFileName), WatchedTrigger, options.Watches);
            using (var store = new JobRelay.State.Sqlite.SqliteRelayStore(watches.File, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<JobRelay.State.Sqlite.SqliteRelayStore>.Instance))
            {
                await WatchSuite.FillAsync(store, options.Watches, WatchedTrigger, DateTimeOffset.UtcNow, CancellationToken.None);
            }

            await watches.TurnAsync(on: false);
            watched = await ServeAsync("jobrelay-watch", new Dictionary<string, string>());
        }

        AzuriteProcess? azurite = null;
        ServerProcess? tables = null;
        if (Wanted("tables"))
        {
            azurite = resources.Add(await AzuriteProcess.StartAsync(repository, work));
            tables = await ServeAsync("jobrelay-tables", new Dictionary<string, string>
            {
                ["JobRelay__Store__Kind"] = "tables",
                ["JobRelay__Store__TableConnectionString"] = azurite.ConnectionString,
            });
        }

        var systems = new List<SystemUnderTest>
        {
            new("direct", "direct POST to the stand-in", () => Direct(standIn.Address)),
            new("bare", "bare relay", () => Post(bare.Address, "relay", Body())),
            new("token", "JobRelay, token webhook (SQLite, log at Information, tracing off)", () => Token(relay.Address)),
            new("github", "JobRelay, GitHub webhook", () => GitHub(relay.Address)),
            new("standard", "JobRelay, Standard Webhooks", () => StandardWebhooks(relay.Address)),
        };
        if (watched is not null)
        {
            systems.Add(new("watch-off", $"JobRelay, token webhook, the next serve with its {options.Watches:N0} watches off", () => Token(watched.Address)));
            systems.Add(new("watch", $"JobRelay, token webhook, {options.Watches:N0} jobs watched (read once a minute)", () => Token(watched.Address)));
        }

        if (quiet is not null)
        {
            systems.Add(new("warning", "JobRelay, token webhook, log at Warning", () => Token(quiet.Address)));
        }

        if (traced is not null)
        {
            systems.Add(new("tracing", "serve, SQLite, token, tracing on (OTLP/HTTP to a loopback sink)", () => Token(traced.Address)));
        }

        if (tables is not null)
        {
            systems.Add(new("tables", "JobRelay, token webhook, Azure Tables on Azurite", () => Token(tables.Address)));
        }

        systems = systems.Where(s => Wanted(s.Id) || (s.Id == "watch-off" && Wanted("watch"))).ToList();
        var bareRelay = systems.FindIndex(s => s.Id == "bare");

        Console.WriteLine($"# Out-of-process suite: {Environment.ProcessorCount} cores, .NET {Environment.Version}, {options.Repetitions} repetitions, {options.Seconds} s per measurement");
        Console.WriteLine();
        using var client = new LoadClient(options.Connections);

        // The watch system's measurements: its watches are switched on right before (WatchSwitch: each tick from then on
        // reads a sixth of them, as in the steady state), and off before any other measurement.
        var watchMeasured = TimeSpan.Zero;
        long watchReads = 0;
        async Task<LoadResult> MeasureAsync(SystemUnderTest system, Func<Task<LoadResult>> measure)
        {
            if (watches is null)
            {
                return await measure();
            }

            await watches.TurnAsync(on: system.Id == "watch");
            if (system.Id != "watch")
            {
                return await measure();
            }

            var reads = await StandInReadsAsync(standIn.Address);
            var began = Stopwatch.GetTimestamp();
            try
            {
                return await measure();
            }
            finally
            {
                watchMeasured += Stopwatch.GetElapsedTime(began);
                watchReads += await StandInReadsAsync(standIn.Address) - reads;
            }
        }

        foreach (var system in systems)
        {
            await MeasureAsync(system, () => client.ClosedLoopAsync(system.Request, options.Connections, TimeSpan.FromSeconds(2), CancellationToken.None));
        }

        var saturation = systems.ToDictionary(s => s, _ => new List<LoadResult>());
        var atRate = options.Rates.ToDictionary(rate => rate, _ => systems.ToDictionary(s => s, _ => new List<LoadResult>()));
        for (var repetition = 0; repetition < options.Repetitions; repetition++)
        {
            foreach (var system in systems)
            {
                saturation[system].Add(await MeasureAsync(system, async () =>
                {
                    await client.ClosedLoopAsync(system.Request, options.Connections, TimeSpan.FromSeconds(1), CancellationToken.None);
                    return await client.ClosedLoopAsync(system.Request, options.Connections, TimeSpan.FromSeconds(options.Seconds), CancellationToken.None);
                }));
            }

            foreach (var rate in options.Rates)
            {
                foreach (var system in systems)
                {
                    atRate[rate][system].Add(await MeasureAsync(system, () => client.OpenLoopAsync(system.Request, rate, TimeSpan.FromSeconds(options.Seconds), CancellationToken.None)));
                }
            }
        }

        if (watches is not null)
        {
            await watches.TurnAsync(on: false);
        }

        Console.WriteLine($"## Throughput at saturation ({options.Connections} connections, closed loop)");
        Console.WriteLine();
        Console.WriteLine("| system | requests/s (median) | range | ratio to bare relay (median) | ratio range | errors |");
        Console.WriteLine("|---|---|---|---|---|---|");
        foreach (var system in systems)
        {
            var runs = saturation[system];
            var ratios = runs.Select((run, i) => run.RequestsPerSecond / saturation[systems[bareRelay]][i].RequestsPerSecond).ToList();
            Console.WriteLine($"| {system.Name} | {Median(runs.Select(r => r.RequestsPerSecond)):N0} | {runs.Min(r => r.RequestsPerSecond):N0}–{runs.Max(r => r.RequestsPerSecond):N0} | **{Median(ratios):0.00}** | {ratios.Min():0.00}–{ratios.Max():0.00} | {runs.Sum(r => r.Errors)} |");
        }

        var tracingOff = systems.FindIndex(s => s.Id == "token");
        var tracingOn = systems.FindIndex(s => s.Id == "tracing");
        if (tracingOff >= 0 && tracingOn >= 0)
        {
            var ratios = saturation[systems[tracingOn]].Select((run, i) => run.RequestsPerSecond / saturation[systems[tracingOff]][i].RequestsPerSecond).ToList();
            Console.WriteLine();
            Console.WriteLine($"Tracing on / tracing off, token webhook throughput, same repetitions: **{Median(ratios):0.00}** (range {ratios.Min():0.00}–{ratios.Max():0.00}); target >= 0.90: {(Median(ratios) >= 0.9 ? "met" : "NOT met")}.");
        }

        var watchOff = systems.FindIndex(s => s.Id == "watch-off");
        var watchOn = systems.FindIndex(s => s.Id == "watch");
        if (watchOff >= 0 && watchOn >= 0)
        {
            var ratios = saturation[systems[watchOn]].Select((run, i) => run.RequestsPerSecond / saturation[systems[watchOff]][i].RequestsPerSecond).ToList();
            var steady = options.Watches / 60.0;
            Console.WriteLine();
            Console.WriteLine($"{options.Watches:N0} watches on / off, token webhook throughput of one serve, same repetitions: **{Median(ratios):0.00}** (range {ratios.Min():0.00}–{ratios.Max():0.00}); target >= 0.90: {(Median(ratios) >= 0.9 ? "met" : "NOT met")}.");
            Console.WriteLine($"Status reads by that serve while its watches were on and measured: {watchReads:N0} in {watchMeasured.TotalSeconds:0} s, {watchReads / watchMeasured.TotalSeconds:N0}/s; {options.Watches:N0} jobs each read once a minute are {steady:N0}/s: {watchReads / watchMeasured.TotalSeconds / steady:0.00} of that steady rate (a measurement of 1 + N s holds one or two of serve's 10 s ticks; each job is still read at most once a minute, as `-- watch` counts).");
        }

        if (sink is not null)
        {
            Console.WriteLine($"OTLP sink received {sink.Traces:N0} POST /v1/traces and {sink.Metrics:N0} POST /v1/metrics requests ({sink.Bytes:N0} bytes) from serve with tracing on, over all the runs above.");
        }

        foreach (var rate in options.Rates)
        {
            Console.WriteLine();
            Console.WriteLine($"## Latency at {rate:N0} requests/s (open loop, timed from the scheduled send)");
            Console.WriteLine();
            Console.WriteLine("| system | p50 ms | p99 ms | added p50 over the bare relay, ms (median) | range | errors |");
            Console.WriteLine("|---|---|---|---|---|---|");
            foreach (var system in systems)
            {
                var runs = atRate[rate][system];
                var added = runs.Select((run, i) => run.Percentile(50) - atRate[rate][systems[bareRelay]][i].Percentile(50)).ToList();
                Console.WriteLine($"| {system.Name} | {Median(runs.Select(r => r.Percentile(50))):0.000} | {Median(runs.Select(r => r.Percentile(99))):0.000} | **{Median(added):0.000}** | {added.Min():0.000}–{added.Max():0.000} | {runs.Sum(r => r.Errors)} |");
            }
        }

        Console.WriteLine();
        Console.WriteLine("## Memory and cold start");
        Console.WriteLine();
        var relayPeak = relay.PeakWorkingSetMiB();
        var barePeak = bare.PeakWorkingSetMiB();
        Console.WriteLine($"- Peak RSS after the runs: JobRelay serve {relayPeak:0} MiB; bare relay {barePeak:0} MiB (ratio {relayPeak / barePeak:0.00}).");

        if (options.ColdStarts > 0)
        {
            var coldRelay = new List<double>();
            var coldBare = new List<double>();
            for (var i = 0; i < options.ColdStarts; i++)
            {
                coldBare.Add(await ColdStartAsync(self, ["bare-relay", "--target", standIn.Address.ToString()], work, new Dictionary<string, string>(), address => Post(address, "relay", Body())));
                coldRelay.Add(await ColdStartAsync(cli, ["serve", "--triggers", catalog, "--api-key", ApiKey, "--data", Path.Combine(work, $"cold-{i}")], work, serveEnvironment, Token));
            }

            // Each serve start is paired with the bare relay's start just before it, as a repetition is elsewhere.
            var coldRatios = coldRelay.Select((ms, i) => ms / coldBare[i]).ToList();
            Console.WriteLine($"- Cold start to the first 2xx (median of {options.ColdStarts}): JobRelay serve {Median(coldRelay):0} ms ({coldRelay.Min():0}–{coldRelay.Max():0}); bare relay {Median(coldBare):0} ms ({coldBare.Min():0}–{coldBare.Max():0}); ratio of the medians {Median(coldRelay) / Median(coldBare):0.00}; ratio per pair **{Median(coldRatios):0.00}** ({coldRatios.Min():0.00}–{coldRatios.Max():0.00}). serve: {cli}");
        }

        Console.WriteLine($"- Logs of the servers, and serve's state store: {work}");

        Console.WriteLine();
        Console.WriteLine("## Store operations per delivery (counted in process; they do not depend on the machine)");
        Console.WriteLine();
        Console.WriteLine("| store | reads per accepted delivery | writes per accepted delivery | reads per duplicate | writes per duplicate | target |");
        Console.WriteLine("|---|---|---|---|---|---|");
        await StoreOperations.PrintAsync("SQLite", new Dictionary<string, string?>(), options.CountDeliveries);
        if (azurite is not null)
        {
            await StoreOperations.PrintAsync("Azure Tables (Azurite)", new Dictionary<string, string?>
            {
                ["JobRelay:Store:Kind"] = "tables",
                ["JobRelay:Store:TableConnectionString"] = azurite.ConnectionString,
                ["JobRelay:Store:TableName"] = "CountRuns",
            }, options.CountDeliveries, azurite.CountEntityRequestsAsync);
        }

        return 0;
    }

    private const string WatchedTrigger = "bench-watched";

    private static async Task<long> StandInReadsAsync(Uri standIn)
    {
        using var client = new HttpClient();
        var counts = await System.Net.Http.Json.HttpClientJsonExtensions.GetFromJsonAsync<StandInCounts>(client, new Uri(standIn, "counts"), new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web));
        return counts?.Reads ?? 0;
    }

    private static async Task<double> ColdStartAsync(string dll, string[] arguments, string work, IReadOnlyDictionary<string, string> environment, Func<Uri, HttpRequestMessage> request)
    {
        var clock = Stopwatch.StartNew();
        await using var server = ServerProcess.Launch("cold-start", dll, arguments, work, environment);
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        while (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            try
            {
                using var message = request(server.Address);
                using var response = await client.SendAsync(message);
                if (response.IsSuccessStatusCode)
                {
                    return clock.Elapsed.TotalMilliseconds;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
            }

            await Task.Delay(2);
        }

        throw new TimeoutException($"{dll} gave no 2xx within 30 s; see {work}.");
    }

    private static Dictionary<string, string> ServeEnvironment(Uri standIn) => new()
    {
        ["JobRelay__Catalog__PlatformUrls__kbc"] = standIn.ToString(),
        ["JobRelay__Secrets__Values__kbc_token"] = KeboolaToken,
        ["JobRelay__Secrets__Values__hook_token"] = HookToken,
        ["JobRelay__Secrets__Values__github_secret"] = GitHubSecret,
        ["JobRelay__Secrets__Values__standard_secret"] = "whsec_" + Convert.ToBase64String(StandardWebhooksKey),
        ["JobRelay__KeyVault__VaultUri"] = string.Empty,
        [OtlpSink.EndpointSetting] = string.Empty,
    };

    private static async Task<string> WriteCatalogAsync(string folder)
    {
        var path = Path.Combine(folder, "bench.triggers.json");
        await File.WriteAllTextAsync(path, """
            {
              "platforms": { "kbc": { "type": "keboola", "url": "http://127.0.0.1:1/", "tokenSecret": "kbc-token" } },
              "triggers": {
                "bench-token": {
                  "platform": "kbc",
                  "arguments": { "who": { "from": "body:$.who", "required": true } },
                  "keboola": { "component": "keboola.orchestrator", "config": "1", "variables": { "who": "{{who}}" } },
                  "webhook": { "scheme": "token", "secrets": ["hook-token"] },
                  "watch": { "firstCheck": "PT1H", "maxInterval": "PT1H" }
                },
                "bench-github": {
                  "platform": "kbc",
                  "arguments": { "commit": { "from": "body:$.after", "required": true } },
                  "keboola": { "component": "keboola.orchestrator", "config": "2", "variables": { "commit": "{{commit}}" } },
                  "webhook": { "scheme": "github", "secrets": ["github-secret"], "events": ["push"], "filters": [{ "field": "body:$.ref", "equals": "refs/heads/main" }] },
                  "watch": { "firstCheck": "PT1H", "maxInterval": "PT1H" }
                },
                "bench-standard": {
                  "platform": "kbc",
                  "arguments": { "who": { "from": "body:$.who", "required": true } },
                  "keboola": { "component": "keboola.orchestrator", "config": "3", "variables": { "who": "{{who}}" } },
                  "webhook": { "scheme": "standardWebhooks", "secrets": ["standard-secret"] },
                  "watch": { "firstCheck": "PT1H", "maxInterval": "PT1H" }
                },
                "bench-watched": { "platform": "kbc", "keboola": { "component": "keboola.orchestrator", "config": "4" } }
              }
            }
            """);
        return path;
    }

    private static byte[] Body()
    {
        var id = Interlocked.Increment(ref _sequence).ToString(CultureInfo.InvariantCulture);
        return Encoding.UTF8.GetBytes($$"""{"ref":"refs/heads/main","after":"c{{id}}","who":"w{{id}}","pad":"{{Padding}}"}""");
    }

    private static HttpRequestMessage Direct(Uri standIn)
    {
        var message = Post(standIn, "jobs", Body());
        message.Headers.Add(Servers.TokenHeader, KeboolaToken);
        return message;
    }

    private static HttpRequestMessage Token(Uri relay)
    {
        var message = Post(relay, "api/hooks/bench-token", Body());
        message.Headers.Add("X-JobRelay-Token", HookToken);
        return message;
    }

    private static HttpRequestMessage GitHub(Uri relay)
    {
        var body = Body();
        var message = Post(relay, "api/hooks/bench-github", body);
        message.Headers.Add("X-GitHub-Event", "push");
        message.Headers.Add("X-GitHub-Delivery", Guid.NewGuid().ToString());
        message.Headers.Add("X-Hub-Signature-256", "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(GitHubSecret), body)));
        return message;
    }

    private static HttpRequestMessage StandardWebhooks(Uri relay)
    {
        var body = Body();
        var id = "msg_" + Guid.NewGuid().ToString("N");
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var signed = Encoding.UTF8.GetBytes($"{id}.{timestamp}.").Concat(body).ToArray();
        var message = Post(relay, "api/hooks/bench-standard", body);
        message.Headers.Add("webhook-id", id);
        message.Headers.Add("webhook-timestamp", timestamp);
        message.Headers.Add("webhook-signature", "v1," + Convert.ToBase64String(HMACSHA256.HashData(StandardWebhooksKey, signed)));
        return message;
    }

    private static HttpRequestMessage Post(Uri server, string path, byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        return new HttpRequestMessage(HttpMethod.Post, new Uri(server, path)) { Content = content };
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    internal static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Functions.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException("Run the suite from a build inside the repository.");
    }

    private sealed record SystemUnderTest(string Id, string Name, Func<HttpRequestMessage> Request);

    /// <summary>Servers started on demand, stopped with the suite.</summary>
    private sealed class Resources : IAsyncDisposable
    {
        private readonly List<IAsyncDisposable> _items = [];

        public T Add<T>(T item)
            where T : IAsyncDisposable
        {
            _items.Add(item);
            return item;
        }

        public async ValueTask DisposeAsync()
        {
            for (var i = _items.Count - 1; i >= 0; i--)
            {
                await _items[i].DisposeAsync();
            }
        }
    }

    /// <param name="Only">With <c>--only a,b</c>: the systems to run (ids: direct, bare, token, github, standard, watch (with watch-off), warning, tracing, tables); the bare relay always runs.</param>
    /// <param name="Watches">With <c>--watches N</c>: the started jobs the <c>watch</c> system's store holds, each watched.</param>
    /// <param name="Serve">With <c>--serve PATH</c>: the JobRelay.Cli.dll to run, such as a ReadyToRun publish (<c>dotnet publish src/JobRelay.Cli -c Release -r linux-x64 -o DIR</c>); by default the Release build.</param>
    private sealed record SuiteOptions(int Repetitions, int Seconds, int Connections, int[] Rates, int ColdStarts, HashSet<string>? Only, int CountDeliveries, int Watches, string? Serve)
    {
        public static SuiteOptions Parse(string[] args)
        {
            int Number(string name, int fallback)
            {
                var index = Array.IndexOf(args, name);
                return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
            }

            var rates = Array.IndexOf(args, "--rates") is var r and >= 0 && r + 1 < args.Length
                ? args[r + 1].Split(',').Select(rate => int.Parse(rate, CultureInfo.InvariantCulture)).ToArray()
                : [100, 1000];
            var only = Array.IndexOf(args, "--only") is var o and >= 0 && o + 1 < args.Length
                ? args[o + 1].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal)
                : null;
            var serve = Array.IndexOf(args, "--serve") is var s and >= 0 && s + 1 < args.Length ? Path.GetFullPath(args[s + 1]) : null;
            return new SuiteOptions(Number("--repetitions", 3), Number("--seconds", 5), Number("--connections", 64), rates, Number("--cold-starts", 5), only, Number("--count-deliveries", 200), Number("--watches", 10_000), serve);
        }
    }
}

/// <summary>A server started as its own process on a free loopback port, its output written to a file.</summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;

    private ServerProcess(Process process, Uri address)
    {
        _process = process;
        Address = address;
    }

    public Uri Address { get; }

    public static ServerProcess Launch(string name, string dll, IEnumerable<string> arguments, string logFolder, IReadOnlyDictionary<string, string> environment)
    {
        var address = new Uri($"http://127.0.0.1:{LoadHarness.FreePort()}/");
        var log = Path.Combine(logFolder, $"{name}-{address.Port}.log");
        var start = new ProcessStartInfo("/bin/sh")
        {
            UseShellExecute = false,
            ArgumentList = { "-c", "exec dotnet \"$@\" >\"$JOBRELAY_BENCH_LOG\" 2>&1", "sh", dll },
        };
        foreach (var argument in arguments.Concat(["--urls", address.ToString().TrimEnd('/')]))
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["JOBRELAY_BENCH_LOG"] = log;
        start.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        return new ServerProcess(Process.Start(start) ?? throw new InvalidOperationException($"{name} did not start."), address);
    }

    public static async Task<ServerProcess> StartAsync(string name, string dll, IEnumerable<string> arguments, string logFolder, IReadOnlyDictionary<string, string> environment, string healthPath)
    {
        var server = Launch(name, dll, arguments, logFolder, environment);
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (server._process.HasExited)
            {
                throw new InvalidOperationException($"{name} exited with {server._process.ExitCode}; see its log in {logFolder}.");
            }

            try
            {
                using var response = await client.GetAsync(new Uri(server.Address, healthPath.TrimStart('/')));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return server;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
            }

            await Task.Delay(20);
        }

        await server.DisposeAsync();
        throw new TimeoutException($"{name} was not healthy within 60 s; see its log in {logFolder}.");
    }

    /// <summary>The process's peak resident set (VmHWM), in MiB.</summary>
    public double PeakWorkingSetMiB()
    {
        foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                return double.Parse(line["VmHWM:".Length..].Replace("kB", string.Empty, StringComparison.Ordinal).Trim(), CultureInfo.InvariantCulture) / 1024;
            }
        }

        return double.NaN;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
