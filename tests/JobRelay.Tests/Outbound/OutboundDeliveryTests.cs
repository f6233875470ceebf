using System.Globalization;
using System.Text.Json.Nodes;
using JobRelay.Model;
using JobRelay.Outbound;
using JobRelay.Platforms;
using JobRelay.Secrets;
using JobRelay.State;
using JobRelay.State.Sqlite;
using JobRelay.Tests.Support;
using JobRelay.Triggers;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Moq;
using StandardWebhooks;
using StandardWebhooks.Diagnostics;

namespace JobRelay.Tests.Outbound;

/// <summary>
/// The outbox sent by the tick's dispatcher to real loopback receivers (Kestrel on 127.0.0.1), from a SQLite store on
/// disk: signed deliveries verified by the StandardWebhooks library, a destination down then back, Retry-After, the
/// horizon, 410 Gone, Slack and Teams messages, and no secret in any log line or outbound body.
/// </summary>
public sealed class OutboundDeliveryTests : IAsyncLifetime, IDisposable
{
    private const string SigningSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    private readonly string _folder = Directory.CreateTempSubdirectory("jobrelay-outbound-").FullName;
    // Now (the library checks a signature's timestamp against the real clock), to the millisecond a store keeps.
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
    private readonly FakeLogCollector _logs = new();
    private readonly ILoggerFactory _loggers;
    private readonly List<IAsyncDisposable> _servers = [];
    private readonly ServiceProvider _http = new ServiceCollection().AddHttpClient().BuildServiceProvider();
    private SqliteRelayStore? _store;

    public OutboundDeliveryTests() => _loggers = _logs.CreateFactory();

    public Task InitializeAsync() => Task.CompletedTask;

    public void Dispose()
    {
        _store?.Dispose();
        _http.Dispose();
        _loggers.Dispose();
    }

    public async Task DisposeAsync()
    {
        foreach (var server in _servers)
        {
            await server.DisposeAsync();
        }

        _store?.Dispose();
        _store = null;
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task Every_signed_delivery_verifies_with_the_standard_webhooks_library_in_order_and_a_tampered_one_does_not()
    {
        var verified = new List<string>();
        var receiver = await ReceiverAsync(async context =>
        {
            var body = await new StreamReader(context.Request.Body).ReadToEndAsync();
            try
            {
                new StandardWebhook(SigningSecret).Verify(body, context.Request.Headers);
                lock (verified)
                {
                    verified.Add(context.Request.Headers["webhook-id"].ToString());
                }

                context.Response.StatusCode = 204;
            }
            catch (WebhookVerificationException)
            {
                context.Response.StatusCode = 401;
            }
        });
        var (store, dispatcher) = Open(WebhookCatalog(receiver, "[\"run.accepted\", \"job.started\", \"job.failed\"]"));
        await FailedRunAsync(store, "run-a", "d-1");
        var sentAt = _clock.GetUtcNow();

        await DrainAsync(dispatcher, store);

        Assert.Equal(["evt_run-a_run.accepted", "evt_run-a_job.started", "evt_run-a_job.failed"], verified);
        var requests = receiver.Requests;
        Assert.All(requests, request =>
        {
            Assert.Equal("POST", request.Method);
            Assert.Equal("/hooks/in", request.Path);
            Assert.StartsWith("application/json", request.Header("Content-Type"), StringComparison.Ordinal);
            Assert.Equal(request.Header("webhook-id"), JsonNode.Parse(request.Body)!["id"]!.GetValue<string>());
            Assert.StartsWith("v1,", request.Header("webhook-signature"), StringComparison.Ordinal);
            Assert.Equal(sentAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture), request.Header("webhook-timestamp"));
        });
        var failed = requests[^1];
        Assert.Equal("job.failed", JsonNode.Parse(failed.Body)!["type"]!.GetValue<string>());
        var headers = new HeaderDictionary();
        foreach (var name in new[] { "webhook-id", "webhook-timestamp", "webhook-signature" })
        {
            headers[name] = failed.Header(name);
        }

        new StandardWebhook(SigningSecret).Verify(failed.Body, headers);
        Assert.Throws<WebhookVerificationException>(() => new StandardWebhook(SigningSecret).Verify(failed.Body.Replace("\"failed\"", "\"succeeded\"", StringComparison.Ordinal), headers));
        headers["webhook-id"] = "evt_other";
        Assert.Throws<WebhookVerificationException>(() => new StandardWebhook(SigningSecret).Verify(failed.Body, headers));
        Assert.All(await store.ListDeliveriesAsync("run-a", CancellationToken.None), d => Assert.Equal((DeliveryState.Delivered, 1), (d.State, d.Attempts)));
    }

