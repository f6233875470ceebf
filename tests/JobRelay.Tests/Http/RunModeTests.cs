using System.Net;
using JobRelay.Http;
using JobRelay.Runs;
using JobRelay.Sandbox;
using Microsoft.Extensions.DependencyInjection;

namespace JobRelay.Tests.Http;

/// <summary><c>POST /api/triggers/{trigger}/runs</c> waits for the platform by default; <c>?mode=queue</c> leaves the start to the sweep.</summary>
public sealed class RunModeTests : IAsyncLifetime
{
    private const string Catalog = """
        {
          "platforms": { "kbc": { "type": "keboola", "url": "http://127.0.0.1:1/", "tokenSecret": "kbc-token" } },
          "triggers": {
            "load": { "platform": "kbc", "keboola": { "component": "keboola.ex-load", "config": "7" } }
          }
        }
        """;

    private SandboxPlatforms _sandbox = null!;
    private RelayHost _host = null!;

    public async Task InitializeAsync()
    {
        _sandbox = await SandboxPlatforms.StartAsync(new SandboxOptions(), CancellationToken.None);
        _host = await RelayHost.StartAsync(
            Catalog,
            new Dictionary<string, Uri> { ["kbc"] = _sandbox.KeboolaUrl },
            new Dictionary<string, string?> { ["JobRelay:Secrets:Values:kbc-token"] = SandboxCredentials.KeboolaToken });
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _sandbox.DisposeAsync();
    }

    [Theory]
    [InlineData("")]
    [InlineData("?mode=wait")]
    public async Task WithoutQueueModeTheCallerGetsTheStartedJob(string query)
    {
        using var response = await SendAsync(query);
        var answer = await RelayHost.JsonAsync(response);

        var job = Assert.Single(_sandbox.Jobs);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(job.Id, (string?)answer["jobId"]);
        Assert.Equal($"/api/triggers/load/jobs/{job.Id}", response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task AQueuedRunStartsNothingUntilTheSweepAndThenExactlyOneJob()
    {
        using var response = await SendAsync("?mode=queue");
        var answer = await RelayHost.JsonAsync(response);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("pending", (string?)answer["status"]);
        Assert.Null(answer["jobId"]);
        Assert.Empty(_sandbox.Jobs);

        var sweep = _host.Services.GetRequiredService<RunSweep>();
        var first = await sweep.SweepAsync(CancellationToken.None);
        var second = await sweep.SweepAsync(CancellationToken.None);

        Assert.Equal(1, first.Started);
        Assert.Equal(0, second.Started);
        var job = Assert.Single(_sandbox.Jobs);
        Assert.Contains("keboola.ex-load", job.RequestBody, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("?mode=later")]
    [InlineData("?mode=queue&mode=wait")]
    public async Task AnUnknownModeIsRefusedBeforeAnythingStarts(string query)
    {
        using var response = await SendAsync(query);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Empty(_sandbox.Jobs);
    }

    private async Task<HttpResponseMessage> SendAsync(string query)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/triggers/load/runs{query}");
        request.Headers.Add(RelayEndpoints.ApiKeyHeader, RelayHost.ApiKey);
        return await _host.Client.SendAsync(request);
    }
}
