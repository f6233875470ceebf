using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using JobRelay.Model;
using JobRelay.Tests.Http;
using JobRelay.Tests.Support;
using JobRelay.Triggers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace JobRelay.Tests.Webhooks;

/// <summary>
/// A captured delivery of a scheme that signs no timestamp, sent again with a new delivery id or none, is a duplicate:
/// the delivery key is the digest of what the sender signed, for the whole retention. Shared-token schemes sign
/// nothing: their digest stands for a retry and holds for the trigger's digest window (1 hour by default).
/// </summary>
public sealed class ReplayProtectionTests : IAsyncLifetime
{
    private const string Catalog = """
        {
          "platforms": { "kbc": { "type": "keboola", "url": "http://127.0.0.1:1/", "tokenSecret": "kbc-token" } },
          "triggers": {
            "github-hook": { "platform": "kbc", "keboola": { "component": "keboola.ex-db", "config": "1" },
                             "webhook": { "scheme": "github", "secrets": ["hmac-secret"] } },
            "token-hook": { "platform": "kbc", "keboola": { "component": "keboola.ex-db", "config": "2" },
                            "webhook": { "scheme": "token", "secrets": ["hook-token"] } },
            "token-daily": { "platform": "kbc", "keboola": { "component": "keboola.ex-db", "config": "6" },
                             "webhook": { "scheme": "token", "secrets": ["hook-token"], "digestWindowSeconds": 86400 } },
            "token-no-replay": { "platform": "kbc", "keboola": { "component": "keboola.ex-db", "config": "3" },
                                 "webhook": { "scheme": "token", "secrets": ["hook-token"], "replay": "none" } },
            "twilio-hook": { "platform": "kbc", "keboola": { "component": "keboola.ex-db", "config": "4" },
                             "webhook": { "scheme": "twilio", "secrets": ["hmac-secret"] } },
            "hmac-hook": { "platform": "kbc", "keboola": { "component": "keboola.ex-db", "config": "5" },
                           "webhook": { "scheme": "hmac", "secrets": ["hmac-secret"], "deliveryId": "header:X-Delivery" } }
          }
        }
        """;

    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 22, 12, 10, 0, TimeSpan.Zero));
    private LoopbackServer _keboola = null!;
    private RelayHost _host = null!;
    private int _nextJob = 100;

    public async Task InitializeAsync()
    {
        _keboola = await LoopbackServer.StartAsync(app => app.MapPost("/jobs", () =>
        {
            var id = Interlocked.Increment(ref _nextJob).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Results.Json(new JsonObject { ["id"] = id, ["runId"] = id, ["status"] = "created", ["isFinished"] = false, ["url"] = $"https://queue.example.com/jobs/{id}", ["result"] = new JsonArray() }, statusCode: 201);
        }));
        _host = await RelayHost.StartAsync(Catalog, new Dictionary<string, Uri> { ["kbc"] = _keboola.BaseAddress }, services: s => s.AddSingleton<TimeProvider>(_clock));
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _keboola.DisposeAsync();
    }

    [Fact]
    public async Task ACapturedGitHubDeliveryResentWithANewDeliveryIdStartsNoSecondJob()
    {
        const string body = """{"ref":"refs/heads/main","after":"abc123"}""";
        var signature = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(RelayHost.HmacSecret), Encoding.UTF8.GetBytes(body)));

        using var original = await _host.PostHookAsync("github-hook", body, ("X-Hub-Signature-256", signature), ("X-GitHub-Event", "push"), ("X-GitHub-Delivery", "d-1"));
        using var replayed = await _host.PostHookAsync("github-hook", body, ("X-Hub-Signature-256", signature), ("X-GitHub-Event", "push"), ("X-GitHub-Delivery", "d-2"));
        using var retried = await _host.PostHookAsync("github-hook", body, ("X-Hub-Signature-256", signature), ("X-GitHub-Event", "push"), ("X-GitHub-Delivery", "d-2"));

        Assert.Equal(HttpStatusCode.Accepted, original.StatusCode);
        Assert.Equal(HttpStatusCode.OK, replayed.StatusCode);
        Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
        var jobId = (string?)(await RelayHost.JsonAsync(original))["jobId"];
        Assert.Equal(jobId, (string?)(await RelayHost.JsonAsync(replayed))["jobId"]);
        Assert.Equal(jobId, (string?)(await RelayHost.JsonAsync(retried))["jobId"]);
        Assert.Single(_keboola.Requests);
    }

    [Fact]
    public async Task ACapturedGitHubDeliverySentFourTimesWithoutItsDeliveryIdStartsOneJob()
    {
        const string body = """{"ref":"refs/heads/main","after":"def456"}""";
        var signature = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(RelayHost.HmacSecret), Encoding.UTF8.GetBytes(body)));
        var statuses = new List<HttpStatusCode>();

        for (var i = 0; i < 4; i++)
        {
            using var response = await _host.PostHookAsync("github-hook", body, ("X-Hub-Signature-256", signature), ("X-GitHub-Event", "push"));
            statuses.Add(response.StatusCode);
        }

        Assert.Equal([HttpStatusCode.Accepted, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK], statuses);
        var start = Assert.Single(_keboola.Requests);
        Assert.Equal("POST", start.Method);
        Assert.Equal("/jobs", start.Path);
    }

    [Fact]
    public async Task AGenericHmacDeliveryWithAnotherUnsignedIdIsADuplicate()
    {
        const string body = """{"n":1}""";
        var signature = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(RelayHost.HmacSecret), Encoding.UTF8.GetBytes(body)));

        using var first = await _host.PostHookAsync("hmac-hook", body, ("X-JobRelay-Signature", signature), ("X-Delivery", "a"));
        using var second = await _host.PostHookAsync("hmac-hook", body, ("X-JobRelay-Signature", signature), ("X-Delivery", "b"));

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Single(_keboola.Requests);
    }

    [Fact]
    public async Task FourIdenticalTokenDeliveriesStartOneJobAndADifferentBodyStartsAnother()
    {
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            using var response = await _host.PostHookAsync("token-hook", """{"who":"ops"}""", ("X-JobRelay-Token", RelayHost.HookToken));
            statuses.Add(response.StatusCode);
        }

        using var other = await _host.PostHookAsync("token-hook", """{"who":"dev"}""", ("X-JobRelay-Token", RelayHost.HookToken));

        Assert.Equal([HttpStatusCode.Accepted, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK], statuses);
        Assert.Equal(HttpStatusCode.Accepted, other.StatusCode);
        Assert.Equal(2, _keboola.Requests.Count);
    }

    [Fact]
    public async Task ASignedDeliveryWithoutATimestampIsADuplicateForTheWholeRetention()
    {
        const string body = """{"ref":"refs/heads/main","after":"0a0b0c"}""";
        var signature = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(RelayHost.HmacSecret), Encoding.UTF8.GetBytes(body)));

        using var first = await _host.PostHookAsync("github-hook", body, ("X-Hub-Signature-256", signature), ("X-GitHub-Event", "push"));
        _clock.Advance(TimeSpan.FromDays(6));
        using var replayed = await _host.PostHookAsync("github-hook", body, ("X-Hub-Signature-256", signature), ("X-GitHub-Event", "push"));

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, replayed.StatusCode);
        Assert.Single(_keboola.Requests);
    }

    [Theory]
    [InlineData("token-hook", 59, 2)] // the default window: an hour
    [InlineData("token-daily", 23 * 60, 2 * 60)] // the trigger's own: digestWindowSeconds 86400
    public async Task TheSameTokenDeliveryIsADuplicateWithinItsWindowAndANewEventAfter(string trigger, int minutesWithin, int minutesMore)
    {
        using var first = await _host.PostHookAsync(trigger, """{"who":"cron"}""", ("X-JobRelay-Token", RelayHost.HookToken));
        _clock.Advance(TimeSpan.FromMinutes(minutesWithin));
        using var retried = await _host.PostHookAsync(trigger, """{"who":"cron"}""", ("X-JobRelay-Token", RelayHost.HookToken));
        _clock.Advance(TimeSpan.FromMinutes(minutesMore));
        using var later = await _host.PostHookAsync(trigger, """{"who":"cron"}""", ("X-JobRelay-Token", RelayHost.HookToken));
        using var laterRetried = await _host.PostHookAsync(trigger, """{"who":"cron"}""", ("X-JobRelay-Token", RelayHost.HookToken));

        Assert.Equal(
            [HttpStatusCode.Accepted, HttpStatusCode.OK, HttpStatusCode.Accepted, HttpStatusCode.OK],
            new[] { first, retried, later, laterRetried }.Select(r => r.StatusCode));
        var firstJob = (string?)(await RelayHost.JsonAsync(first))["jobId"];
        Assert.Equal(firstJob, (string?)(await RelayHost.JsonAsync(retried))["jobId"]);
        Assert.NotEqual(firstJob, (string?)(await RelayHost.JsonAsync(later))["jobId"]);
        Assert.Equal(2, _keboola.Requests.Count);
    }

    [Fact]
    public async Task ATokenRetryAcrossTheEdgeOfAnHourIsStillADuplicate()
    {
        // 12:10 now: the first delivery comes at 12:59:50, its retry at 13:00:10, in the next hour's window.
        _clock.Advance(TimeSpan.FromMinutes(49) + TimeSpan.FromSeconds(50));
        using var first = await _host.PostHookAsync("token-hook", """{"who":"edge"}""", ("X-JobRelay-Token", RelayHost.HookToken));
        _clock.Advance(TimeSpan.FromSeconds(20));
        using var retried = await _host.PostHookAsync("token-hook", """{"who":"edge"}""", ("X-JobRelay-Token", RelayHost.HookToken));

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
        Assert.Single(_keboola.Requests);
    }

    [Fact]
    public async Task ATokenTriggerThatOptsOutStartsAJobForEveryIdenticalDelivery()
    {
        using var first = await _host.PostHookAsync("token-no-replay", """{"who":"ops"}""", ("X-JobRelay-Token", RelayHost.HookToken));
        using var second = await _host.PostHookAsync("token-no-replay", """{"who":"ops"}""", ("X-JobRelay-Token", RelayHost.HookToken));

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
        Assert.Equal(2, _keboola.Requests.Count);
    }

    [Fact]
    public async Task ATwilioFormResentWithItsFieldsReorderedIsADuplicate()
    {
        var url = new Uri(_host.Client.BaseAddress!, "/api/hooks/twilio-hook").ToString();
        var signed = url + "BodyHello" + "From+15550001" + "MessageSidSM1";
#pragma warning disable CA5350 // Twilio signs with HMAC-SHA1.
        var signature = Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes(RelayHost.HmacSecret), Encoding.UTF8.GetBytes(signed)));