    [Fact]
    public async Task A_destination_down_for_a_while_then_back_gets_every_event_once_delivered_and_each_runs_in_order()
    {
        var down = true;
        var receiver = await ReceiverAsync(context =>
        {
            context.Response.StatusCode = Volatile.Read(ref down) ? 503 : 200;
            return Task.CompletedTask;
        });
        var (store, dispatcher) = Open(WebhookCatalog(receiver, "[\"run.accepted\", \"job.started\", \"job.failed\"]"));
        await FailedRunAsync(store, "run-a", "d-1");
        await FailedRunAsync(store, "run-b", "d-2");

        for (var tick = 0; tick < 6; tick++)
        {
            await dispatcher.DispatchAsync(CancellationToken.None);
            _clock.Advance(TimeSpan.FromMinutes(2));
        }

        Assert.Equal(2, (await store.ListFailedDeliveriesAsync(100, CancellationToken.None)).Count);
        Volatile.Write(ref down, false);
        await DrainAsync(dispatcher, store);

        var received = receiver.Requests.Where(r => r.Header("webhook-id") is not null).ToList();
        foreach (var run in new[] { "run-a", "run-b" })
        {
            var order = received.Select(r => r.Header("webhook-id")!).Where(id => id.StartsWith($"evt_{run}_", StringComparison.Ordinal)).Distinct().ToList();
            Assert.Equal([$"evt_{run}_run.accepted", $"evt_{run}_job.started", $"evt_{run}_job.failed"], order);
            var deliveries = await store.ListDeliveriesAsync(run, CancellationToken.None);
            Assert.All(deliveries, d => Assert.Equal(DeliveryState.Delivered, d.State));
            Assert.True(deliveries[0].Attempts > 1, "the first event met the outage");
        }

        Assert.Empty(await store.ListFailedDeliveriesAsync(100, CancellationToken.None));
        Assert.Equal(6, received.Select(r => r.Header("webhook-id")).Distinct().Count());
    }

    [Fact]
    public async Task A_retry_after_longer_than_the_backoff_is_honoured()
    {
        var answers = 0;
        var receiver = await ReceiverAsync(context =>
        {
            if (Interlocked.Increment(ref answers) == 1)
            {
                context.Response.StatusCode = 429;
                context.Response.Headers.RetryAfter = "120";
            }
            else
            {
                context.Response.StatusCode = 200;
            }

            return Task.CompletedTask;
        });
        var (store, dispatcher) = Open(WebhookCatalog(receiver, "[\"run.accepted\"]"));
        await store.ClaimAsync(new NewRun(new DeliveryKey("nightly-load", "d-1"), "run-a", "nightly-load", "webhook", "{}"), Lease, CancellationToken.None);
        var start = _clock.GetUtcNow();

        await dispatcher.DispatchAsync(CancellationToken.None);
        var waiting = Assert.Single(await store.ListDeliveriesAsync("run-a", CancellationToken.None));
        _clock.Advance(TimeSpan.FromSeconds(119));
        var early = await dispatcher.DispatchAsync(CancellationToken.None);
        _clock.Advance(TimeSpan.FromSeconds(1));
        var onTime = await dispatcher.DispatchAsync(CancellationToken.None);

        Assert.Equal(start.AddSeconds(120), waiting.NextAt);
        Assert.Equal(new DeliveryAttempt(start, 429, "HTTP 429"), Assert.Single(waiting.Log));
        Assert.Equal(0, early.Delivered + early.Retrying);
        Assert.Equal(1, onTime.Delivered);
        Assert.Equal(2, receiver.Requests.Count);
    }

