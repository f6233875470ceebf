using System.Net;
using System.Text.Json.Nodes;
using JobRelay.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace JobRelay.Tests.Http;

/// <summary><c>jobrelay serve</c> as a process: how it stops, and how it refuses to start.</summary>
public sealed class ServeProcessTests : IDisposable
{
    private const string ApiKey = "process-test-key";
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("jobrelay-serve-");

    public void Dispose() => _folder.Delete(recursive: true);

    [Fact]
    public async Task SigtermMidRequestLetsTheJobStartFinishAndExitsZero()
    {
        var received = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var keboola = await LoopbackServer.StartAsync(app => app.MapPost("/jobs", async () =>
        {
            received.TrySetResult();
            await Task.Delay(TimeSpan.FromSeconds(5));
            return Results.Json(new JsonObject { ["id"] = "4242", ["status"] = "created", ["isFinished"] = false }, statusCode: 201);
        }));
        var catalog = Path.Combine(_folder.FullName, "triggers.json");
        await File.WriteAllTextAsync(catalog, """
            {
              "platforms": { "kbc": { "type": "keboola", "url": "http://127.0.0.1:1/", "tokenSecret": "kbc-token" } },
              "triggers": { "load": { "platform": "kbc", "keboola": { "component": "keboola.ex-db", "config": "1" } } }
            }
            """);
        using var serve = CliProcess.Start(
            _folder.FullName,
            new Dictionary<string, string>
            {
                ["JobRelay__Catalog__PlatformUrls__kbc"] = keboola.BaseAddress.ToString(),
                ["JobRelay__Secrets__Values__kbc-token"] = "kbc-token-value",
            },
            "serve", "--triggers", catalog, "--urls", "http://127.0.0.1:0", "--api-key", ApiKey);
        var address = new Uri(await serve.WaitForLineAsync("JobRelay is listening on", TimeSpan.FromSeconds(60)));
        using var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
        using var run = new HttpRequestMessage(HttpMethod.Post, "/api/triggers/load/runs");
        run.Headers.Add("x-functions-key", ApiKey);

        var answer = client.SendAsync(run);
        await received.Task.WaitAsync(TimeSpan.FromSeconds(30));
        serve.Terminate();
        await Task.Delay(TimeSpan.FromSeconds(1));
        var lateComer = await Record.ExceptionAsync(() => client.GetAsync("/api/health"));
        using var response = await answer;
        var exitCode = await serve.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("4242", (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["jobId"]);
        Assert.IsType<HttpRequestException>(lateComer);
        Assert.Equal(0, exitCode);
        Assert.Single(keboola.Requests);
    }

    [Fact]
    public async Task AnAddressInUseIsOneLineWithoutAStackTraceEveryTime()
    {
        using var taken = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var url = $"http://127.0.0.1:{((IPEndPoint)taken.LocalEndpoint).Port}";

        // The failure raced the sweep loop's first sweep, which opens a new store: it showed in about half the starts.
        for (var attempt = 0; attempt < 4; attempt++)
        {
            var folder = _folder.CreateSubdirectory("attempt-" + attempt);
            using var serve = CliProcess.Start(folder.FullName, new Dictionary<string, string>(), "serve", "--sandbox", "--urls", url);

            Assert.Equal(1, await serve.WaitForExitAsync(TimeSpan.FromSeconds(60)));
            Assert.Equal(
                $"JobRelay cannot start:\n  {url} is already in use: stop the other process or pass --urls http://127.0.0.1:<port>.\n",
                serve.Stderr.ReplaceLineEndings("\n"));
            Assert.DoesNotContain("Exception", serve.Stdout, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ACatalogWithErrorsPrintsOnlyTheErrors()
    {
        var catalog = Path.Combine(_folder.FullName, "triggers.json");
        await File.WriteAllTextAsync(catalog, """{ "platforms": { "k": { "type": "keboola", "stack": "us-virginia-aws", "tokenSecret": "t" } }, "triggers": { "x": { "platform": "nope", "keboola": { "component": "c" } } } }""");
        using var serve = CliProcess.Start(_folder.FullName, new Dictionary<string, string>(), "serve", "--triggers", catalog, "--urls", "http://127.0.0.1:0");

        var exitCode = await serve.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(1, exitCode);
        Assert.Equal(
            "JobRelay cannot start:\n  $.triggers.x.platform: 'nope' is not a platform of the catalog; known: k.\n",
            serve.Stderr.ReplaceLineEndings("\n"));
        Assert.DoesNotContain(" at ", serve.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", serve.Stdout, StringComparison.Ordinal);
    }
}
