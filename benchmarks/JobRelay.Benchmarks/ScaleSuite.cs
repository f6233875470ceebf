using System.Diagnostics;
using System.Globalization;
using System.Net;
using JobRelay.Benchmarks.OutOfProcess;

namespace JobRelay.Benchmarks;

/// <summary>
/// <c>-- scale</c>: N hosts, each with its own service provider and HTTP server, share one store (a SQLite file, or a
/// table on Azurite) while senders spread distinct deliveries and redeliveries over them at random. Per N it prints
/// the throughput, the claims that met another host's claim in flight, and the jobs the stand-in got, which must equal
/// the distinct deliveries.
/// </summary>
internal static class ScaleSuite
{
    public static async Task<int> RunAsync(string[] args)
    {
        string Option(string name, string fallback)
        {
            var index = Array.IndexOf(args, name);
            return index >= 0 && index + 1 < args.Length ? args[index + 1] : fallback;
        }

        var hosts = Option("--hosts", "1,2,4,8").Split(',').Select(n => int.Parse(n, CultureInfo.InvariantCulture)).ToArray();
        var distinct = int.Parse(Option("--deliveries", "2000"), CultureInfo.InvariantCulture);
        var redeliveries = int.Parse(Option("--redeliveries", "30"), CultureInfo.InvariantCulture);
        var senders = int.Parse(Option("--senders", "32"), CultureInfo.InvariantCulture);
        var stores = Option("--stores", "sqlite,tables").Split(',');

        var work = Directory.CreateTempSubdirectory("jobrelay-scale-").FullName;
        await using var azurite = stores.Contains("tables") ? await AzuriteProcess.StartAsync(OutOfProcessSuite.RepositoryRoot(), work) : null;
        Console.WriteLine($"# N hosts, one store: {Environment.ProcessorCount} cores; {distinct} distinct deliveries, {redeliveries} % of them delivered again, {senders} senders, hosts chosen at random");
        Console.WriteLine();
        // One unprinted pass first, so that the first row does not carry the JIT's and the connections' warm-up.
        await RunOnceAsync("warm-up", 1, new Dictionary<string, string?> { ["JobRelay:Store:DataFolder"] = Path.Combine(work, "warm-up") }, Math.Min(distinct, 200), redeliveries, senders, print: false);
        Console.WriteLine("| store | hosts | requests | requests/s | claims that met a claim in flight (each wait counted) | claims that met the settled run | jobs started (must be distinct deliveries) | errors |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|");
        foreach (var store in stores)
        {
            foreach (var n in hosts)
            {
                var settings = store == "tables"
                    ? new Dictionary<string, string?>
                    {
                        ["JobRelay:Store:Kind"] = "tables",
                        ["JobRelay:Store:TableConnectionString"] = azurite!.ConnectionString,
                        ["JobRelay:Store:TableName"] = $"Scale{n.ToString(CultureInfo.InvariantCulture)}",
                    }
                    : new Dictionary<string, string?> { ["JobRelay:Store:DataFolder"] = Path.Combine(work, $"sqlite-{n.ToString(CultureInfo.InvariantCulture)}") };
                await RunOnceAsync(store, n, settings, distinct, redeliveries, senders, print: true);
            }
        }

        Console.WriteLine();
        Console.WriteLine($"- Azurite's log and the SQLite files: {work}");
        return 0;
    }

    private static async Task RunOnceAsync(string store, int hostCount, IReadOnlyDictionary<string, string?> settings, int distinct, int redeliveryPercent, int senders, bool print)
    {
        long jobs = 0;
        await using var keboola = await Rig.StartFastKeboolaAsync(() => Interlocked.Increment(ref jobs));
        var rigs = new List<Rig>();
        try
        {
            for (var i = 0; i < hostCount; i++)
            {
                rigs.Add(await Rig.StartAsync(Rig.AddressOf(keboola), settings, countStore: true));
            }

            var random = new Random(hostCount);
            var deliveries = new List<(string Id, byte[] Body)>();
            for (var i = 0; i < distinct; i++)
            {
                deliveries.Add(($"scale-{hostCount}-{i}", Rig.PushBody()));
            }

            var sends = new List<(string Id, byte[] Body)>(deliveries);
            sends.AddRange(deliveries.Where(_ => random.Next(100) < redeliveryPercent));
            var order = sends.OrderBy(_ => random.Next()).ToArray();
            var targets = order.Select(_ => rigs[random.Next(rigs.Count)]).ToArray();

            using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = senders }) { Timeout = TimeSpan.FromSeconds(60) };
            var next = -1;
            var errors = 0;
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, senders).Select(async _ =>
            {
                int index;
                while ((index = Interlocked.Increment(ref next)) < order.Length)
                {
                    var (id, body) = order[index];
                    using var response = await client.SendAsync(Rig.SignedPush(new Uri(targets[index].Address, "api/hooks/push"), id, body));
                    if (response.StatusCode is not (HttpStatusCode.Accepted or HttpStatusCode.OK))
                    {
                        Interlocked.Increment(ref errors);
                    }
                }
            }));
            clock.Stop();

            var inFlight = rigs.Sum(r => r.Store!.ClaimsInFlight);
            var settled = rigs.Sum(r => r.Store!.ClaimsSettled);
            var verdict = Interlocked.Read(ref jobs) == distinct ? string.Empty : " **mismatch**";
            if (!print)
            {
                return;
            }

            Console.WriteLine($"| {store} | {hostCount} | {order.Length:N0} | {order.Length / clock.Elapsed.TotalSeconds:N0} | {inFlight:N0} | {settled:N0} | {Interlocked.Read(ref jobs):N0} of {distinct:N0}{verdict} | {errors} |");
        }
        finally
        {
            foreach (var rig in rigs)
            {
                await rig.DisposeAsync();
            }
        }
    }
}
