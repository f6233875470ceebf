using System.Net;
using JobRelay.Http;
using JobRelay.Tests.Http;
using JobRelay.Tests.Support;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace JobRelay.Tests.Dashboard;

/// <summary>
/// The job controls in a real browser, against TheEye played on loopback: an operator approves an approval job on
/// hold, and a cancel TheEye refuses shows TheEye's words, both in the run's history under the key's name.
/// </summary>
public sealed class DashboardJobControlTests : IAsyncLifetime
{
    private const string JobId = "64f0000000000000000000ab";

    private static readonly string Catalog = new CatalogBuilder().TheEye().TheEyeTask("deploy", "deploy-task").Build();

    private LoopbackPlatforms _platforms = null!;
    private RelayHost _host = null!;
    private HeadlessChromium _chromium = null!;

    public async Task InitializeAsync()
    {
        SetDefaultExpectTimeout(15_000);
        _platforms = await LoopbackPlatforms.StartAsync(new LoopbackPlatformOptions { TheEyeJobId = JobId, TheEyeApproval = true, TheEyeCancellable = false });
        _host = await RelayHost.StartAsync(Catalog, _platforms.Urls);
        _chromium = await HeadlessChromium.LaunchAsync();
    }

    public async Task DisposeAsync()
    {
        if (_chromium is not null)
        {
            await _chromium.DisposeAsync();
        }

        await _host.DisposeAsync();
        await _platforms.DisposeAsync();
    }

    [Fact]
    public async Task AnOperatorApprovesATheEyeJobOnHoldAndSeesTheEyeRefuseACancelInItsOwnWords()
    {
        using var run = await _host.PostRunAsync("deploy");
        Assert.Equal(HttpStatusCode.Accepted, run.StatusCode);
        var runId = (string)(await RelayHost.JsonAsync(run))["runId"]!;
        await using var context = await _chromium.Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 1000 } });
        var page = await context.NewPageAsync();
        await page.GotoAsync(new Uri(_host.Client.BaseAddress!, "/dashboard").ToString());
        await page.GetByLabel("API key").FillAsync(RelayHost.ApiKey);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();

        await page.Locator($"#runs tbody tr[data-run-id=\"{runId}\"]").GetByRole(AriaRole.Button, new() { Name = $"Open lineage of run {runId} (deploy)" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Approve…" }).ClickAsync();
        var dialog = page.Locator("#confirm");
        await Expect(dialog.Locator("#confirm-text")).ToContainTextAsync($"Approve job {JobId} of run {runId} on eye");
        var sent = page.WaitForRequestAsync(request => request.Url.EndsWith($"/api/runs/{runId}/approve", StringComparison.Ordinal));
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Approve" }).ClickAsync();
        var request = await sent;

        Assert.Equal("POST", request.Method);
        Assert.Equal("{}", request.PostData);
        Assert.Equal(RelayHost.ApiKey, (await request.AllHeadersAsync())[RelayEndpoints.ApiKeyHeader]);
        await Expect(page.Locator("#action-result")).ToHaveTextAsync("Approve done.");
        await Expect(page.Locator("#detail-history")).ToContainTextAsync($"approve by default: approve of job {JobId} requested; the job is finished/success");
        var approve = Assert.Single(_platforms.TheEye.Requests, r => r.Method == "PUT");
        Assert.Equal(($"/acme/job/{JobId}/approve", "Bearer " + RelayHost.TheEyeToken), (approve.Path, approve.Header("Authorization")));

        await page.GetByRole(AriaRole.Button, new() { Name = "Cancel job…" }).ClickAsync();
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Cancel job" }).ClickAsync();

        await Expect(page.Locator("#error")).ToContainTextAsync("(HTTP 403: Job is not cancellable)");
        await Expect(page.Locator("#app")).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = $"Open lineage of run {runId} (deploy)" }).ClickAsync();
        await Expect(page.Locator("#detail-history")).ToContainTextAsync("cancel by default: refused by the platform (HTTP 403)");
        Assert.Equal(2, _platforms.TheEye.Requests.Count(r => r.Method == "PUT"));
    }
}
