using System.Net;
using System.Text;
using JobRelay.Cli;
using JobRelay.Tests.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace JobRelay.Tests.Webhooks;

/// <summary>
/// The README's token-hook <c>curl</c> against the sandbox (the built-in catalog, its secrets and emulators), sent as a
/// script or cron service would send it: twice within the hour, then again after it.
/// </summary>
public sealed class TokenHookWalkthroughTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 22, 7, 0, 0, TimeSpan.Zero));
    private SandboxSession _sandbox = null!;
    private RelayHost _host = null!;

    public async Task InitializeAsync()
    {
        _sandbox = await SandboxSession.StartAsync(userCatalogPath: null, CancellationToken.None);
        var catalog = await File.ReadAllTextAsync(_sandbox.Configuration["JobRelay:Catalog:Path"]!);
        _host = await RelayHost.StartAsync(catalog, new Dictionary<string, Uri>(), _sandbox.Configuration, s => s.AddSingleton<TimeProvider>(_clock));
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _sandbox.DisposeAsync();
    }

    [Fact]
    public async Task TheReadmesTokenHookCurlStartsAJobThenIsADuplicateWithinTheHourAndStartsAnotherAfterIt()
    {
        using var first = await CurlAsync();
        _clock.Advance(TimeSpan.FromMinutes(10));
        using var again = await CurlAsync();
        _clock.Advance(TimeSpan.FromMinutes(51));
        using var nextHour = await CurlAsync();

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, nextHour.StatusCode);
        var firstRun = await RelayHost.JsonAsync(first);
        var againRun = await RelayHost.JsonAsync(again);
        var nextRun = await RelayHost.JsonAsync(nextHour);
        Assert.Equal((string?)firstRun["runId"], (string?)againRun["runId"]);
        Assert.NotEqual((string?)firstRun["runId"], (string?)nextRun["runId"]);
        Assert.NotEqual((string?)firstRun["jobId"], (string?)nextRun["jobId"]);

        // Both jobs exist on the TheEye emulator: the status route reads each one from it.
        foreach (var job in new[] { (string?)firstRun["jobId"], (string?)nextRun["jobId"] })
        {
            using var status = await _host.GetAsync($"/api/triggers/token-hook/jobs/{job}", apiKey: RelayHost.ApiKey);
            Assert.Equal(HttpStatusCode.OK, status.StatusCode);
            Assert.Equal(job, (string?)(await RelayHost.JsonAsync(status))["jobId"]);
        }
    }

    /// <summary><c>curl -X POST -H "X-JobRelay-Token: sandbox-webhook-secret" -H "content-type: application/json" -d '{"who":"ops"}' …/api/hooks/token-hook</c></summary>
    private Task<HttpResponseMessage> CurlAsync()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/hooks/token-hook") { Content = new StringContent("""{"who":"ops"}""", Encoding.UTF8, "application/json") };
        request.Headers.Add("X-JobRelay-Token", "sandbox-webhook-secret");
        return _host.Client.SendAsync(request);
    }
}
