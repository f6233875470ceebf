using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text.Json.Nodes;
using JobRelay.Cli;
using JobRelay.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace JobRelay.Tests.Cli;

/// <summary>
/// Every <c>jobrelay</c> command run through the real parser with the arguments a user types: the command tree is
/// enumerated, so a command added without realistic arguments here fails; and the commands that call a platform run
/// as processes against a loopback Kestrel playing it, asserting the exact request sent.
/// </summary>
public sealed class CommandEffectTests : IDisposable
{
    private const string Catalog = """
        {
          "platforms": { "kbc": { "type": "keboola", "url": "http://127.0.0.1:1/", "tokenSecret": "kbc-token", "eventSecret": "kbc-events" } },
          "triggers": {
            "load": {
              "platform": "kbc",
              "arguments": { "since": { "default": "2026-01-01", "overridable": true } },
              "keboola": { "component": "keboola.ex-db", "config": "42", "variables": { "since": "{{since}}" } }
            },
            "report": {
              "platform": "kbc",
              "keboola": { "component": "keboola.orchestrator", "config": "77" },
              "after": [{ "trigger": "load", "states": ["succeeded"] }]
            }
          }
        }
        """;

    private const string StorageToken = "kbc-storage-token-value";
    private const string EventToken = "kbc-events-token-value";
    private static readonly TimeSpan ProcessTimeout = TimeSpan.FromSeconds(60);

    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("jobrelay-commands-");

    /// <summary>What a user types for each command that does something; the theory below fails for a command missing here.</summary>
    private static readonly Dictionary<string, string[]> Realistic = new(StringComparer.Ordinal)
    {
        ["serve"] = ["serve", "--sandbox", "--urls", "http://127.0.0.1:5081", "--api-key", "local-key", "--data", "./.jobrelay"],
        ["validate"] = ["validate", "--triggers", "triggers.json"],
        ["init"] = ["init", "./catalog", "--force"],
        ["fire"] = ["fire", "nightly-load", "--arg", "since=\"2026-01-01\"", "--wait", "--poll-interval", "00:00:05", "--sandbox"],
        ["status"] = ["status", "nightly-load", "1234567", "--triggers", "triggers.json", "--sandbox"],
        ["subscribe keboola"] = ["subscribe", "keboola", "sales-report", "--url", "https://my-app.azurewebsites.net", "--triggers", "triggers.json"],
        ["runs"] = ["runs", "--trigger", "nightly-load", "--state", "outcome-unknown", "--limit", "50", "--follow", "--interval", "00:00:03", "--url", "https://my-app.azurewebsites.net", "--api-key", "key"],
        ["runs show"] = ["runs", "show", "3f9c2a7d1e4b4c0a", "--sandbox"],
        ["runs cancel"] = ["runs", "cancel", "3f9c2a7d1e4b4c0a", "--triggers", "triggers.json", "--data", "./.jobrelay"],
        ["runs approve"] = ["runs", "approve", "3f9c2a7d1e4b4c0a", "--url", "https://my-app.azurewebsites.net", "--api-key", "key"],
        ["runs reject"] = ["runs", "reject", "3f9c2a7d1e4b4c0a", "--url", "https://my-app.azurewebsites.net"],
        ["runs restart"] = ["runs", "restart", "3f9c2a7d1e4b4c0a", "--store", "sqlite", "--data", "./.jobrelay", "--triggers", "triggers.json"],
        ["events"] = ["events", "--data", "./.jobrelay", "--limit", "20"],
    };

    public static TheoryData<string> CommandsWithAnAction()
    {
        var data = new TheoryData<string>();
        foreach (var (path, _) in Commands(JobRelayCommandLine.Create(), string.Empty).Where(c => c.Command.Action is not null))
        {
            data.Add(path);
        }

        return data;
    }

