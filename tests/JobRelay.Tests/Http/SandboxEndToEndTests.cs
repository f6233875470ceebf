using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using JobRelay.Sandbox;
using JobRelay.Web;
using Microsoft.Extensions.Time.Testing;

namespace JobRelay.Tests.Http;

/// <summary>The whole path over real HTTP on loopback: the HTTP surface, the adapters and the sandbox platforms.</summary>
public sealed class SandboxEndToEndTests : IAsyncLifetime
{
    private const string Catalog = """
        {
          "platforms": {
            "kbc": { "type": "keboola", "url": "http://127.0.0.1:1/", "tokenSecret": "kbc-token" },
            "eye": { "type": "theeye", "url": "http://127.0.0.1:1/", "customer": "sandbox", "accessTokenSecret": "eye-token" }
          },
          "triggers": {
            "load": {
              "platform": "kbc",
              "arguments": { "since": { "default": "yesterday", "overridable": true } },
              "keboola": { "component": "keboola.ex-db", "config": "1", "variables": { "since": "{{since}}" } }
            },
            "notify": {
              "platform": "eye",
              "arguments": { "who": { "from": "body:$.who", "required": true } },
              "theeye": { "task": "sandbox-notify", "taskArguments": ["{{who}}", "hello"] },
              "webhook": { "scheme": "token", "secrets": ["hook-token"] }
            },
            "short-args": {
              "platform": "eye",
              "theeye": { "task": "sandbox-notify", "taskArguments": ["only-one"] }
            }
          }
        }
        """;

    /// <summary>The sandbox's jobs move through their states only as a test moves this clock.</summary>
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
    private SandboxPlatforms _sandbox = null!;
    private RelayHost _host = null!;

    public async Task InitializeAsync()
    {
        _sandbox = await SandboxPlatforms.StartAsync(new SandboxOptions { JobDuration = TimeSpan.FromMilliseconds(600), TimeProvider = _clock }, CancellationToken.None);
        _host = await RelayHost.StartAsync(
            Catalog,
            new Dictionary<string, Uri> { ["kbc"] = _sandbox.KeboolaUrl, ["eye"] = _sandbox.TheEyeUrl },
            new Dictionary<string, string?>
            {
                ["JobRelay:Secrets:Values:kbc-token"] = SandboxCredentials.KeboolaToken,
                ["JobRelay:Secrets:Values:eye-token"] = SandboxCredentials.TheEyeAccessToken,
                ["JobRelay:Platforms:Http:AttemptTimeout"] = "00:00:01",
                ["JobRelay:Platforms:Http:ConnectTimeout"] = "00:00:00.500",
                ["JobRelay:Platforms:Http:TotalTimeout"] = "00:00:03",
            });
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _sandbox.DisposeAsync();
    }

    [Fact]
    public async Task AnApiRunStartsAKeboolaJobWhoseStatusIsFollowedToSuccess()
    {
        using var run = await _host.PostRunAsync("load", """{"arguments":{"since":"2026-01-01"}}""");
        Assert.Equal(HttpStatusCode.Accepted, run.StatusCode);
        var location = run.Headers.Location!.OriginalString;

        JsonObject status;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        do
        {
            _clock.Advance(TimeSpan.FromMilliseconds(200));
            using var read = await _host.GetAsync(location);
            status = (await read.Content.ReadFromJsonAsync<JsonObject>())!;
        }
        while (!(bool)status["isFinal"]! && DateTime.UtcNow < deadline);

        Assert.Equal("succeeded", (string?)status["state"]);
        var job = Assert.Single(_sandbox.Jobs);
        Assert.Contains("\"value\":\"2026-01-01\"", job.RequestBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AWebhookStartsATheeyeTaskWithMappedArguments()
    {
        using var response = await _host.PostHookAsync("notify", """{"who":"ops"}""", ("X-JobRelay-Token", RelayHost.HookToken));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("""{"task":"sandbox-notify","task_arguments":["ops","hello"]}""", Assert.Single(_sandbox.Jobs).RequestBody);
    }

    [Fact]
    public async Task TooFewTaskArgumentsAreA502WithTheeyeSOwnMessage()
    {
        using var response = await _host.PostRunAsync("short-args");

        var problem = await RelayHost.JsonAsync(response);
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("urn:jobrelay:problem:platform-rejected", (string?)problem["type"]);
        Assert.Contains("An array of length 2 is required", (string?)problem["detail"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task APlatformBusyBeyondTheRetriesIsA503WithRetryAfterAndNoJob()
    {
        _sandbox.InjectFault(new SandboxFault("keboola") { Status = 503, RetryAfterSeconds = 1, Count = 5 });

        using var response = await _host.PostRunAsync("load");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.Equal("urn:jobrelay:problem:platform-unavailable", (string?)(await RelayHost.JsonAsync(response))["type"]);
        Assert.Empty(_sandbox.Jobs);
    }

    [Fact]
    public async Task One429WithRetryAfterIsRetriedAndTheJobStartsOnce()
    {
        _sandbox.InjectFault(new SandboxFault("keboola") { Status = 429, RetryAfterSeconds = 1 });

        using var response = await _host.PostRunAsync("load");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Single(_sandbox.Jobs);
    }

    [Fact]
    public async Task A500OnTheStartIsAnUnknownOutcomeAndIsNotResent()
    {
        _sandbox.InjectFault(new SandboxFault("keboola") { Status = 500, Count = 3 });

        using var response = await _host.PostRunAsync("load");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("urn:jobrelay:problem:outcome-unknown", (string?)(await RelayHost.JsonAsync(response))["type"]);
    }

    [Fact]
    public async Task AConnectionDroppedAfterTheStartWasSentIsAnUnknownOutcome()
    {
        _sandbox.InjectFault(new SandboxFault("keboola") { Drop = true, Count = 3 });

        using var response = await _host.PostRunAsync("load");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("urn:jobrelay:problem:outcome-unknown", (string?)(await RelayHost.JsonAsync(response))["type"]);
        Assert.Empty(_sandbox.Jobs);
    }

    [Fact]
    public async Task AStatusReadThatNeverAnswersInTimeIsA504()
    {
        using var run = await _host.PostRunAsync("load");
        _sandbox.InjectFault(new SandboxFault("keboola") { Latency = TimeSpan.FromSeconds(5), Count = 5 });

        using var response = await _host.GetAsync(run.Headers.Location!.OriginalString);

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("urn:jobrelay:problem:timeout", (string?)(await RelayHost.JsonAsync(response))["type"]);
    }

    [Fact]
    public async Task ASecondJobOfTheSameConfigurationWaitsOnTheLock()
    {
        using var first = await _host.PostRunAsync("load");
        using var second = await _host.PostRunAsync("load");
        _clock.Advance(TimeSpan.FromMilliseconds(400));

        using var read = await _host.GetAsync(second.Headers.Location!.OriginalString);
        var status = (await read.Content.ReadFromJsonAsync<JsonObject>())!;

        Assert.Equal("waiting", (string?)status["rawStatus"]);
        Assert.Equal(2, _sandbox.Jobs.Count);
    }
}
