using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using JobRelay.Cli;
using JobRelay.History;
using JobRelay.Sandbox;
using JobRelay.Tests.Http;
using JobRelay.Tests.Support;

namespace JobRelay.Tests.Cli;

/// <summary>
/// <c>jobrelay runs</c> and <c>jobrelay runs show</c> as processes: over a data folder the test host wrote, and over
/// HTTP against the running test host. Runs are made the way they happen: webhooks to the sandbox platforms, one of
/// them dropped on its way, and an operator's "start again".
/// </summary>
public sealed class RunsCommandTests : IAsyncLifetime
{
    private const string Catalog = """
        {
          "platforms": { "kbc": { "type": "keboola", "url": "http://127.0.0.1:1/", "tokenSecret": "kbc-token" } },
          "triggers": {
            "nightly": {
              "platform": "kbc",
              "arguments": { "since": { "from": "body:$.since", "required": true } },
              "keboola": { "component": "keboola.ex-db", "config": "1", "variables": { "since": "{{since}}" } },
              "webhook": { "scheme": "token", "secrets": ["hook-token"] }
            },
            "export": { "platform": "kbc", "keboola": { "component": "keboola.wr-db", "config": "2" } }
          }
        }
        """;

    private static readonly TimeSpan ProcessTimeout = TimeSpan.FromSeconds(60);

    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("jobrelay-runs-");
    private SandboxPlatforms _sandbox = null!;
    private RelayHost _host = null!;
    private string _catalogPath = null!;

    private string DataFolder => Path.Combine(_folder.FullName, "data");

    public async Task InitializeAsync()
    {
        _catalogPath = Path.Combine(_folder.FullName, "triggers.json");
        await File.WriteAllTextAsync(_catalogPath, Catalog);
        _sandbox = await SandboxPlatforms.StartAsync(new SandboxOptions(), CancellationToken.None);
        _host = await RelayHost.StartAsync(
            Catalog,
            new Dictionary<string, Uri> { ["kbc"] = _sandbox.KeboolaUrl },
            new Dictionary<string, string?>
            {
                ["JobRelay:Secrets:Values:kbc-token"] = SandboxCredentials.KeboolaToken,
                ["JobRelay:Store:DataFolder"] = DataFolder,
            });
    }

    public async Task DisposeAsync()
    {
        await _sandbox.DisposeAsync();
        _folder.Delete(recursive: true);
    }

    [Fact]
    public async Task RunsOverADataFolderPrintsTheTableNewestFirstAndShowPrintsTheLineageTree()
    {
        var (started, unknown, again) = await MakeRunsAsync();
        await _host.DisposeAsync();

        var (exit, stdout, stderr) = await RunCliAsync("runs", "--data", DataFolder, "--triggers", _catalogPath);

        Assert.True(exit == 0, stderr);
        Assert.Equal(Table(again, unknown, started), Lines(stdout));

        (exit, stdout, stderr) = await RunCliAsync("runs", "--state", "outcome-unknown", "--data", DataFolder, "--triggers", _catalogPath);
        Assert.True(exit == 0, stderr);
        Assert.Equal(Table(unknown), Lines(stdout));

        (exit, stdout, stderr) = await RunCliAsync("runs", "show", (string)again["runId"]!, "--data", DataFolder, "--triggers", _catalogPath);
        Assert.True(exit == 0, stderr);
        Assert.Equal(
            [
                Node(unknown),
                "└── " + Node(again) + "  <- this run",
            ],
            Lines(stdout));

        (exit, stdout, stderr) = await RunCliAsync("runs", "show", (string)unknown["runId"]!, "--data", DataFolder, "--triggers", _catalogPath);
        Assert.True(exit == 0, stderr);
        var lines = Lines(stdout);
        Assert.Equal("webhook " + (string)unknown["deliveryKey"]!, lines[0]);
        Assert.Equal("└── " + Node(unknown) + "  <- this run", lines[1]);
        Assert.Equal("    └── " + Node(again), lines[2]);
        Assert.Equal("History:", lines[^2]);
        Assert.Matches(@"^  \d{4}-\d\d-\d\d \d\d:\d\d:\d\d  start-again by default", lines[^1]);
    }

    [Fact]
    public async Task RunsOverTheHttpApiPrintsTheSameTableAndAnUnknownRunIsExitCodeTwo()
    {
        await using var host = _host;
        var (started, unknown, again) = await MakeRunsAsync();
        var url = _host.Client.BaseAddress!.ToString();

        var (exit, stdout, stderr) = await RunCliAsync("runs", "--trigger", "nightly", "--url", url, "--api-key", RelayHost.ApiKey);
        Assert.True(exit == 0, stderr);
        Assert.Equal(Table(again, unknown, started), Lines(stdout));

        (exit, stdout, stderr) = await RunCliAsync("runs", "show", (string)again["runId"]!, "--url", url, "--api-key", RelayHost.ApiKey);
        Assert.True(exit == 0, stderr);
        Assert.Equal(Node(unknown), Lines(stdout)[0]);

        (exit, stdout, stderr) = await RunCliAsync("runs", "show", "no-such-run", "--url", url, "--api-key", RelayHost.ApiKey);
        Assert.Equal(2, exit);
        Assert.Equal(string.Empty, stdout);
        Assert.Equal("error: no run has the id 'no-such-run'.", stderr.Trim());
    }

