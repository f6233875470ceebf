using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using JobRelay.Sandbox;
using Microsoft.Extensions.Time.Testing;
using StandardWebhooks;

namespace JobRelay.Tests.Sandbox;

/// <summary>The sandbox's receiver of outbound events: what it accepts, what it refuses, and what it shows.</summary>
public sealed class SandboxReceiverTests : IAsyncLifetime, IDisposable
{
    private const string Event = """{"id":"evt_01ABC_job.failed","type":"job.failed","timestamp":"2026-11-22T12:00:00Z","data":{"runId":"01ABC","trigger":"load-invoices"}}""";
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private readonly HttpClient _http = new();
    private SandboxPlatforms _sandbox = null!;

    public async Task InitializeAsync()
        => _sandbox = await SandboxPlatforms.StartAsync(new SandboxOptions { TimeProvider = _clock }, CancellationToken.None);

    public async Task DisposeAsync() => await _sandbox.DisposeAsync();

    public void Dispose() => _http.Dispose();

    [Fact]
    public async Task A_webhook_signed_with_the_sandbox_signing_secret_is_verified_and_listed()
    {
        using var answer = await PostSigned(Event, SandboxCredentials.SigningSecret);
        var received = await ReceivedAsync();

        Assert.Equal(HttpStatusCode.NoContent, answer.StatusCode);
        Assert.Equal(new Uri(_sandbox.KeboolaUrl, "/sandbox/received"), _sandbox.ReceivedUrl);
        var delivery = Assert.Single(received);
        Assert.Equal("webhook", (string?)delivery!["kind"]);
        Assert.True((bool)delivery["accepted"]!);
        Assert.Null(delivery["problem"]);
        Assert.Equal("evt_01ABC_job.failed", (string?)delivery["webhookId"]);
        Assert.Equal(_clock.GetUtcNow(), (DateTimeOffset)delivery["receivedAt"]!);
        Assert.Equal(Event, delivery["body"]!.ToJsonString());
    }

    [Fact]
    public async Task A_tampered_webhook_is_refused_with_401_and_listed_as_not_verified()
    {
        using var answer = await PostSigned(Event, SandboxCredentials.SigningSecret, tamper: true);
        var delivery = Assert.Single(await ReceivedAsync());

        Assert.Equal(HttpStatusCode.Unauthorized, answer.StatusCode);
        Assert.False((bool)delivery!["accepted"]!);
        Assert.StartsWith("not verified: ", (string?)delivery["problem"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_webhook_signed_with_another_secret_is_refused_with_401()
    {
        using var answer = await PostSigned(Event, "whsec_" + Convert.ToBase64String("another-secret"u8));

        Assert.Equal(HttpStatusCode.Unauthorized, answer.StatusCode);
        Assert.False((bool)Assert.Single(await ReceivedAsync())!["accepted"]!);
    }

    [Fact]
    public async Task A_webhook_without_signature_headers_is_refused_with_401()
    {
        using var answer = await _http.PostAsync(_sandbox.WebhookReceiverUrl, new StringContent(Event, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.Unauthorized, answer.StatusCode);
        Assert.False((bool)Assert.Single(await ReceivedAsync())!["accepted"]!);
    }

    [Fact]
    public async Task A_Slack_message_with_text_and_typed_blocks_is_answered_ok_as_Slack_answers()
    {
        const string Message = """{"text":"❌ load-invoices: failed","blocks":[{"type":"section","text":{"type":"mrkdwn","text":"x"}}]}""";

        using var answer = await _http.PostAsync(_sandbox.SlackReceiverUrl, new StringContent(Message, Encoding.UTF8, "application/json"));
        var delivery = Assert.Single(await ReceivedAsync());

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("ok", await answer.Content.ReadAsStringAsync());
        Assert.Equal("slack", (string?)delivery!["kind"]);
        Assert.True((bool)delivery["accepted"]!);
        Assert.Null(delivery["webhookId"]);
        Assert.Equal(Message, delivery["body"]!.ToJsonString(new System.Text.Json.JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
    }

    [Theory]
    [InlineData("""{"blocks":[]}""", "a Slack message needs a non-empty \"text\"")]
    [InlineData("""{"text":""}""", "a Slack message needs a non-empty \"text\"")]
    [InlineData("""{"text":"hi","blocks":[{"text":"no type"}]}""", "\"blocks\" must be an array of objects that each have a \"type\"")]
    [InlineData("not json", "a Slack message needs a non-empty \"text\"")]
    public async Task A_body_that_is_not_a_Slack_message_is_answered_400_invalid_payload(string body, string problem)
    {
        using var answer = await _http.PostAsync(_sandbox.SlackReceiverUrl, new StringContent(body, Encoding.UTF8, "application/json"));
        var delivery = Assert.Single(await ReceivedAsync());

        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
        Assert.Equal("invalid_payload", await answer.Content.ReadAsStringAsync());
        Assert.False((bool)delivery!["accepted"]!);
        Assert.Equal(problem, (string?)delivery["problem"]);
    }

    [Fact]
    public async Task A_Teams_message_with_an_Adaptive_Card_is_accepted_and_one_without_is_refused()
    {
        const string Card = """{"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive","content":{"type":"AdaptiveCard","version":"1.4","body":[]}}]}""";

        using var good = await _http.PostAsync(_sandbox.TeamsReceiverUrl, new StringContent(Card, Encoding.UTF8, "application/json"));
        using var bad = await _http.PostAsync(_sandbox.TeamsReceiverUrl, new StringContent("""{"type":"message","attachments":[{"contentType":"text/plain"}]}""", Encoding.UTF8, "application/json"));
        var received = await ReceivedAsync();

        Assert.Equal(HttpStatusCode.Accepted, good.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal([("teams", true), ("teams", false)], received.Select(d => ((string)d!["kind"]!, (bool)d["accepted"]!)));
    }

    [Fact]
    public async Task The_receiver_keeps_at_most_MaxJobs_deliveries_forgetting_the_oldest()
    {
        await using var small = await SandboxPlatforms.StartAsync(new SandboxOptions { MaxJobs = 2 }, CancellationToken.None);
        foreach (var text in new[] { "one", "two", "three" })
        {
            using var answer = await _http.PostAsync(small.SlackReceiverUrl, new StringContent($$"""{"text":"{{text}}"}""", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        }

        Assert.Equal(["two", "three"], small.Received.Select(d => (string)JsonNode.Parse(d.Body)!["text"]!));
    }

    private async Task<HttpResponseMessage> PostSigned(string body, string secret, bool tamper = false)
    {
        var timestamp = _clock.GetUtcNow();
        var request = new HttpRequestMessage(HttpMethod.Post, _sandbox.WebhookReceiverUrl)
        {
            Content = new StringContent(tamper ? body.Replace("failed\"", "succeeded\"", StringComparison.Ordinal) : body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("webhook-id", "evt_01ABC_job.failed");
        request.Headers.Add("webhook-timestamp", timestamp.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
        request.Headers.Add("webhook-signature", new StandardWebhook(secret).Sign("evt_01ABC_job.failed", timestamp, body));
        using (request)
        {
            return await _http.SendAsync(request);
        }
    }

    private async Task<JsonArray> ReceivedAsync()
    {
        using var listing = await _http.GetAsync(_sandbox.ReceivedUrl);
        Assert.Equal(HttpStatusCode.OK, listing.StatusCode);
        return (await listing.Content.ReadFromJsonAsync<JsonObject>())!["received"]!.AsArray();
    }
}
