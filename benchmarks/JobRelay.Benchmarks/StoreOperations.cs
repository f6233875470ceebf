using System.Globalization;
using System.Net;

namespace JobRelay.Benchmarks;

/// <summary>
/// Counts the store operations of accepted deliveries and of their duplicates, through the whole pipeline in process
/// (signature, claim, start, settle), with the store wrapped in a <see cref="CountingRelayStore"/>.
/// </summary>
internal static class StoreOperations
{
    /// <param name="requests">For a remote store: its own count of requests so far (reads, writes), printed beside the store's.</param>
    public static async Task PrintAsync(string label, IReadOnlyDictionary<string, string?> settings, int deliveries, Func<Task<(long Reads, long Writes)>>? requests = null)
    {
        await using var keboola = await Rig.StartFastKeboolaAsync();
        await using var rig = await Rig.StartAsync(Rig.AddressOf(keboola), settings, countStore: true);
        var store = rig.Store!;
        using var client = new HttpClient();
        var url = new Uri(rig.Address, "api/hooks/push");
        var sent = Enumerable.Range(0, deliveries).Select(i => ($"count-{i.ToString(CultureInfo.InvariantCulture)}", Rig.PushBody())).ToList();

        var unexpected = 0;
        var before = requests is null ? default : await requests();
        foreach (var (id, body) in sent)
        {
            using var response = await client.SendAsync(Rig.SignedPush(url, id, body));
            unexpected += response.StatusCode == HttpStatusCode.Accepted ? 0 : 1;
        }

        var (acceptedReads, acceptedWrites) = (store.Reads, store.Writes);
        var afterAccepted = requests is null ? default : await requests();
        foreach (var (id, body) in sent)
        {
            using var response = await client.SendAsync(Rig.SignedPush(url, id, body));
            unexpected += response.StatusCode == HttpStatusCode.OK ? 0 : 1;
        }

        double Per(long count) => (double)count / deliveries;
        var duplicateReads = Per(store.Reads - acceptedReads);
        var duplicateWrites = Per(store.Writes - acceptedWrites);
        var met = Per(acceptedWrites) <= 3 && duplicateReads <= 1 && duplicateWrites == 0 ? "met (≤ 3 writes, 1 read)" : "NOT met (≤ 3 writes, 1 read)";
        Console.WriteLine($"| {label} | {Per(acceptedReads):0.00} | {Per(acceptedWrites):0.00} | {duplicateReads:0.00} | {duplicateWrites:0.00} | {met} |");
        if (requests is not null)
        {
            var afterDuplicates = await requests();
            Console.WriteLine($"| {label}, HTTP requests to the table service | {Per(afterAccepted.Reads - before.Reads):0.00} | {Per(afterAccepted.Writes - before.Writes):0.00} | {Per(afterDuplicates.Reads - afterAccepted.Reads):0.00} | {Per(afterDuplicates.Writes - afterAccepted.Writes):0.00} | what the account bills and its partitions carry |");
        }

        if (unexpected > 0)
        {
            Console.WriteLine($"  ({unexpected} of {2 * deliveries} answers were not 202 for a new delivery or 200 for its duplicate.)");
        }
    }
}