    [Fact]
    public async Task AWrongKeyOrABadFilterIsRefusedInOneLineWithoutTheKey()
    {
        await using var host = _host;
        var url = _host.Client.BaseAddress!.ToString();

        var (exit, stdout, stderr) = await RunCliAsync("runs", "--url", url, "--api-key", "not-the-key");
        Assert.Equal(1, exit);
        Assert.Equal(string.Empty, stdout);
        Assert.Equal("error: The app refused the API key (HTTP 401).", stderr.Trim());

        (exit, _, stderr) = await RunCliAsync("runs", "--state", "finished", "--url", url, "--api-key", RelayHost.ApiKey);
        Assert.Equal(2, exit);
        Assert.StartsWith("error: state must be one of claimed, starting, pending, started, outcome-unknown, refused, ignored", stderr.Trim(), StringComparison.Ordinal);
        Assert.DoesNotContain(RelayHost.ApiKey, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FollowPrintsNewRunsAsTheyHappenUntilItsCancellationEndsItWithExitCodeZero()
    {
        await using var host = _host;
        var first = await FireAsync("2026-12-01", HttpStatusCode.Accepted);
        await using var source = ApiRunSource.Create(_host.Client.BaseAddress!, RelayHost.ApiKey);
        using var output = new OutputLines();
        using var stop = new CancellationTokenSource();
        var follow = RunsCommand.FollowAsync(source, new RunQuery { Trigger = "nightly" }, TimeSpan.FromMilliseconds(200), output, stop.Token);

        await WaitForRowAsync(output, follow, first);
        var second = await FireAsync("2026-12-02", HttpStatusCode.Accepted);
        await output.WaitForLineAsync(Table(first, second)[^1], ProcessTimeout, () => follow.IsCompleted, () => "output: " + output.Text);
        await stop.CancelAsync();
        var exit = await follow.WaitAsync(ProcessTimeout);

        Assert.Equal(0, exit);
        AssertFollowed(Lines(output.Text), first, second);
    }

    [Fact]
    public async Task FollowPrintsNewRunsAsTheyHappenAndCtrlCEndsItWithExitCodeZero()
    {
        var (exit, stdout, first, second) = await FollowUntilSignalAsync(cli => cli.Interrupt());

        Assert.Equal(0, exit);
        AssertFollowed(Lines(stdout), first, second);
    }

    [Fact]
    public async Task FollowStoppedWithSigtermEndsWithExitCodeZeroAndTheSameTable()
    {
        var (exit, stdout, first, second) = await FollowUntilSignalAsync(cli => cli.Terminate());

        Assert.Equal(0, exit);
        AssertFollowed(Lines(stdout), first, second);
    }

    /// <summary><c>runs --follow</c> as a process: one run before it starts, one while it watches, then the signal.</summary>
    private async Task<(int Exit, string Stdout, JsonObject First, JsonObject Second)> FollowUntilSignalAsync(Action<CliProcess> signal)
    {
        await using var host = _host;
        var first = await FireAsync("2026-12-01", HttpStatusCode.Accepted);
        using var cli = CliProcess.Start(
            _folder.FullName,
            new Dictionary<string, string>(),
            "runs", "--follow", "--interval", "00:00:00.200", "--url", _host.Client.BaseAddress!.ToString(), "--api-key", RelayHost.ApiKey);

        await cli.WaitForLineAsync(RowStart(first), ProcessTimeout);
        var second = await FireAsync("2026-12-02", HttpStatusCode.Accepted);
        // The second run may first be listed while it is being started; the follower adds its row again once it changed.
        await cli.WaitForLineAsync(Table(first, second)[^1], ProcessTimeout);
        signal(cli);
        var exit = await cli.WaitForExitAsync(ProcessTimeout);
        return (exit, cli.Stdout, first, second);
    }

    /// <summary>
    /// The follower's lines: the table with the first run, then the second run's rows as it saw it change, the last one
    /// the run as its sender was answered. Lines are only ever added, so a run listed mid-start is listed again.
    /// </summary>
    private static void AssertFollowed(List<string> lines, JsonObject first, JsonObject second)
    {
        var expected = Table(first, second);
        Assert.True(lines.Count >= expected.Count, string.Join('\n', lines));
        Assert.Equal(expected[..2], lines[..2]);
        Assert.Equal(expected[^1], lines[^1]);
        Assert.All(lines[2..^1], line => Assert.StartsWith(RowStart(second), line, StringComparison.Ordinal));
    }

    private static Task<string> WaitForRowAsync(OutputLines output, Task<int> follow, JsonObject run)
        => output.WaitForLineAsync(RowStart(run), ProcessTimeout, () => follow.IsCompleted, () => "output: " + output.Text);

    /// <summary>A started webhook run, one whose start was dropped on its way (outcome unknown), and its start-again.</summary>
    private async Task<(JsonObject Started, JsonObject Unknown, JsonObject Again)> MakeRunsAsync()
    {
        var started = await FireAsync("2026-12-01", HttpStatusCode.Accepted);
        _sandbox.InjectFault(new SandboxFault("keboola") { Drop = true });
        var unknown = await FireAsync("2026-12-02", HttpStatusCode.BadGateway);
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/runs/{unknown["runId"]}/start-again") { Content = JsonContent.Create(new JsonObject { ["confirm"] = true }) };
        request.Headers.Add("x-functions-key", RelayHost.ApiKey);
        using var response = await _host.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var again = Describe((JsonObject)(await RelayHost.JsonAsync(response))["run"]!);
        return (started, unknown, await ReadAsync((string)again["runId"]!));
    }

    private async Task<JsonObject> FireAsync(string since, HttpStatusCode expected)
    {
        using var response = await _host.PostHookAsync("nightly", $$"""{"since":"{{since}}"}""", ("X-JobRelay-Token", RelayHost.HookToken));
        Assert.Equal(expected, response.StatusCode);
        using var runs = await _host.GetAsync("/api/runs?trigger=nightly&limit=1");
        var run = (JsonObject)(await RelayHost.JsonAsync(runs))["runs"]![0]!;
        Assert.Equal(since, (string?)run["arguments"]!["since"]);
        return Describe(run);
    }

    private async Task<JsonObject> ReadAsync(string runId)
    {
        using var response = await _host.GetAsync("/api/runs/" + runId);
        return Describe((JsonObject)(await RelayHost.JsonAsync(response))["run"]!);
    }

    /// <summary>How the run's row begins: two runs created in the same second differ by their id.</summary>
    private static string RowStart(JsonObject run) => $"{(string)run["createdAtText"]!}  {(string)run["runId"]!}";

    private static JsonObject Describe(JsonObject run)
    {
        run["createdAtText"] = DateTimeOffset.Parse((string)run["createdAt"]!, System.Globalization.CultureInfo.InvariantCulture).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);
        return run;
    }

    /// <summary>The table as an operator reads it; RUN is as wide as the longest run id, every other column fixed.</summary>
    private static List<string> Table(params JsonObject[] runs)
    {
        var idWidth = runs.Max(r => ((string)r["runId"]!).Length);
        var lines = new List<string> { Row("CREATED (UTC)", "RUN", "TRIGGER", "ORIGIN", "STATE", "JOB", idWidth) };
        lines.AddRange(runs.Select(r => Row(
            (string)r["createdAtText"]!,
            (string)r["runId"]!,
            (string)r["trigger"]!,
            (string)r["origin"]!,
            (string)r["state"]!,
            (string?)r["jobId"] is { } jobId ? jobId + (r["jobStatus"] is JsonObject status ? $" ({Status(status)})" : string.Empty) : "-",
            idWidth)));
        return lines;
    }

    private static string Row(string created, string run, string trigger, string origin, string state, string job, int idWidth)
        => $"{created,-19}  {run.PadRight(idWidth)}  {trigger,-12}  {origin,-11}  {state,-15}  {job}";

    private static string Node(JsonObject run)
    {
        var status = run["jobStatus"] is JsonObject read ? $" {Status(read)}" : string.Empty;
        var job = (string?)run["jobId"] is { } jobId ? $", job {jobId}{status}" : string.Empty;
        return $"{run["runId"]} {run["trigger"]} {run["state"]} ({run["origin"]}, {run["createdAtText"]}{job})";
    }

    /// <summary>A job status as the table shows it: when it was read, unless it is final.</summary>
    private static string Status(JsonObject status)
    {
        var state = (string)status["state"]!;
        return state is "succeeded" or "failed" or "cancelled" ? state
            : (string?)status["checkedAt"] is { } at ? $"{state} at {DateTimeOffset.Parse(at, System.Globalization.CultureInfo.InvariantCulture).UtcDateTime:HH:mm:ss}"
            : $"{state} at start";
    }

    private static List<string> Lines(string output) => [.. output.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0)];

    private async Task<(int Exit, string Stdout, string Stderr)> RunCliAsync(params string[] arguments)
    {
        using var cli = CliProcess.Start(
            _folder.FullName,
            new Dictionary<string, string> { ["JobRelay__Secrets__Values__kbc-token"] = SandboxCredentials.KeboolaToken },
            arguments);
        var exit = await cli.WaitForExitAsync(ProcessTimeout);
        return (exit, cli.Stdout, cli.Stderr);
    }
}
