using System.Net;
using System.Text.RegularExpressions;
using JobRelay.Http;
using JobRelay.Sandbox;
using JobRelay.Tests.Http;
using JobRelay.Tests.Support;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace JobRelay.Tests.Dashboard;

/// <summary>
/// The dashboard in a real browser (Debian's chromium, headless) against the test host and the sandbox platforms:
/// what an operator does at 3 a.m., by mouse, by keyboard only, and on a phone.
/// </summary>
public sealed class DashboardBrowserTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Catalog = """
        {
          "platforms": { "kbc": { "type": "keboola", "url": "http://127.0.0.1:1/", "tokenSecret": "kbc-token" } },
          "triggers": {
            "nightly": {
              "platform": "kbc",
              "description": "The nightly load",
              "arguments": { "since": { "from": "body:$.since", "required": true } },
              "keboola": { "component": "keboola.ex-db", "config": "1", "variables": { "since": "{{since}}" } },
              "webhook": { "scheme": "token", "secrets": ["hook-token"] },
              "schedule": { "cron": "0 0 2 * * *", "timeZone": "UTC" }
            }
          }
        }
        """;

    private SandboxPlatforms _sandbox = null!;
    private RelayHost _host = null!;
    private HeadlessChromium _chromium = null!;

    public async Task InitializeAsync()
    {
        SetDefaultExpectTimeout(15_000);
        _sandbox = await SandboxPlatforms.StartAsync(new SandboxOptions { JobDuration = TimeSpan.FromMilliseconds(300) }, CancellationToken.None);
        _host = await RelayHost.StartAsync(
            Catalog,
            new Dictionary<string, Uri> { ["kbc"] = _sandbox.KeboolaUrl },
            new Dictionary<string, string?>
            {
                ["JobRelay:Secrets:Values:kbc-token"] = SandboxCredentials.KeboolaToken,
                ["JobRelay:Platforms:Http:AttemptTimeout"] = "00:00:02",
                ["JobRelay:Platforms:Http:ConnectTimeout"] = "00:00:00.500",
                ["JobRelay:Platforms:Http:TotalTimeout"] = "00:00:04",
            });
        _chromium = await HeadlessChromium.LaunchAsync();
    }

    public async Task DisposeAsync()
    {
        if (_chromium is not null)
        {
            await _chromium.DisposeAsync();
        }

        await _host.DisposeAsync();
        await _sandbox.DisposeAsync();
    }

    [Fact]
    public async Task AnOperatorSeesAWebhookRunOpensItsLineageAndStartsAnUnknownOutcomeAgain()
    {
        await using var context = await _chromium.Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 1000 } });
        var page = await context.NewPageAsync();
        await SignInAsync(page);

        var started = await FireAsync("2026-12-01");
        var startedRow = page.Locator($"#runs tbody tr[data-run-id=\"{started}\"]");
        await Expect(startedRow).ToBeVisibleAsync();
        await Expect(startedRow).ToHaveAttributeAsync("data-state", "started");
        await Expect(startedRow.Locator("td").Nth(1)).ToHaveTextAsync("nightly");
        await Expect(startedRow.Locator("td").Nth(2)).ToHaveTextAsync("webhook");
        await Expect(page.Locator("#live")).ToContainTextAsync("Updated");

        _sandbox.InjectFault(new SandboxFault("keboola") { Drop = true });
        var unknown = await FireAsync("2026-12-02", HttpStatusCode.BadGateway);
        var unknownRow = page.Locator($"#runs tbody tr[data-run-id=\"{unknown}\"]");
        await Expect(unknownRow).ToHaveAttributeAsync("data-state", "outcome-unknown");

        await unknownRow.GetByRole(AriaRole.Button, new() { Name = $"Open lineage of run {unknown} (nightly)" }).ClickAsync();
        await Expect(page.Locator("#detail-heading")).ToHaveTextAsync($"Run {unknown} (nightly)");
        await Expect(page.Locator("#chain .node[data-role='this run']")).ToHaveAttributeAsync("data-run-id", unknown);
        await Expect(page.Locator("#chain .node[data-role='cause'] strong")).ToHaveTextAsync("webhook");

        await page.GetByRole(AriaRole.Button, new() { Name = "Start again…" }).ClickAsync();
        var dialog = page.Locator("#confirm");
        await Expect(dialog).ToBeVisibleAsync();
        await Expect(dialog.Locator("#confirm-text")).ToContainTextAsync("its job may already exist");
        var confirm = dialog.GetByRole(AriaRole.Button, new() { Name = "Start again" });
        await Expect(confirm).ToBeDisabledAsync();
        await dialog.GetByLabel("I checked the platform").CheckAsync();
        var sent = page.WaitForRequestAsync(request => request.Url.EndsWith($"/api/runs/{unknown}/start-again", StringComparison.Ordinal));
        await confirm.ClickAsync();
        var request = await sent;

        Assert.Equal("POST", request.Method);
        Assert.Equal($"{_host.Client.BaseAddress!.GetLeftPart(UriPartial.Authority)}/api/runs/{unknown}/start-again", request.Url);
        Assert.Equal("""{"confirm":true}""", request.PostData);
        var headers = await request.AllHeadersAsync();
        Assert.Equal(RelayHost.ApiKey, headers[RelayEndpoints.ApiKeyHeader]);
        Assert.Equal("application/json", headers["content-type"]);
        Assert.False(headers.ContainsKey("referer"));

        await Expect(dialog).ToBeHiddenAsync();
        await Expect(page.Locator("#action-result")).ToContainTextAsync("Start again done: new run");
        await Expect(page.Locator("#action-result")).ToContainTextAsync("may exist");
        await Expect(page.Locator("#chain .node[data-role='parent']")).ToHaveAttributeAsync("data-run-id", unknown);
        var again = await page.Locator("#chain .node[data-role='this run']").GetAttributeAsync("data-run-id");
        Assert.NotEqual(unknown, again);
        await Expect(page.Locator($"#runs tbody tr[data-run-id=\"{again}\"]")).ToHaveAttributeAsync("data-state", "started");
        await Expect(page.Locator($"#runs tbody tr[data-run-id=\"{again}\"] td").Nth(2)).ToHaveTextAsync("start-again");
        Assert.Equal(2, _sandbox.Jobs.Count);

        await page.GetByRole(AriaRole.Button, new() { Name = $"Open parent run {unknown}" }).ClickAsync();
        await Expect(page.Locator("#detail-heading")).ToHaveTextAsync($"Run {unknown} (nightly)");
        await Expect(page.Locator("#chain .node[data-role='follower']")).ToHaveAttributeAsync("data-run-id", again!);
        await Expect(page.Locator("#detail-history")).ToContainTextAsync("start-again by default");

        await Expect(page.Locator("#stats tbody tr[data-trigger='nightly'] td").First).ToHaveTextAsync(new Regex("^[1-9]"));
        await Expect(page.Locator("#stats thead th").Nth(8)).ToHaveTextAsync("Overdue");
        await Expect(page.Locator("#stats tbody tr[data-trigger='nightly'] td").Nth(7)).ToHaveTextAsync("0");
        await Expect(page.Locator("#triggers li[data-trigger='nightly']")).ToContainTextAsync("Next: ");
        Assert.Equal(RelayHost.ApiKey, await page.EvaluateAsync<string>("sessionStorage.getItem('jobrelay.apiKey')"));
        Assert.Equal(0, await page.EvaluateAsync<int>("localStorage.length"));

        var screenshot = HeadlessChromium.ScreenshotPath("dashboard.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot, FullPage = true });
        output.WriteLine($"Dashboard screenshot saved to {screenshot}");
    }

    [Fact]
    public async Task EverythingOnThePathToARunSLineageAndAnActionWorksByKeyboardWithVisibleFocus()
    {
        var started = await FireAsync("2026-12-03");
        await using var context = await _chromium.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync(new Uri(_host.Client.BaseAddress!, "/dashboard").ToString());

        await Expect(page.Locator("#api-key")).ToBeFocusedAsync();
        await page.Keyboard.TypeAsync(RelayHost.ApiKey);
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator("#runs-heading")).ToBeFocusedAsync();

        var lineage = page.Locator($"button[data-run-id=\"{started}\"]");
        await Expect(lineage).ToBeVisibleAsync();
        await TabUntilFocusedAsync(page, lineage);
        var outline = await lineage.EvaluateAsync<string>("e => getComputedStyle(e).outlineStyle + ' ' + getComputedStyle(e).outlineWidth");
        Assert.Equal("solid 3px", outline);
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator("#detail-heading")).ToBeFocusedAsync();
        await Expect(page.Locator("#detail-heading")).ToHaveTextAsync($"Run {started} (nightly)");

        var replay = page.GetByRole(AriaRole.Button, new() { Name = "Replay…" });
        await TabUntilFocusedAsync(page, replay);
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator("#confirm")).ToBeVisibleAsync();
        await Expect(page.Locator("#confirm-no")).ToBeFocusedAsync();
        await page.Keyboard.PressAsync("Escape");
        await Expect(page.Locator("#confirm")).ToBeHiddenAsync();
        await Expect(replay).ToBeFocusedAsync();
        Assert.Single(_sandbox.Jobs);
    }

    [Fact]
    public async Task OnA375PixelPhoneTheRunsReadAsCardsWithoutSidewaysScrolling()
    {
        var started = await FireAsync("2026-12-04");
        await using var context = await _chromium.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = 375, Height = 812 },
            IsMobile = true,
            HasTouch = true,
        });
        var page = await context.NewPageAsync();
        await SignInAsync(page);

        var row = page.Locator($"#runs tbody tr[data-run-id=\"{started}\"]");
        await Expect(row).ToBeVisibleAsync();
        Assert.True(await page.EvaluateAsync<int>("document.documentElement.scrollWidth") <= 375, "The page scrolls sideways at 375 px.");
        Assert.Equal("block", await row.EvaluateAsync<string>("e => getComputedStyle(e).display"));
        Assert.Equal("State", await row.Locator("td").Nth(3).EvaluateAsync<string>("e => e.dataset.label"));
        var button = await row.GetByRole(AriaRole.Button).BoundingBoxAsync();
        Assert.NotNull(button);
        Assert.True(button.X >= 0 && button.X + button.Width <= 375, $"The lineage button is at {button.X}..{button.X + button.Width}.");
        Assert.True(button.Height >= 36, $"The lineage button is {button.Height} px high.");

        var screenshot = HeadlessChromium.ScreenshotPath("dashboard-375px.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot, FullPage = true });
        output.WriteLine($"Phone screenshot saved to {screenshot}");
    }

    private async Task SignInAsync(IPage page)
    {
        await page.GotoAsync(new Uri(_host.Client.BaseAddress!, "/dashboard").ToString());
        await page.GetByLabel("API key").FillAsync(RelayHost.ApiKey);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.Locator("#app")).ToBeVisibleAsync();
    }

    /// <summary>Fires the webhook and returns the run id the store recorded for it.</summary>
    private async Task<string> FireAsync(string since, HttpStatusCode expected = HttpStatusCode.Accepted)
    {
        using var response = await _host.PostHookAsync("nightly", $$"""{"since":"{{since}}"}""", ("X-JobRelay-Token", RelayHost.HookToken));
        Assert.Equal(expected, response.StatusCode);
        using var runs = await _host.GetAsync("/api/runs?trigger=nightly&limit=1");
        Assert.Equal(HttpStatusCode.OK, runs.StatusCode);
        var run = (await RelayHost.JsonAsync(runs))["runs"]![0]!;
        Assert.Equal(since, (string?)run["arguments"]!["since"]);
        return (string)run["runId"]!;
    }

    private static async Task TabUntilFocusedAsync(IPage page, ILocator target)
    {
        for (var presses = 0; presses < 60; presses++)
        {
            if (await target.EvaluateAsync<bool>("e => e === document.activeElement"))
            {
                return;
            }

            await page.Keyboard.PressAsync("Tab");
        }

        Assert.Fail("Tab never reached the control.");
    }
}
