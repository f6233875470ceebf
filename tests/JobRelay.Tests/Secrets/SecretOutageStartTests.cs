using Microsoft.Extensions.Time.Testing;
using System.Net;
using System.Text.Json.Nodes;
using JobRelay.Model;
using JobRelay.Runs;
using JobRelay.Secrets;
using JobRelay.State;
using JobRelay.Tests.Http;
using JobRelay.Tests.Scheduling;
using JobRelay.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace JobRelay.Tests.Secrets;

/// <summary>
/// The secret store cannot give the platform's token when a verified webhook arrives: nothing reached the platform,
/// so the delivery is kept pending (202, as for a platform that is down), the sweep keeps it pending with backoff
/// while the store stays down, and starts it exactly once when the store is back.
/// </summary>
public sealed class SecretOutageStartTests : IAsyncDisposable
{
    private const string Catalog = """
        {
          "platforms": { "kbc": { "type": "keboola", "url": "http://127.0.0.1:1/", "tokenSecret": "kbc-token" } },
          "triggers": {
            "hook": {
              "platform": "kbc",
              "keboola": { "component": "keboola.ex-db", "config": "1" },
              "webhook": { "scheme": "token", "secrets": ["hook-token"], "deliveryId": "header:X-Delivery" }
            }
          }
        }
        """;

    private readonly List<IAsyncDisposable> _owned = [];

    [Fact]
    public async Task AWebhookWhosePlatformTokenCannotBeReadIsPendingAndStartsOnceWhenTheSecretStoreIsBack()
    {
        var start = new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
        var clock = new FakeTimeProvider(start);
        var vault = new FlakySecretSource(clock);
        var keboola = await Own(LoopbackServer.StartAsync(app => app.MapPost("/jobs", () => Results.Json(new JsonObject { ["id"] = "701", ["status"] = "created" }, statusCode: 201))));
        var host = await Own(RelayHost.StartAsync(
            Catalog,
            new Dictionary<string, Uri> { ["kbc"] = keboola.BaseAddress },
            new Dictionary<string, string?>
            {
                ["JobRelay:Store:RetryBaseDelay"] = "00:00:10",
                ["JobRelay:Store:RetryMaxDelay"] = "00:01:00",
                ["JobRelay:Store:SweepInterval"] = "01:00:00",
            },
            services =>
            {
                services.AddSingleton<ISecretSource>(vault);
                services.AddSingleton<TimeProvider>(clock);
            }));
        var sweep = host.Services.GetRequiredService<RunSweep>();
        var store = host.Services.GetRequiredService<IRelayStore>();
        var key = new DeliveryKey("hook", "d-1");

        using var first = await Deliver(host);
        using var duplicate = await Deliver(host);
        clock.Advance(TimeSpan.FromSeconds(10));
        var whileDown = await sweep.SweepAsync(CancellationToken.None);
        var stillPending = await store.FindAsync(key, CancellationToken.None);
        vault.IsDown = false;
        clock.Advance(TimeSpan.FromSeconds(20));
        var back = await sweep.SweepAsync(CancellationToken.None);
        clock.Advance(TimeSpan.FromMinutes(5));
        var after = await sweep.SweepAsync(CancellationToken.None);
        using var redelivered = await Deliver(host);

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        var pending = await RelayHost.JsonAsync(first);
        Assert.Equal("pending", (string?)pending["status"]);
        Assert.Contains("secret 'kbc-token'", (string?)pending["reason"], StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, duplicate.StatusCode);
        Assert.Equal("pending", (string?)(await RelayHost.JsonAsync(duplicate))["status"]);
        Assert.Equal((1, 0), (whileDown.StillPending, whileDown.Started));
        Assert.Equal((RunState.Pending, 2), (stillPending!.State, stillPending.Attempts));
        Assert.Equal(start + TimeSpan.FromSeconds(10 + 20), stillPending.NextAttemptAt);
        Assert.Equal((1, 0), (back.Started, back.StillPending));
        Assert.Equal(new SweepReport(0, 0, 0, 0, 0), after with { Purged = 0 });
        // The sweep's tick also reads the started job's status (its watch): only the start is a POST.
        var sent = Assert.Single(keboola.Requests, r => r.Method == "POST");
        Assert.Equal("/jobs", sent.Path);
        Assert.Equal(RelayHost.KeboolaToken, sent.Header("X-StorageApi-Token"));
        Assert.Equal(HttpStatusCode.OK, redelivered.StatusCode);
        Assert.Equal("701", (string?)(await RelayHost.JsonAsync(redelivered))["jobId"]);
        // Three reads for the start; the fourth is the watch's status read, five minutes on, past the cache.
        Assert.Equal(4, vault.PlatformTokenReads);
        host.Logs.AssertContainsNone(RelayHost.KeboolaToken);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var owned in Enumerable.Reverse(_owned))
        {
            await owned.DisposeAsync();
        }
    }

    private static Task<HttpResponseMessage> Deliver(RelayHost host)
        => host.PostHookAsync("hook", "{}", ("X-JobRelay-Token", RelayHost.HookToken), ("X-Delivery", "d-1"));

    private async Task<T> Own<T>(Task<T> starting)
        where T : IAsyncDisposable
    {
        var owned = await starting;
        _owned.Add(owned);
        return owned;
    }

    /// <summary>A secret store whose platform token cannot be read while it is down; the webhook's own secret, read first, still can.</summary>
    private sealed class FlakySecretSource(TimeProvider clock) : ISecretSource
    {
        private int _platformTokenReads;

        public volatile bool IsDown = true;

        public int PlatformTokenReads => Volatile.Read(ref _platformTokenReads);

        public Task<SecretValue> ReadAsync(string name, CancellationToken cancellationToken)
        {
            switch (name)
            {
                case "hook-token":
                    return Task.FromResult(new SecretValue(name, RelayHost.HookToken, "v1", clock.GetUtcNow()));
                case "kbc-token":
                    Interlocked.Increment(ref _platformTokenReads);
                    return IsDown
                        ? throw new RelayException(RelayErrorKind.SecretStoreUnavailable, $"Key Vault https://vault.example/ could not be reached to read secret '{name}': the connection was refused or dropped.")
                        : Task.FromResult(new SecretValue(name, RelayHost.KeboolaToken, "v1", clock.GetUtcNow()));
                default:
                    throw new RelayException(RelayErrorKind.SecretNotFound, $"No secret '{name}'.");
            }
        }
    }
}
