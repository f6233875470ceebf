using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using JobRelay.Cli;
using JobRelay.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace JobRelay.Tests.Http;

/// <summary>
/// The HTTP surface on Kestrel at 127.0.0.1, wired exactly as <c>jobrelay serve</c> wires it, with a catalog file of
/// the test's own, secrets from configuration and the platforms played by loopback servers.
/// </summary>
internal sealed class RelayHost : IAsyncDisposable
{
    public const string ApiKey = "test-api-key";
    public const string KeboolaToken = "kbc-token-value-7f3a91";
    public const string TheEyeToken = "eye-token-value-c0ffee";
    public const string HookToken = "hook-token-value-5ecret";
    public const string HmacSecret = "hmac-secret-value-b1b2";

    private readonly WebApplication _app;
    private readonly string _catalogFolder;

    private RelayHost(WebApplication app, string catalogFolder, Uri address, FakeLogCollector logs)
    {
        _app = app;
        _catalogFolder = catalogFolder;
        Client = new HttpClient { BaseAddress = address };
        Logs = logs;
    }

    public HttpClient Client { get; }

    public FakeLogCollector Logs { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<RelayHost> StartAsync(
        string catalogJson,
        IReadOnlyDictionary<string, Uri> platformUrls,
        IReadOnlyDictionary<string, string?>? settings = null,
        Action<IServiceCollection>? services = null)
    {
        var folder = Directory.CreateTempSubdirectory("jobrelay-test-").FullName;
        var catalogPath = Path.Combine(folder, "triggers.json");
        await File.WriteAllTextAsync(catalogPath, catalogJson);

        var configuration = new Dictionary<string, string?>
        {
            ["JobRelay:Catalog:Path"] = catalogPath,
            ["JobRelay:Secrets:Values:kbc-token"] = KeboolaToken,
            ["JobRelay:Secrets:Values:eye-token"] = TheEyeToken,
            ["JobRelay:Secrets:Values:hook-token"] = HookToken,
            ["JobRelay:Secrets:Values:hmac-secret"] = HmacSecret,
            ["JobRelay:Platforms:Http:RetryBaseDelay"] = "00:00:00.010",
            ["JobRelay:Platforms:Http:MaxRetries"] = "1",
            ["JobRelay:Store:DataFolder"] = Path.Combine(folder, "data"),
        };
        foreach (var (name, url) in platformUrls)
        {
            configuration[$"JobRelay:Catalog:PlatformUrls:{name}"] = url.ToString();
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            configuration[key] = value;
        }

        var logs = new FakeLogCollector();
        // The application's name is the OpenAPI document's default tag: serve's, so that both documents agree.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = typeof(ServeCommand).Assembly.GetName().Name });
        builder.Configuration.AddInMemoryCollection(configuration);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders().AddProvider(new FakeLoggerProvider(logs)).SetMinimumLevel(LogLevel.Trace);
        services?.Invoke(builder.Services);
        builder.Services.AddJobRelay(builder.Configuration);
        builder.Services.AddJobRelayWebHost(builder.Configuration);
        builder.Services.AddJobRelayOpenApi();
        var app = builder.Build();
        app.UseJobRelayWebHost();
        app.MapJobRelay(ApiKey);
        app.MapJobRelayOpenApi();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new RelayHost(app, folder, new Uri(address), logs);
    }

    public Task<HttpResponseMessage> PostRunAsync(string trigger, string? json = null, string? apiKey = ApiKey, string contentType = "application/json")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/triggers/{trigger}/runs");
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8);
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        }

        if (apiKey is not null)
        {
            request.Headers.Add(RelayEndpoints.ApiKeyHeader, apiKey);
        }

        return Client.SendAsync(request);
    }

    public Task<HttpResponseMessage> GetAsync(string path, string? apiKey = ApiKey)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (apiKey is not null)
        {
            request.Headers.Add(RelayEndpoints.ApiKeyHeader, apiKey);
        }

        return Client.SendAsync(request);
    }

    public Task<HttpResponseMessage> PostHookAsync(string trigger, string body, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/hooks/{trigger}") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return Client.SendAsync(request);
    }

    public static async Task<JsonObject> JsonAsync(HttpResponseMessage response)
        => (await response.Content.ReadFromJsonAsync<JsonObject>())!;

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        Directory.Delete(_catalogFolder, recursive: true);
    }
}
