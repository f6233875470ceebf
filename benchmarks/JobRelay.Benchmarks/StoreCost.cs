using System.Diagnostics;
using JobRelay.Model;
using JobRelay.Platforms;
using JobRelay.State;
using JobRelay.State.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace JobRelay.Benchmarks;

/// <summary>
/// <c>-- store [--deliveries N] [--concurrency C]</c>: what one accepted delivery costs the SQLite store on its own,
/// step by step (claim, calling, settled), sequentially on a fresh file, against a read of the same record as the
/// baseline; then the same deliveries from C tasks at once, as a host under load makes them, in deliveries/s.
/// </summary>
internal static class StoreCost
{
    public static async Task<int> RunAsync(string[] args)
    {
        var index = Array.IndexOf(args, "--deliveries");
        var deliveries = index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], System.Globalization.CultureInfo.InvariantCulture) : 2000;
        var folder = Directory.CreateTempSubdirectory("jobrelay-store-cost-").FullName;
        var store = new SqliteRelayStore(Path.Combine(folder, "jobrelay.db"), TimeProvider.System, NullLogger<SqliteRelayStore>.Instance);
        await store.FindAsync(new DeliveryKey("warm", "up"), CancellationToken.None);

        var claim = TimeSpan.Zero;
        var calling = TimeSpan.Zero;
        var settled = TimeSpan.Zero;
        var read = TimeSpan.Zero;
        for (var i = 0; i < deliveries; i++)
        {
            var key = new DeliveryKey("bench", $"delivery-{i}");
            var started = Stopwatch.GetTimestamp();
            var claimed = await store.ClaimAsync(new NewRun(key, $"run-{i}", "bench", "Webhook", "{}"), TimeSpan.FromSeconds(30), CancellationToken.None);
            claim += Stopwatch.GetElapsedTime(started);

            started = Stopwatch.GetTimestamp();
            var lease = await store.BeginStartAsync(claimed.Lease!, TimeSpan.FromMinutes(5), CancellationToken.None);
            calling += Stopwatch.GetElapsedTime(started);

            started = Stopwatch.GetTimestamp();
            await store.SettleAsync(lease!, RunSettlement.Started("kbc", new JobStatus($"job-{i}", JobState.Queued, "created", false), null), CancellationToken.None);
            settled += Stopwatch.GetElapsedTime(started);

            started = Stopwatch.GetTimestamp();
            await store.FindAsync(key, CancellationToken.None);
            read += Stopwatch.GetElapsedTime(started);
        }

        double PerOp(TimeSpan total) => total.TotalMilliseconds / deliveries;
        Console.WriteLine($"SQLite store, {deliveries} deliveries in sequence ({folder}):");
        Console.WriteLine("| step | ms per delivery | ratio to a read |");
        Console.WriteLine("|---|---|---|");
        Console.WriteLine($"| read (duplicate's lookup, baseline) | {PerOp(read):0.000} | 1.00 |");
        Console.WriteLine($"| claim (insert if absent) | {PerOp(claim):0.000} | {claim / read:0.00} |");
        Console.WriteLine($"| calling (versioned update) | {PerOp(calling):0.000} | {calling / read:0.00} |");
        Console.WriteLine($"| settled (versioned update) | {PerOp(settled):0.000} | {settled / read:0.00} |");
        Console.WriteLine($"| accepted delivery, all three writes | {PerOp(claim + calling + settled):0.000} | {(claim + calling + settled) / read:0.00} |");

        index = Array.IndexOf(args, "--concurrency");
        var concurrency = index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], System.Globalization.CultureInfo.InvariantCulture) : 64;
        var next = -1;
        var (commits, writes) = (store.Commits, store.CommittedWrites);
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < deliveries)
            {
                var key = new DeliveryKey("concurrent", $"delivery-{i}");
                var claimed = await store.ClaimAsync(new NewRun(key, $"run-c-{i}", "bench", "Webhook", "{}"), TimeSpan.FromSeconds(30), CancellationToken.None);
                var lease = await store.BeginStartAsync(claimed.Lease!, TimeSpan.FromMinutes(5), CancellationToken.None);
                await store.SettleAsync(lease!, RunSettlement.Started("kbc", new JobStatus($"job-c-{i}", JobState.Queued, "created", false), null), CancellationToken.None);
            }
        })));
        Console.WriteLine();
        Console.WriteLine($"{deliveries} deliveries from {concurrency} tasks at once: {deliveries / clock.Elapsed.TotalSeconds:N0} accepted deliveries/s (claim, calling and settled each).");
        var committed = store.Commits - commits;
        Console.WriteLine($"Group commit: {store.CommittedWrites - writes:N0} writes in {committed:N0} transactions, {(double)(store.CommittedWrites - writes) / Math.Max(1, committed):0.0} writes per commit (sequentially above: 1).");
        return 0;
    }
}