    public static TheoryData<string, string, string> TypedOptions()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var (path, command) in Commands(JobRelayCommandLine.Create(), string.Empty).Where(c => c.Command.Action is not null))
        {
            // Text, flags and paths take any value; every other type converts, and can fail to.
            foreach (var option in command.Options.Where(o => o.ValueType != typeof(string) && o.ValueType != typeof(bool) && o.ValueType != typeof(string[])
                && !typeof(FileSystemInfo).IsAssignableFrom(o.ValueType)))
            {
                data.Add(path, option.Name, string.Join(' ', Realistic.GetValueOrDefault(path, [])));
            }
        }

        return data;
    }

    public void Dispose() => _folder.Delete(recursive: true);

    [Theory]
    [MemberData(nameof(CommandsWithAnAction))]
    public void EveryCommandParsesRealisticArgumentsAndReadsEveryValueWithoutAnException(string commandPath)
    {
        Assert.True(Realistic.TryGetValue(commandPath, out var args), $"'{commandPath}' has no realistic arguments in this test: add them.");
        var parse = JobRelayCommandLine.Create().Parse(args);

        Assert.Empty(parse.Errors.Select(e => e.Message));
        Assert.Equal(commandPath, string.Join(' ', Path(parse.CommandResult)));
        foreach (var option in parse.CommandResult.Command.Options)
        {
            var value = Read(parse, option);
            if (args.Contains(option.Name) && option.ValueType != typeof(bool))
            {
                Assert.NotNull(value);
            }
        }

        foreach (var argument in parse.CommandResult.Command.Arguments)
        {
            Assert.NotNull(Read(parse, argument));
        }
    }

    [Theory]
    [MemberData(nameof(TypedOptions))]
    public async Task AMalformedOptionValueAnswersWithTheErrorTheUsageAndExitCodeOneNeverAStackTrace(string commandPath, string option, string realistic)
    {
        var args = realistic.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();
        var at = args.IndexOf(option);
        if (at >= 0)
        {
            args[at + 1] = "not a value";
        }
        else
        {
            args.AddRange([option, "not a value"]);
        }

        using var output = new StringWriter(CultureInfo.InvariantCulture);
        using var error = new StringWriter(CultureInfo.InvariantCulture);
        var exit = await JobRelayCommandLine.Create().Parse([.. args]).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });

        Assert.Equal(1, exit);
        Assert.Contains("not a value", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("Usage:", output.ToString(), StringComparison.Ordinal);
        Assert.Contains(commandPath, output.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error.ToString() + output, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", error.ToString() + output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SubscribeWithAUrlThatIsNotHttpIsAParseErrorWithExitCodeOneAndNoStackTrace()
    {
        var catalog = await WriteCatalogAsync();

        using var cli = CliProcess.Start(_folder.FullName, new Dictionary<string, string>(), "subscribe", "keboola", "report", "--url", "my-app.azurewebsites.net", "--triggers", catalog);
        var exit = await cli.WaitForExitAsync(ProcessTimeout);

        Assert.Equal(1, exit);
        Assert.Contains("--url must be an absolute http or https URL, such as https://my-app.azurewebsites.net; 'my-app.azurewebsites.net' is not.", cli.Stderr, StringComparison.Ordinal);
        Assert.Contains("Usage:", cli.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", cli.Stdout + cli.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SubscribeKeboolaPostsEachSubscriptionToKeboolasNotificationApiWithTheEventTokenInTheRecipient()
    {
        var catalog = await WriteCatalogAsync();
        var next = 0;
        await using var keboola = await LoopbackServer.StartAsync(app => app.MapPost("/project-subscriptions", () =>
            Results.Json(new JsonObject { ["id"] = "sub-" + Interlocked.Increment(ref next).ToString(CultureInfo.InvariantCulture) }, statusCode: 201)));

        using var cli = CliProcess.Start(_folder.FullName, Environment(keboola), "subscribe", "keboola", "report", "--url", "https://my-app.azurewebsites.net", "--triggers", catalog);
        var exit = await cli.WaitForExitAsync(ProcessTimeout);

        Assert.True(exit == 0, cli.Stderr);
        var recipient = $"https://my-app.azurewebsites.net/api/events/kbc?token={EventToken}";
        Assert.Equal(
            [
                Subscription("job-succeeded", recipient),
                Subscription("job-succeeded-with-warning", recipient),
            ],
            keboola.Requests.Select(r => (r.Method, r.Path, r.Header("X-StorageApi-Token"), r.Header("Content-Type"), JsonNode.Parse(r.Body)!.ToJsonString())));
        Assert.Equal(
            [
                "Subscribed job-succeeded of keboola.ex-db/42 on kbc (subscription sub-1)",
                "Subscribed job-succeeded-with-warning of keboola.ex-db/42 on kbc (subscription sub-2)",
            ],
            Lines(cli.Stdout));
        Assert.DoesNotContain(EventToken, cli.Stdout + cli.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FireStartsTheTriggersJobWithTheExactRequestAndPrintsItsIdAndUrl()
    {
        var catalog = await WriteCatalogAsync();
        await using var keboola = await LoopbackServer.StartAsync(app => app.MapPost("/jobs", () => Results.Json(
            new JsonObject { ["id"] = "4242", ["status"] = "created", ["isFinished"] = false, ["url"] = "https://queue.keboola.test/jobs/4242" },
            statusCode: 201)));

        using var cli = CliProcess.Start(_folder.FullName, Environment(keboola), "fire", "load", "--arg", "since=\"2026-03-01\"", "--triggers", catalog, "--data", Data);
        var exit = await cli.WaitForExitAsync(ProcessTimeout);

        Assert.True(exit == 0, cli.Stderr);
        var request = Assert.Single(keboola.Requests);
        Assert.Equal(("POST", "/jobs", StorageToken), (request.Method, request.Path, request.Header("X-StorageApi-Token")));
        Assert.Equal(
            """{"component":"keboola.ex-db","mode":"run","config":"42","variableValuesData":{"values":[{"name":"since","value":"2026-03-01"}]}}""",
            JsonNode.Parse(request.Body)!.ToJsonString());
        var lines = Lines(cli.Stdout);
        Assert.Matches(@"^Started job 4242 on kbc for load \(run [0-9a-f]+\)$", lines[0]);
        Assert.Equal("  https://queue.keboola.test/jobs/4242", lines[1]);
    }

    [Fact]
    public async Task StatusReadsTheJobFromItsPlatformAndPrintsItNormalised()
    {
        var catalog = await WriteCatalogAsync();
        await using var keboola = await LoopbackServer.StartAsync(app => app.MapGet("/jobs/{id}", (string id) => Results.Json(
            new JsonObject { ["id"] = id, ["status"] = "success", ["isFinished"] = true, ["url"] = $"https://queue.keboola.test/jobs/{id}" })));

        using var cli = CliProcess.Start(_folder.FullName, Environment(keboola), "status", "load", "4242", "--triggers", catalog, "--data", Data);
        var exit = await cli.WaitForExitAsync(ProcessTimeout);

        Assert.True(exit == 0, cli.Stderr);
        var request = Assert.Single(keboola.Requests);
        Assert.Equal(("GET", "/jobs/4242", StorageToken), (request.Method, request.Path, request.Header("X-StorageApi-Token")));
        // The data folder holds no store yet: status creates none, and says no scheduler tick was recorded.
        Assert.Equal(["4242: succeeded (success), final", "  https://queue.keboola.test/jobs/4242", "scheduler: no tick recorded in this store"], Lines(cli.Stdout));
        Assert.False(Directory.Exists(Data) && Directory.EnumerateFiles(Data).Any(), "status created a store.");
    }

    [Fact]
    public async Task FireAndStatusWithSandboxRunTheFoldersCatalogAfterInitAndSaySo()
    {
        Assert.Equal(0, await JobRelayCommandLine.Create().Parse(["init", _folder.FullName]).InvokeAsync(new InvocationConfiguration { Output = TextWriter.Null }));

        using var fire = CliProcess.Start(_folder.FullName, new Dictionary<string, string>(), "fire", "nightly-load", "--sandbox", "--wait", "--poll-interval", "00:00:00.500");
        var exit = await fire.WaitForExitAsync(ProcessTimeout);

        Assert.True(exit == 0, fire.Stdout + fire.Stderr);
        var lines = Lines(fire.Stdout);
        Assert.Equal($"Sandbox: the catalog {System.IO.Path.Combine(_folder.FullName, "triggers.json")}, against the built-in emulators.", lines[0]);
        var started = System.Text.RegularExpressions.Regex.Match(lines[1], @"^Started job (\d+) on keboola for nightly-load \(run ([0-9a-f]+)\)$");
        Assert.True(started.Success, lines[1]);
        Assert.StartsWith($"  job {started.Groups[1].Value}: succeeded (success)", lines[^1], StringComparison.Ordinal);

        using var status = CliProcess.Start(_folder.FullName, new Dictionary<string, string>(), "status", "nightly-load", started.Groups[1].Value, "--sandbox");
        exit = await status.WaitForExitAsync(ProcessTimeout);

        Assert.True(exit == 0, status.Stdout + status.Stderr);
        lines = Lines(status.Stdout);
        Assert.Equal(lines[0], Lines(fire.Stdout)[0]);
        Assert.Matches($@"^{started.Groups[1].Value}: succeeded \(success\), last read \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d UTC: the sandbox that ran it has stopped \(run {started.Groups[2].Value}\)$", lines[1]);
    }

    [Fact]
    public async Task FireWithSandboxInAFolderWithoutACatalogRunsTheBuiltInOneAndSaysSo()
    {
        using var fire = CliProcess.Start(_folder.FullName, new Dictionary<string, string>(), "fire", "load-orders", "--sandbox");
        var exit = await fire.WaitForExitAsync(ProcessTimeout);

        Assert.True(exit == 0, fire.Stdout + fire.Stderr);
        var lines = Lines(fire.Stdout);
        Assert.Equal("Sandbox: the built-in sandbox catalog (there is no triggers.json here; name one with --triggers), against the built-in emulators.", lines[0]);
        Assert.Matches(@"^Started job \d+ on keboola for load-orders \(run [0-9a-f]+\)$", lines[1]);
    }

    [Fact]
    public async Task RunsAndRunsShowFindTheSandboxsRunsWithSandboxAndByDefaultWhenTheyAreTheOnlyOnes()
    {
        using (var fire = CliProcess.Start(_folder.FullName, new Dictionary<string, string>(), "fire", "load-orders", "--sandbox"))
        {
            Assert.True(await fire.WaitForExitAsync(ProcessTimeout) == 0, fire.Stdout + fire.Stderr);
        }

        var runId = await RunIdAsync("runs", "--sandbox");
        var sandboxData = System.IO.Path.Combine(_folder.FullName, ".jobrelay", "sandbox");

        using var byDefault = CliProcess.Start(_folder.FullName, new Dictionary<string, string>(), "runs");
        Assert.True(await byDefault.WaitForExitAsync(ProcessTimeout) == 0, byDefault.Stderr);
        Assert.Equal($"Reading the sandbox's runs in {sandboxData}: there are no others here (--data DIR reads another folder).", byDefault.Stderr.Trim());
        Assert.Matches($@"^\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d  {runId}  load-orders +cli +started +\d+ \(queued at start\)$", Lines(byDefault.Stdout)[1]);

        using var show = CliProcess.Start(_folder.FullName, new Dictionary<string, string>(), "runs", "show", runId, "--sandbox");
        Assert.True(await show.WaitForExitAsync(ProcessTimeout) == 0, show.Stderr);
        Assert.StartsWith($"└── {runId} load-orders started (cli, ", Lines(show.Stdout)[1], StringComparison.Ordinal);
        Assert.False(Directory.Exists(System.IO.Path.Combine(_folder.FullName, ".jobrelay", "jobrelay.db")));
        Assert.Equal(["sandbox"], Directory.GetFileSystemEntries(System.IO.Path.Combine(_folder.FullName, ".jobrelay")).Select(System.IO.Path.GetFileName));
    }

    [Fact]
    public async Task RunsCancelKillsTheLocalRunsKeboolaJobWithTheExactRequestAndRecordsItAsTheUserWhoRanIt()
    {
        var catalog = await WriteCatalogAsync();
        await using var keboola = await LoopbackServer.StartAsync(app =>
        {
            var killed = false;
            app.MapPost("/jobs", () => Results.Json(new JsonObject { ["id"] = "4242", ["status"] = "created", ["isFinished"] = false }, statusCode: 201));
            app.MapGet("/jobs/{id}", (string id) => Results.Json(new JsonObject { ["id"] = id, ["status"] = killed ? "terminating" : "processing", ["isFinished"] = false }));
            app.MapPost("/jobs/{id}/kill", (string id) =>
            {
                killed = true;
                return Results.Json(new JsonObject { ["id"] = id, ["status"] = "terminating" }, statusCode: 202);
            });
        });
        using (var fire = CliProcess.Start(_folder.FullName, Environment(keboola), "fire", "load", "--triggers", catalog, "--data", Data))
        {
            Assert.True(await fire.WaitForExitAsync(ProcessTimeout) == 0, fire.Stderr);
        }

        var runId = await RunIdAsync("runs", "--triggers", catalog, "--data", Data);

        using var cancel = CliProcess.Start(_folder.FullName, Environment(keboola), "runs", "cancel", runId, "--triggers", catalog, "--data", Data);
        var exit = await cancel.WaitForExitAsync(ProcessTimeout);
        using var approve = CliProcess.Start(_folder.FullName, Environment(keboola), "runs", "approve", runId, "--triggers", catalog, "--data", Data);
        var approveExit = await approve.WaitForExitAsync(ProcessTimeout);
        using var show = CliProcess.Start(_folder.FullName, Environment(keboola), "runs", "show", runId, "--triggers", catalog, "--data", Data);
        Assert.True(await show.WaitForExitAsync(ProcessTimeout) == 0, show.Stderr);

        Assert.True(exit == 0, cancel.Stderr);
        var kill = Assert.Single(keboola.Requests, r => r.Path.EndsWith("/kill", StringComparison.Ordinal));
        Assert.Equal(("POST", "/jobs/4242/kill", string.Empty, StorageToken, string.Empty), (kill.Method, kill.Path, kill.QueryString, kill.Header("X-StorageApi-Token"), kill.Body));
        Assert.Equal([$"cancel of job 4242 of run {runId} on kbc requested; the job is running (terminating)."], Lines(cancel.Stdout));
        Assert.Equal(1, approveExit);
        Assert.Equal("error: Platform 'kbc' (Keboola) has no approve of a job: only TheEye approval jobs are approved or rejected.", approve.Stderr.Trim());
        Assert.Empty(approve.Stdout);
        Assert.Single(keboola.Requests, r => r.Path.EndsWith("/kill", StringComparison.Ordinal));
        var user = "cli:" + System.Environment.UserName;
        var history = Lines(show.Stdout).SkipWhile(l => l != "History:").Skip(1).Select(l => l[23..]).ToList();
        Assert.Equal(
            [
                $"cancel by {user}: kill of job 4242 requested; the job is terminating",
                $"approve by {user}: not supported: Platform 'kbc' (Keboola) has no approve of a job: only TheEye approval jobs are approved or rejected.",
            ],
            history);
        Assert.DoesNotContain(StorageToken, cancel.Stdout + cancel.Stderr + approve.Stderr + show.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunsControlsWithUrlPostToTheAppWithTheKeyPrintTheRunAndSayTheAppsRefusal()
    {
        const string Run = """{"run":{"runId":"r-1","trigger":"deploy","origin":"api","state":"started","platform":"eye","jobId":"64f0000000000000000000aa","jobStatus":{"state":"queued","raw":"ready/in_progress","checkedAt":"2026-12-01T10:00:00Z"},"attempts":1,"deliveryKey":"request:r-1","arguments":{},"createdAt":"2026-12-01T09:59:00Z","updatedAt":"2026-12-01T10:00:00Z","links":{"self":"/api/runs/r-1"}}}""";
        const string Refusal = """{"type":"urn:jobrelay:problem:forbidden","title":"The request is not allowed","status":403,"detail":"TheEye platform 'eye' refused the cancel of job 64f0000000000000000000aa (HTTP 403: Job is not cancellable): its task is set not cancellable (cancellable: false), which only a TheEye administrator's token overrides.","platform":"eye","platformStatus":403}""";
        await using var app = await LoopbackServer.StartAsync(web =>
        {
            web.MapPost("/api/runs/r-1/restart", () => Results.Text(Run, "application/json", statusCode: 202));
            web.MapPost("/api/runs/r-1/cancel", () => Results.Text(Refusal, "application/problem+json", statusCode: 403));
            web.MapPost("/api/runs/gone/approve", () => Results.Text("""{"type":"urn:jobrelay:problem:not-found","status":404,"detail":"No run 'gone' is recorded (runs are kept for the retention window only)."}""", "application/problem+json", statusCode: 404));
        });
        var url = app.BaseAddress.ToString();

        using var restart = CliProcess.Start(_folder.FullName, new Dictionary<string, string>(), "runs", "restart", "r-1", "--url", url, "--api-key", "ops-key");
        var restartExit = await restart.WaitForExitAsync(ProcessTimeout);
        using var cancel = CliProcess.Start(_folder.FullName, new Dictionary<string, string> { ["JOBRELAY_API_KEY"] = "ops-key" }, "runs", "cancel", "r-1", "--url", url);
        var cancelExit = await cancel.WaitForExitAsync(ProcessTimeout);
        using var approve = CliProcess.Start(_folder.FullName, new Dictionary<string, string>(), "runs", "approve", "gone", "--url", url, "--api-key", "ops-key");
        var approveExit = await approve.WaitForExitAsync(ProcessTimeout);

        Assert.True(restartExit == 0, restart.Stderr);
        Assert.Equal(["restart of job 64f0000000000000000000aa of run r-1 on eye requested; the job is queued (ready/in_progress)."], Lines(restart.Stdout));
        Assert.Equal(1, cancelExit);
        Assert.Equal(
            "error: TheEye platform 'eye' refused the cancel of job 64f0000000000000000000aa (HTTP 403: Job is not cancellable): its task is set not cancellable (cancellable: false), which only a TheEye administrator's token overrides (HTTP 403).",
            cancel.Stderr.Trim());
        Assert.Equal(2, approveExit);
        Assert.Equal("error: No run 'gone' is recorded (runs are kept for the retention window only) (HTTP 404).", approve.Stderr.Trim());
        Assert.Equal(
            [
                ("POST", "/api/runs/r-1/restart", "ops-key", "{}"),
                ("POST", "/api/runs/r-1/cancel", "ops-key", "{}"),
                ("POST", "/api/runs/gone/approve", "ops-key", "{}"),
            ],
            app.Requests.Select(r => (r.Method, r.Path, r.Header("x-functions-key"), r.Body)));
        Assert.All(app.Requests, r => Assert.StartsWith("application/json", r.Header("Content-Type"), StringComparison.Ordinal));
    }

    [Fact]
    public async Task RunsWhereThereIsNoDataYetSaysSoAndCreatesNoDatabase()
    {
        using var runs = CliProcess.Start(_folder.FullName, new Dictionary<string, string>(), "runs");
        var exit = await runs.WaitForExitAsync(ProcessTimeout);

        Assert.True(exit == 0, runs.Stderr);
        Assert.Equal(
            $"No runs yet: there is no JobRelay data in {System.IO.Path.Combine(_folder.FullName, ".jobrelay")}. 'jobrelay serve' and 'jobrelay fire' record runs there; --sandbox reads the sandbox's, --data DIR another folder.",
            runs.Stdout.Trim());
        Assert.Empty(_folder.GetFileSystemInfos());
    }

    private async Task<string> RunIdAsync(params string[] runs)
    {
        using var cli = CliProcess.Start(_folder.FullName, new Dictionary<string, string>(), runs);
        Assert.True(await cli.WaitForExitAsync(ProcessTimeout) == 0, cli.Stderr);
        var lines = Lines(cli.Stdout);
        Assert.Equal(2, lines.Count);
        return lines[1].Split("  ", StringSplitOptions.RemoveEmptyEntries)[1];
    }

    [Fact]
    public async Task VersionPrintsAStableVersionFromGitAboveTheOldFixedOne()
    {
        using var cli = CliProcess.Start(_folder.FullName, new Dictionary<string, string>(), "--version");
        Assert.Equal(0, await cli.WaitForExitAsync(ProcessTimeout));

        var version = System.Text.RegularExpressions.Regex.Match(cli.Stdout.Trim(), @"^(\d+\.\d+\.\d+)(\+[0-9a-f]{7,40})?$");
        Assert.True(version.Success, cli.Stdout);
        Assert.True(Version.Parse(version.Groups[1].Value) > new Version(1, 0, 0), version.Value);
    }

    private string Data => System.IO.Path.Combine(_folder.FullName, "data");

    private static (string, string, string?, string?, string) Subscription(string eventType, string recipient)
        => ("POST", "/project-subscriptions", StorageToken, "application/json", new JsonObject
        {
            ["event"] = eventType,
            ["filters"] = new JsonArray(
                new JsonObject { ["field"] = "job.component.id", ["value"] = "keboola.ex-db" },
                new JsonObject { ["field"] = "job.configuration.id", ["value"] = "42" }),
            ["recipient"] = new JsonObject { ["channel"] = "webhook", ["url"] = recipient },
        }.ToJsonString());

    private static Dictionary<string, string> Environment(LoopbackServer keboola) => new()
    {
        ["JobRelay__Catalog__PlatformUrls__kbc"] = keboola.BaseAddress.ToString(),
        ["JobRelay__Secrets__Values__kbc-token"] = StorageToken,
        ["JobRelay__Secrets__Values__kbc-events"] = EventToken,
    };

    private async Task<string> WriteCatalogAsync()
    {
        var path = System.IO.Path.Combine(_folder.FullName, "triggers.json");
        await File.WriteAllTextAsync(path, Catalog);
        return path;
    }

    private static List<string> Lines(string output) => [.. output.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0)];

    /// <summary>The value as the command's action reads it: <c>GetValue&lt;T&gt;</c> with the symbol's own type.</summary>
    private static object? Read(ParseResult parse, Symbol symbol)
    {
        var valueType = symbol is Option option ? option.ValueType : ((Argument)symbol).ValueType;
        var getValue = typeof(ParseResult).GetMethods()
            .Single(m => m.Name == nameof(ParseResult.GetValue) && m.IsGenericMethodDefinition
                && m.GetParameters().Single().ParameterType is { IsGenericType: true } parameter
                && parameter.GetGenericTypeDefinition() == (symbol is Option ? typeof(Option<>) : typeof(Argument<>)))
            .MakeGenericMethod(valueType);
        try
        {
            return getValue.Invoke(parse, [symbol]);
        }
        catch (System.Reflection.TargetInvocationException ex)
        {
            throw ex.InnerException!;
        }
    }

    private static Stack<string> Path(SymbolResult result)
    {
        var names = new Stack<string>();
        for (var current = result as CommandResult; current?.Parent is CommandResult parent; current = parent)
        {
            names.Push(current.Command.Name);
        }

        return names;
    }

    private static IEnumerable<(string Path, Command Command)> Commands(Command command, string path)
    {
        foreach (var sub in command.Subcommands)
        {
            var subPath = path.Length == 0 ? sub.Name : path + " " + sub.Name;
            yield return (subPath, sub);
            foreach (var deeper in Commands(sub, subPath))
            {
                yield return deeper;
            }
        }
    }
}
