using System.Collections.Concurrent;
using System.Net;
using JobRelay.Sandbox;
using JobRelay.Web;

namespace JobRelay.Benchmarks;

/// <summary>
/// A burst of 1,000 signed webhooks, 30% of them redeliveries, while the platform answers 503, 429 and 500, drops
/// connections and hangs, and Key Vault is down at the start. Then the senders retry what was refused, as they do.
/// Invariants: no delivery ever has two jobs; every refusal is a status a sender retries on; every delivery ends
/// with its job (or, where the platform's answer was lost, with a settled "check the platform"); no secret is logged.
/// </summary>
internal static class FaultSuite
{
    public static async Task<int> RunAsync()
    {
        await using var sandbox = await SandboxPlatforms.StartAsync(new SandboxOptions { JobDuration = TimeSpan.FromSeconds(2) }, CancellationToken.None);
        await using var rig = await Rig.StartAsync(
            sandbox.KeboolaUrl,
            new Dictionary<string, string?>
            {
                ["JobRelay:Platforms:Http:AttemptTimeout"] = "00:00:01",
                ["JobRelay:Platforms:Http:ConnectTimeout"] = "00:00:00.500",
                ["JobRelay:Platforms:Http:TotalTimeout"] = "00:00:04",
                ["JobRelay:Platforms:Http:RetryBaseDelay"] = "00:00:00.050",
                ["JobRelay:Platforms:Http:MaxRetries"] = "2",
            },
            SandboxCredentials.KeboolaToken);
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { Timeout = TimeSpan.FromSeconds(30) };
        var hook = new Uri(rig.Address, "/api/hooks/push");
        var body = Rig.PushBody();

        rig.Secrets.FailNext(5);
        sandbox.InjectFault(new SandboxFault("keboola") { Status = 503, RetryAfterSeconds = 1, Count = 30 });
        sandbox.InjectFault(new SandboxFault("keboola") { Status = 429, RetryAfterSeconds = 1, Count = 20 });
        sandbox.InjectFault(new SandboxFault("keboola") { Status = 500, Count = 5 });
        sandbox.InjectFault(new SandboxFault("keboola") { Drop = true, Count = 5 });
        sandbox.InjectFault(new SandboxFault("keboola") { Latency = TimeSpan.FromSeconds(3), Count = 3 });

        var ids = Enumerable.Range(0, 700).Select(i => $"delivery-{i:D4}").ToList();
        var random = new Random(20261122);
        var burst = ids.Concat(Enumerable.Range(0, 300).Select(_ => ids[random.Next(ids.Count)])).OrderBy(_ => random.Next()).ToList();
        var outcomes = new ConcurrentDictionary<string, ConcurrentBag<HttpStatusCode>>();
        var statuses = new ConcurrentDictionary<HttpStatusCode, int>();

        async Task SendAsync(string id)
        {
            using var request = Rig.SignedPush(hook, id, body);
            var status = (await client.SendAsync(request)).StatusCode;
            outcomes.GetOrAdd(id, _ => []).Add(status);
            statuses.AddOrUpdate(status, 1, (_, n) => n + 1);
        }

        await Parallel.ForEachAsync(burst, new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (id, _) => await SendAsync(id));

        var firstPass = statuses.OrderBy(s => (int)s.Key).Select(s => $"{(int)s.Key}×{s.Value}").ToList();
        var notRetryable = outcomes.Values.SelectMany(s => s).Count(s => !IsAccepted(s) && !IsRetryable(s) && s != HttpStatusCode.BadGateway);

        // The senders retry every delivery that was not accepted.
        var retries = 0;
        for (var round = 0; round < 10; round++)
        {
            var pending = outcomes.Where(o => !o.Value.Any(IsAccepted) && !o.Value.Contains(HttpStatusCode.BadGateway)).Select(o => o.Key).ToList();
            if (pending.Count == 0)
            {
                break;
            }

            retries += pending.Count;
            await Task.Delay(TimeSpan.FromSeconds(1));
            await Parallel.ForEachAsync(pending, new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (id, _) => await SendAsync(id));
        }

        var jobsPerDelivery = ids.ToDictionary(id => id, id => sandbox.Jobs.Count(j => j.RequestBody.Contains($"\"{id}\"", StringComparison.Ordinal)));
        var doubled = jobsPerDelivery.Count(p => p.Value > 1);
        var unknown = outcomes.Count(o => o.Value.Contains(HttpStatusCode.BadGateway));
        var missing = jobsPerDelivery.Count(p => p.Value == 0 && !outcomes[p.Key].Contains(HttpStatusCode.BadGateway));
        var leaked = rig.Logs.Lines.Count(l => l.Contains(Rig.WebhookSecret, StringComparison.Ordinal) || l.Contains(SandboxCredentials.KeboolaToken, StringComparison.Ordinal));

        Console.WriteLine("Fault suite: 1,000 signed webhooks (700 distinct, 300 redeliveries), 32 at a time");
        Console.WriteLine("  faults: Key Vault unreachable for its first 5 reads; Keboola 503×30 and 429×20 (Retry-After 1 s), 500×5, 5 dropped connections, 3 hangs past the 1 s attempt timeout");
        Console.WriteLine($"  first pass statuses: {string.Join(", ", firstPass)}");
        Console.WriteLine($"  sender retries until accepted: {retries} requests");
        Console.WriteLine("| invariant | count | holds |");
        Console.WriteLine("|---|---|---|");
        Console.WriteLine($"| deliveries with more than one job | {doubled} | {doubled == 0} |");
        Console.WriteLine($"| refusals a sender would not retry (not 429/5xx) | {notRetryable} | {notRetryable == 0} |");
        Console.WriteLine($"| deliveries without a job (outcome not unknown) | {missing} | {missing == 0} |");
        Console.WriteLine($"| deliveries answered 'outcome unknown' (502; job may exist, settled, never resent) | {unknown} | — |");
        Console.WriteLine($"| log lines holding a secret | {leaked} | {leaked == 0} |");
        Console.WriteLine($"  jobs created: {sandbox.Jobs.Count}; Key Vault reads: {rig.Secrets.Reads}");
        return doubled == 0 && notRetryable == 0 && missing == 0 && leaked == 0 ? 0 : 1;
    }

    private static bool IsAccepted(HttpStatusCode status) => status is HttpStatusCode.Accepted or HttpStatusCode.OK;

    private static bool IsRetryable(HttpStatusCode status) => status == HttpStatusCode.TooManyRequests || (int)status >= 500;
}