    [Fact]
    public async Task A_delivery_still_failing_past_the_horizon_is_dead_lettered_listed_and_the_runs_next_event_goes()
    {
        var receiver = await ReceiverAsync(async context =>
        {
            var body = await new StreamReader(context.Request.Body).ReadToEndAsync();
            context.Response.StatusCode = JsonNode.Parse(body)!["type"]!.GetValue<string>() == "run.accepted" ? 500 : 200;
        });
        var (store, dispatcher) = Open(WebhookCatalog(receiver, "[\"run.accepted\", \"job.started\"]"), horizon: TimeSpan.FromMinutes(10));
        await StartedAsync(store, "run-a", "d-1");

        for (var tick = 0; tick < 12; tick++)
        {
            await dispatcher.DispatchAsync(CancellationToken.None);
            _clock.Advance(TimeSpan.FromMinutes(2));
        }

        var deliveries = await store.ListDeliveriesAsync("run-a", CancellationToken.None);
        Assert.Equal([("run.accepted", DeliveryState.DeadLettered), ("job.started", DeliveryState.Delivered)], deliveries.Select(d => (d.Type, d.State)));
        Assert.All(deliveries[0].Log, attempt => Assert.Equal((500, "HTTP 500"), (attempt.Status, attempt.Error)));
        Assert.Equal("evt_run-a_run.accepted", Assert.Single(await store.ListFailedDeliveriesAsync(10, CancellationToken.None)).EventId);
        Assert.Contains(_logs.GetSnapshot(), r => r.Id.Id == 2202 && r.Level == LogLevel.Error);
    }