#pragma warning restore CA5350

        using var first = await PostFormAsync("MessageSid=SM1&From=%2B15550001&Body=Hello", signature);
        using var reordered = await PostFormAsync("Body=Hello&MessageSid=SM1&From=%2B15550001", signature, ("I-Twilio-Idempotency-Token", "another"));

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, reordered.StatusCode);
        Assert.Single(_keboola.Requests);
    }

    [Theory]
    [InlineData("\"scheme\": \"github\", \"secrets\": [\"s\"], \"replay\": \"none\"", "cannot be 'none' for scheme 'github'")]
    [InlineData("\"scheme\": \"stripe\", \"secrets\": [\"s\"], \"replay\": \"digest\"", "does not apply to scheme 'stripe'")]
    [InlineData("\"scheme\": \"token\", \"secrets\": [\"s\"], \"replay\": \"maybe\"", "'maybe' is not one of: digest, none")]
    [InlineData("\"scheme\": \"github\", \"secrets\": [\"s\"], \"digestWindowSeconds\": 60", "does not apply to scheme 'github': a repeat of its signed content is a replay", "digestWindowSeconds")]
    [InlineData("\"scheme\": \"stripe\", \"secrets\": [\"s\"], \"digestWindowSeconds\": 60", "does not apply to scheme 'stripe'", "digestWindowSeconds")]
    [InlineData("\"scheme\": \"token\", \"secrets\": [\"s\"], \"replay\": \"none\", \"digestWindowSeconds\": 60", "does not apply with replay 'none'", "digestWindowSeconds")]
    [InlineData("\"scheme\": \"token\", \"secrets\": [\"s\"], \"digestWindowSeconds\": 0", "must be between 1 and 604800", "digestWindowSeconds")]
    public void TheCatalogRefusesAReplayRuleThatCannotHold(string webhook, string error, string field = "replay")
    {
        var result = Load(webhook);

        var failure = Assert.Single(result.Errors);
        Assert.Equal("$.triggers.t.webhook." + field, failure.Path);
        Assert.Contains(error, failure.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"scheme\": \"token\", \"secrets\": [\"s\"], \"replay\": \"none\"", WebhookReplay.None)]
    [InlineData("\"scheme\": \"gitlab\", \"secrets\": [\"s\"], \"replay\": \"none\"", WebhookReplay.None)]
    [InlineData("\"scheme\": \"token\", \"secrets\": [\"s\"]", WebhookReplay.Digest)]
    [InlineData("\"scheme\": \"github\", \"secrets\": [\"s\"], \"replay\": \"digest\"", WebhookReplay.Digest)]
    public void TheCatalogReadsTheReplayRule(string webhook, WebhookReplay expected)
    {
        var result = Load(webhook);

        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        Assert.Equal(expected, result.Catalog!.Triggers["t"].Webhook!.Replay);
    }

    [Theory]
    [InlineData("\"scheme\": \"token\", \"secrets\": [\"s\"]", 3600)]
    [InlineData("\"scheme\": \"gitlab\", \"secrets\": [\"s\"], \"digestWindowSeconds\": 86400", 86400)]
    [InlineData("\"scheme\": \"token\", \"secrets\": [\"s\"], \"replay\": \"digest\", \"digestWindowSeconds\": 1", 1)]
    public void TheCatalogReadsTheDigestWindow(string webhook, int seconds)
    {
        var result = Load(webhook);

        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        Assert.Equal(TimeSpan.FromSeconds(seconds), result.Catalog!.Triggers["t"].Webhook!.DigestWindow);
    }

    private static CatalogLoadResult Load(string webhook) => TriggerCatalogLoader.Parse($$"""
        {
          "platforms": { "kbc": { "type": "keboola", "stack": "eu-frankfurt-aws", "tokenSecret": "kbc-token" } },
          "triggers": { "t": { "platform": "kbc", "keboola": { "component": "c" }, "webhook": { {{webhook}} } } }
        }
        """);

    private Task<HttpResponseMessage> PostFormAsync(string form, string signature, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/hooks/twilio-hook") { Content = new StringContent(form, Encoding.UTF8, "application/x-www-form-urlencoded") };
        request.Headers.TryAddWithoutValidation("X-Twilio-Signature", signature);
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return _host.Client.SendAsync(request);
    }
}
