using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using JobRelay.Sandbox;

namespace JobRelay.Tests.Sandbox;

public sealed class SandboxRetentionTests : IAsyncLifetime, IDisposable
{
    private readonly HttpClient _http = new();
    private SandboxPlatforms _sandbox = null!;

    public async Task InitializeAsync()
        => _sandbox = await SandboxPlatforms.StartAsync(new SandboxOptions { MaxJobs = 3 }, CancellationToken.None);

    public async Task DisposeAsync() => await _sandbox.DisposeAsync();

    public void Dispose() => _http.Dispose();

    [Fact]
    public async Task TheSandboxRemembersOnlyTheNewestJobsAcrossBothPlatforms()
    {
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add(await CreateKeboolaJobAsync(i));
        }

        for (var i = 0; i < 2; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_sandbox.TheEyeUrl, "job"))
            {
                Content = new StringContent($$"""{"task":"sandbox-hello","task_arguments":["{{i}}"]}""", Encoding.UTF8, "application/json"),
            };
            request.Headers.Add("Authorization", $"Bearer {SandboxCredentials.TheEyeAccessToken}");
            using var created = await _http.SendAsync(request);
            ids.Add((string)(await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!);
        }

        Assert.Equal(ids[2..], _sandbox.Jobs.Select(j => j.Id));
        Assert.Equal(HttpStatusCode.NotFound, await KeboolaStatusAsync(ids[0]));
        Assert.Equal(HttpStatusCode.NotFound, await KeboolaStatusAsync(ids[1]));
        Assert.Equal(HttpStatusCode.OK, await KeboolaStatusAsync(ids[2]));
    }

    [Fact]
    public async Task AThousandJobsLeaveTheDefaultSandboxAtItsBound()
    {
        await using var sandbox = await SandboxPlatforms.StartAsync(new SandboxOptions(), CancellationToken.None);
        var body = new JsonObject { ["component"] = "keboola.ex-db", ["configData"] = new JsonObject { ["blob"] = new string('x', 4096) } }.ToJsonString();
        for (var i = 0; i < 1_200; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(sandbox.KeboolaUrl, "jobs")) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            request.Headers.Add("X-StorageApi-Token", SandboxCredentials.KeboolaToken);
            using var created = await _http.SendAsync(request);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        Assert.Equal(new SandboxOptions().MaxJobs, sandbox.Jobs.Count);
    }

    [Fact]
    public async Task ASandboxThatWouldKeepNoJobIsRefused()
        => await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => SandboxPlatforms.StartAsync(new SandboxOptions { MaxJobs = 0 }, CancellationToken.None));

    private async Task<string> CreateKeboolaJobAsync(int config)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_sandbox.KeboolaUrl, "jobs"))
        {
            Content = new StringContent($$"""{"component":"keboola.ex-db","config":"{{config}}"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-StorageApi-Token", SandboxCredentials.KeboolaToken);
        using var created = await _http.SendAsync(request);
        return (string)(await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
    }

    private async Task<HttpStatusCode> KeboolaStatusAsync(string id)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_sandbox.KeboolaUrl, $"jobs/{id}"));
        request.Headers.Add("X-StorageApi-Token", SandboxCredentials.KeboolaToken);
        using var response = await _http.SendAsync(request);
        return response.StatusCode;
    }
}