    [Fact]
    public async Task A_410_gone_disables_the_subscription_with_a_warning_and_its_later_events_are_not_sent()
    {
        var receiver = await ReceiverAsync(context =>
        {
            context.Response.StatusCode = 410;
            return Task.CompletedTask;
        });
        var (store, dispatcher) = Open(WebhookCatalog(receiver, "[\"run.accepted\", \"job.started\"]"));
        await StartedAsync(store, "run-a", "d-1");

        var first = await dispatcher.DispatchAsync(CancellationToken.None);
        var second = await dispatcher.DispatchAsync(CancellationToken.None);

        Assert.Equal(1, first.Disabled);
        Assert.Equal(1, second.Disabled);
        Assert.Single(receiver.Requests);
        Assert.Equal(["warehouse#0"], await store.ListDisabledSubscriptionsAsync(CancellationToken.None));
        Assert.All(await store.ListDeliveriesAsync("run-a", CancellationToken.None), d => Assert.Equal(DeliveryState.Disabled, d.State));
        Assert.Contains(_logs.GetSnapshot(), r => r.Id.Id == 2203 && r.Level == LogLevel.Warning && r.Message.Contains("warehouse#0", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Slack_and_teams_get_a_readable_message_with_trigger_state_duration_and_link_and_no_log_or_body_carries_a_secret()
    {
        var receiver = await ReceiverAsync(context =>
        {
            context.Response.StatusCode = 200;
            return Task.CompletedTask;
        });
        var slackUrl = new Uri(receiver.BaseAddress, "services/T000/B000/XOXB-slack-secret-path").ToString();
        var teamsUrl = new Uri(receiver.BaseAddress, "workflows/teams-secret-sig?sig=teams-secret-signature").ToString();
        var catalog = TriggerCatalogLoader.Parse($$"""
            {
              "platforms": { "kbc": { "type": "keboola", "url": "https://queue.example/", "tokenSecret": "kbc-token" } },
              "triggers": { "nightly-load": { "platform": "kbc", "keboola": { "component": "keboola.ex-db", "config": "42" } } },
              "destinations": {
                "ops-slack": { "type": "slack", "urlSecret": "ops-slack-url" },
                "ops-teams": { "type": "teams", "urlSecret": "ops-teams-url" },
                "warehouse": { "type": "webhook", "url": "{{new Uri(receiver.BaseAddress, "hooks/in")}}", "signingSecret": "warehouse-signing" }
              },
              "subscriptions": [
                { "to": "ops-slack", "events": ["job.failed"], "triggers": ["nightly-load"] },
                { "to": "ops-teams", "events": ["job.failed"] },
                { "to": "warehouse", "events": ["job.failed"] }
              ]
            }
            """);
        Assert.True(catalog.IsValid, string.Join("\n", catalog.Errors));
        var (store, dispatcher) = Open(catalog.Catalog!, new Dictionary<string, string>
        {
            ["ops-slack-url"] = slackUrl,
            ["ops-teams-url"] = teamsUrl,
            ["warehouse-signing"] = SigningSecret,
        }, dashboard: new Uri("https://relay.example/dashboard"));
        await FailedRunAsync(store, "run-a", "d-1");

        await DrainAsync(dispatcher, store);

        var slack = Assert.Single(receiver.Requests, r => r.Path.StartsWith("/services/", StringComparison.Ordinal));
        var slackText = JsonNode.Parse(slack.Body)!["text"]!.GetValue<string>();
        Assert.Equal("❌ nightly-load: failed after 1 min 30 s <https://relay.example/dashboard#run=run-a|Open the run>", slackText);
        Assert.Equal("section", JsonNode.Parse(slack.Body)!["blocks"]![0]!["type"]!.GetValue<string>());
        var teams = Assert.Single(receiver.Requests, r => r.Path.StartsWith("/workflows/", StringComparison.Ordinal));
        var card = JsonNode.Parse(teams.Body)!["attachments"]![0]!;
        Assert.Equal("application/vnd.microsoft.card.adaptive", card["contentType"]!.GetValue<string>());
        Assert.Equal("❌ nightly-load: failed after 1 min 30 s", card["content"]!["body"]![0]!["text"]!.GetValue<string>());
        Assert.Contains(card["content"]!["body"]![1]!["facts"]!.AsArray(), f => f!["title"]!.GetValue<string>() == "Duration" && f["value"]!.GetValue<string>() == "1 min 30 s");
        Assert.Equal("https://relay.example/dashboard#run=run-a", card["content"]!["actions"]![0]!["url"]!.GetValue<string>());

        string[] secrets = ["XOXB-slack-secret-path", "teams-secret-sig", "teams-secret-signature", SigningSecret, SigningSecret["whsec_".Length..]];
        _logs.AssertContainsNone(secrets);
        Assert.All(receiver.Requests, r => Assert.All(secrets, secret => Assert.DoesNotContain(secret, r.Body, StringComparison.Ordinal)));
        Assert.All(await store.ListDeliveriesAsync("run-a", CancellationToken.None), d => Assert.All(secrets, secret =>
        {
            Assert.DoesNotContain(secret, d.Payload, StringComparison.Ordinal);
            Assert.DoesNotContain(d.Log, attempt => attempt.Error?.Contains(secret, StringComparison.Ordinal) == true);
        }));
    }

    [Fact]
    public async Task A_hanging_destination_gets_one_round_of_its_concurrency_per_tick_and_holds_up_no_other_destination()
    {
        var hanging = await ReceiverAsync(async context =>
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
            }
        });
        var fast = await ReceiverAsync(context =>
        {
            context.Response.StatusCode = 204;
            return Task.CompletedTask;
        });
        var catalog = TriggerCatalogLoader.Parse($$"""
            {
              "platforms": { "kbc": { "type": "keboola", "url": "https://queue.example/", "tokenSecret": "kbc-token" } },
              "triggers": { "nightly-load": { "platform": "kbc", "keboola": { "component": "keboola.ex-db", "config": "42" } } },
              "destinations": {
                "slow": { "type": "webhook", "url": "{{new Uri(hanging.BaseAddress, "in")}}", "signingSecret": "warehouse-signing", "timeout": "PT1S", "concurrency": 1 },
                "quick": { "type": "webhook", "url": "{{new Uri(fast.BaseAddress, "in")}}", "signingSecret": "warehouse-signing" }
              },
              "subscriptions": [ { "to": "slow", "events": ["run.accepted"] }, { "to": "quick", "events": ["run.accepted"] } ]
            }
            """).Catalog!;
        var (store, dispatcher) = Open(catalog);
        foreach (var run in new[] { "run-a", "run-b", "run-c" })
        {
            await store.ClaimAsync(new NewRun(new DeliveryKey("nightly-load", "d-" + run), run, "nightly-load", "webhook", "{}"), Lease, CancellationToken.None);
        }

        var report = await dispatcher.DispatchAsync(CancellationToken.None);

        Assert.Equal(new OutboundReport(3, 1, 0, 0), report);
        Assert.Equal(3, fast.Requests.Count);
        Assert.Single(hanging.Requests);
        var slow = (await store.ListFailedDeliveriesAsync(10, CancellationToken.None)).Single();
        Assert.Equal(("slow#0", "no answer within 1 s"), (slow.Subscription, slow.Log.Single().Error));
    }

    [Fact]
    public async Task An_unreachable_destination_is_recorded_without_its_address()
    {
        var closed = new Uri($"http://127.0.0.1:{LoopbackServer.FreePort()}/services/T000/B000/unreachable-secret");
        var catalog = TriggerCatalogLoader.Parse("""
            {
              "platforms": { "kbc": { "type": "keboola", "url": "https://queue.example/", "tokenSecret": "kbc-token" } },
              "triggers": { "nightly-load": { "platform": "kbc", "keboola": { "component": "keboola.ex-db", "config": "42" } } },
              "destinations": { "ops": { "type": "slack", "urlSecret": "ops-slack-url", "timeout": "PT2S" } },
              "subscriptions": [ { "to": "ops", "events": ["run.accepted"] } ]
            }
            """).Catalog!;
        var (store, dispatcher) = Open(catalog, new Dictionary<string, string> { ["ops-slack-url"] = closed.ToString() });
        await store.ClaimAsync(new NewRun(new DeliveryKey("nightly-load", "d-1"), "run-a", "nightly-load", "webhook", "{}"), Lease, CancellationToken.None);

        var report = await dispatcher.DispatchAsync(CancellationToken.None);

        Assert.Equal(1, report.Retrying);
        var attempt = Assert.Single(Assert.Single(await store.ListDeliveriesAsync("run-a", CancellationToken.None)).Log);
        Assert.Null(attempt.Status);
        Assert.Equal("no answer: ConnectionError", attempt.Error);
        _logs.AssertContainsNone("unreachable-secret");
    }

    private (IRelayStore Store, OutboundDispatcher Dispatcher) Open(TriggerCatalog catalog, IReadOnlyDictionary<string, string>? secretValues = null, TimeSpan? horizon = null, Uri? dashboard = null)
    {
        secretValues ??= new Dictionary<string, string> { ["warehouse-signing"] = SigningSecret };
        var secrets = new Mock<ISecretStore>();
        foreach (var (name, value) in secretValues)
        {
            secrets.Setup(s => s.GetAsync(name, It.IsAny<CancellationToken>())).ReturnsAsync(new SecretValue(name, value, null, _clock.GetUtcNow()));
        }

        var options = new OutboundOptions { FirstDelay = TimeSpan.FromSeconds(1), MaxDelay = TimeSpan.FromMinutes(1), Horizon = horizon ?? TimeSpan.FromHours(24), DashboardUrl = dashboard };
        _store = new SqliteRelayStore(Path.Combine(_folder, "relay.db"), _clock, _loggers.CreateLogger<SqliteRelayStore>(), outbox: new CatalogOutboxPlanner(() => catalog));
        var sender = new OutboundSender(_http.GetRequiredService<IHttpClientFactory>(), secrets.Object, _clock, options);
        return (_store, new OutboundDispatcher(_store, () => catalog, sender, Options.Create(options), _clock, _loggers.CreateLogger<OutboundDispatcher>()));
    }

    private static TriggerCatalog WebhookCatalog(LoopbackServer receiver, string events)
    {
        var result = TriggerCatalogLoader.Parse($$"""
            {
              "platforms": { "kbc": { "type": "keboola", "url": "https://queue.example/", "tokenSecret": "kbc-token" } },
              "triggers": { "nightly-load": { "platform": "kbc", "keboola": { "component": "keboola.ex-db", "config": "42" } } },
              "destinations": { "warehouse": { "type": "webhook", "url": "{{new Uri(receiver.BaseAddress, "hooks/in")}}", "signingSecret": "warehouse-signing" } },
              "subscriptions": [ { "to": "warehouse", "events": {{events}} } ]
            }
            """);
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        return result.Catalog!;
    }

    private async Task<LoopbackServer> ReceiverAsync(RequestDelegate handler)
    {
        var server = await LoopbackServer.StartAsync(handler);
        _servers.Add(server);
        return server;
    }

    /// <summary>Ticks until the outbox holds nothing pending, at most 20 times, the clock moving on past each backoff.</summary>
    private async Task DrainAsync(OutboundDispatcher dispatcher, IRelayStore store)
    {
        for (var tick = 0; tick < 20 && (await store.ListDeliveriesDueAsync(_clock.GetUtcNow().AddHours(1), 1, CancellationToken.None)).Count > 0; tick++)
        {
            await dispatcher.DispatchAsync(CancellationToken.None);
            if ((await store.ListDeliveriesDueAsync(_clock.GetUtcNow(), 1, CancellationToken.None)).Count == 0)
            {
                _clock.Advance(TimeSpan.FromSeconds(61));
            }
        }
    }

    private async Task<RunRecord> StartedAsync(IRelayStore store, string runId, string deliveryId)
    {
        var claim = await store.ClaimAsync(new NewRun(new DeliveryKey("nightly-load", deliveryId), runId, "nightly-load", "schedule", """{"day":"2026-12-01"}"""), Lease, CancellationToken.None);
        var calling = await store.BeginStartAsync(claim.Lease!, TimeSpan.FromMinutes(1), CancellationToken.None);
        var started = RunSettlement.Started("kbc", new JobStatus("job-7", JobState.Queued, "created", false) { Url = new Uri("https://queue.example/jobs/7"), StartedAt = _clock.GetUtcNow() }, null)
            with { WatchNextAt = _clock.GetUtcNow() };
        Assert.True(await store.SettleAsync(calling!, started, CancellationToken.None));
        return (await store.FindRunAsync(runId, CancellationToken.None))!;
    }

    private async Task FailedRunAsync(IRelayStore store, string runId, string deliveryId)
    {
        var run = await StartedAsync(store, runId, deliveryId);
        var watch = await store.TakeWatchAsync(run, Lease, CancellationToken.None);
        Assert.True(await store.UpdateWatchAsync(watch!, new WatchUpdate(WatchTransition.WatchEnd)
        {
            CheckedAt = _clock.GetUtcNow(),
            Status = new JobStatus("job-7", JobState.Failed, "error", true),
            FinishedAt = run.JobStartedAt!.Value.AddSeconds(90),
            Checks = 1,
        }, CancellationToken.None));
    }
}
