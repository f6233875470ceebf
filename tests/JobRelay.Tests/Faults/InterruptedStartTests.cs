using System.Net;
using JobRelay.Platforms;
using JobRelay.Sandbox;
using JobRelay.State;
using JobRelay.Tests.Http;
using JobRelay.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace JobRelay.Tests.Faults;

/// <summary>
/// A start broken by something no adapter anticipated (here the HTTP stack itself throws) may have reached the platform:
/// it is recorded and answered as of unknown outcome, never as JobRelay's own unexpected failure.
/// </summary>
public sealed class InterruptedStartTests
{
    [Fact]
    public async Task AStartTheHttpStackBreaksIsAnsweredAndRecordedAsOfUnknownOutcomeNotAs500()
    {
        await using var host = await RelayHost.StartAsync(
            new CatalogBuilder().Keboola().KeboolaJob("load", "7").Build(),
            new Dictionary<string, Uri> { ["kbc"] = new("http://127.0.0.1:9/") },
            new Dictionary<string, string?> { ["JobRelay:Secrets:Values:kbc-token"] = SandboxCredentials.KeboolaToken },
            services => services.AddHttpClient(JobPlatforms.HttpClientName).AddHttpMessageHandler(() => new BrokenHandler()));

        using var response = await host.PostRunAsync("load");
        var problem = await RelayHost.JsonAsync(response);
        var runs = await host.Services.GetRequiredService<IRelayStore>().ListRunsAsync(new RunFilter { Trigger = "load" }, CancellationToken.None);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("urn:jobrelay:problem:outcome-unknown", (string?)problem["type"]);
        Assert.Equal(RunState.OutcomeUnknown, Assert.Single(runs.Runs).State);
    }

    private sealed class BrokenHandler : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            => throw new InvalidOperationException("the HTTP stack broke");
    }
}
