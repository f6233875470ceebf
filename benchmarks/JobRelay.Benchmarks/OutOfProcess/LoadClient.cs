using System.Diagnostics;
using System.Net;

namespace JobRelay.Benchmarks.OutOfProcess;

/// <summary>What one measurement saw: every latency (ms, sorted) and the errors.</summary>
internal sealed record LoadResult(double[] SortedLatenciesMs, int Errors, TimeSpan Duration)
{
    public double RequestsPerSecond => SortedLatenciesMs.Length / Duration.TotalSeconds;

    /// <summary>The exact percentile of every sample (nearest rank), not an estimate from buckets.</summary>
    public double Percentile(double percent)
    {
        if (SortedLatenciesMs.Length == 0)
        {
            return double.NaN;
        }

        var rank = (int)Math.Ceiling(percent / 100 * SortedLatenciesMs.Length);
        return SortedLatenciesMs[Math.Clamp(rank - 1, 0, SortedLatenciesMs.Length - 1)];
    }
}

/// <summary>
/// The one load client every system is measured with: closed loop (N connections, each sending as soon as its last
/// answer arrived) for saturation, and open loop (requests sent on a fixed schedule, whatever the answers do) for
/// latency at an offered rate, timed from the scheduled send so a stall is counted, not hidden.
/// </summary>
internal sealed class LoadClient : IDisposable
{
    private readonly HttpClient _client;

    public LoadClient(int connections)
    {
        _client = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = connections,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            AllowAutoRedirect = false,
            UseCookies = false,
        })
        { Timeout = TimeSpan.FromSeconds(30) };
    }

    public async Task<LoadResult> ClosedLoopAsync(Func<HttpRequestMessage> request, int connections, TimeSpan duration, CancellationToken cancellationToken)
    {
        var samples = new List<double>[connections];
        var errors = 0;
        var clock = Stopwatch.StartNew();
        var deadline = duration;
        var workers = Enumerable.Range(0, connections).Select(async worker =>
        {
            var mine = samples[worker] = new List<double>(capacity: 4096);
            while (clock.Elapsed < deadline && !cancellationToken.IsCancellationRequested)
            {
                var started = Stopwatch.GetTimestamp();
                if (await SendAsync(request, cancellationToken))
                {
                    mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }
                else
                {
                    Interlocked.Increment(ref errors);
                }
            }
        }).ToArray();
        await Task.WhenAll(workers);
        return Result(samples.SelectMany(s => s), errors, clock.Elapsed);
    }

    public async Task<LoadResult> OpenLoopAsync(Func<HttpRequestMessage> request, int ratePerSecond, TimeSpan duration, CancellationToken cancellationToken)
    {
        var total = (int)(ratePerSecond * duration.TotalSeconds);
        var samples = new double[total];
        var ok = new bool[total];
        var sends = new Task[total];
        var origin = Stopwatch.GetTimestamp();
        for (var i = 0; i < total; i++)
        {
            var due = origin + (long)(i * (double)Stopwatch.Frequency / ratePerSecond);
            WaitUntil(due);
            var index = i;
            sends[i] = Task.Run(async () =>
            {
                ok[index] = await SendAsync(request, cancellationToken);
                samples[index] = Stopwatch.GetElapsedTime(due).TotalMilliseconds;
            }, cancellationToken);
        }

        await Task.WhenAll(sends);
        var errors = ok.Count(success => !success);
        return Result(samples.Where((_, index) => ok[index]), errors, Stopwatch.GetElapsedTime(origin));
    }

    public void Dispose() => _client.Dispose();

    private static LoadResult Result(IEnumerable<double> samples, int errors, TimeSpan duration)
    {
        var sorted = samples.ToArray();
        Array.Sort(sorted);
        return new LoadResult(sorted, errors, duration);
    }

    private static void WaitUntil(long timestamp)
    {
        while (true)
        {
            var remaining = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), timestamp);
            if (remaining <= TimeSpan.Zero)
            {
                return;
            }

            if (remaining > TimeSpan.FromMilliseconds(2))
            {
                Thread.Sleep(1);
            }
            else
            {
                Thread.SpinWait(50);
            }
        }
    }

    private async Task<bool> SendAsync(Func<HttpRequestMessage> request, CancellationToken cancellationToken)
    {
        try
        {
            using var message = request();
            using var response = await _client.SendAsync(message, HttpCompletionOption.ResponseContentRead, cancellationToken);
            return response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Created or HttpStatusCode.Accepted;
        }
        catch (HttpRequestException)
        {
            return false;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}
