using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using JobRelay.Http;
using JobRelay.Model;
using JobRelay.Secrets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace JobRelay.Benchmarks;

/// <summary>JobRelay's HTTP surface in-process on loopback, wired as <c>jobrelay serve</c> wires it, with a counting secret source.</summary>
internal sealed class Rig : IAsyncDisposable
{
    public const string WebhookSecret = "bench-github-secret-0f0f";
    public const string KeboolaToken = "bench-keboola-token-1e1e";

    private readonly WebApplication _app;
    private readonly string _folder;

    private Rig(WebApplication app, string folder, Uri address, CountingSecretSource secrets, LogSink logs)
    {
        _app = app;
        _folder = folder;
        Address = address;
        Secrets = secrets;
        Logs = logs;
    }

    public Uri Address { get; }

    public CountingSecretSource Secrets { get; }

    public LogSink Logs { get; }

    public CountingRelayStore? Store => _app.Services.GetRequiredService<JobRelay.State.IRelayStore>() as CountingRelayStore;

    /// <summary>Starts the rig; <paramref name="countStore"/> wraps its state store in a <see cref="CountingRelayStore"/>.</summary>
    public static async Task<Rig> StartAsync(Uri keboolaUrl, IReadOnlyDictionary<string, string?>? settings = null, string keboolaToken = KeboolaToken, bool countStore = false)
    {
        var folder = Directory.CreateTempSubdirectory("jobrelay-bench-").FullName;
        var catalog = Path.Combine(folder, "triggers.json");
        await File.WriteAllTextAsync(catalog, """
            {
              "platforms": { "kbc": { "type": "keboola", "url": "http://127.0.0.1:1/", "tokenSecret": "kbc-token" } },
              "triggers": {
                "push": {
                  "platform": "kbc",
                  "arguments": { "delivery": { "from": "header:X-GitHub-Delivery", "required": true }, "commit": { "from": "body:$.after" } },
                  "keboola": { "component": "keboola.orchestrator", "config": "1", "variables": { "delivery": "{{delivery}}", "commit": "{{commit}}" } },
                  "webhook": { "scheme": "github", "secrets": ["gh-secret"], "events": ["push"], "filters": [{ "field": "body:$.ref", "equals": "refs/heads/main" }] }
                }
              }
            }
            """);
        var secrets = new CountingSecretSource(new Dictionary<string, string> { ["gh-secret"] = WebhookSecret, ["kbc-token"] = keboolaToken });
        var logs = new LogSink();
        var builder = WebApplication.CreateSlimBuilder();
        var configuration = new Dictionary<string, string?>
        {
            ["JobRelay:Catalog:Path"] = catalog,
            ["JobRelay:Catalog:PlatformUrls:kbc"] = keboolaUrl.ToString(),
            ["JobRelay:Store:DataFolder"] = Path.Combine(folder, "data"),
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            configuration[key] = value;
        }

        builder.Configuration.AddInMemoryCollection(configuration);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders().AddProvider(logs).SetMinimumLevel(LogLevel.Information);
        builder.Services.AddSingleton<ISecretSource>(secrets);
        builder.Services.AddJobRelay(builder.Configuration);
        if (countStore)
        {
            CountingRelayStore.Decorate(builder.Services);
        }

        var app = builder.Build();
        app.MapJobRelay("bench-key");
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new Rig(app, folder, new Uri(address), secrets, logs);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    /// <summary>A GitHub push delivery of about 2 KiB, signed with the webhook secret.</summary>
    public static HttpRequestMessage SignedPush(Uri url, string deliveryId, byte[] body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        request.Headers.Add("X-GitHub-Event", "push");
        request.Headers.Add("X-GitHub-Delivery", deliveryId);
        request.Headers.Add("X-Hub-Signature-256", "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(WebhookSecret), body)));
        return request;
    }

    public static byte[] PushBody()
    {
        var commits = new JsonArray();
        for (var i = 0; i < 8; i++)
        {
            commits.Add(new JsonObject { ["id"] = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20)), ["message"] = new string('m', 120), ["author"] = new JsonObject { ["name"] = "dev", ["email"] = "dev@example.com" } });
        }

        return Encoding.UTF8.GetBytes(new JsonObject
        {
            ["ref"] = "refs/heads/main",
            ["after"] = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20)),
            ["repository"] = new JsonObject { ["full_name"] = "acme/site" },
            ["commits"] = commits,
        }.ToJsonString());
    }

    /// <summary>A Keboola stand-in that answers every start at once: the platform's own time is not JobRelay's.</summary>
    public static async Task<WebApplication> StartFastKeboolaAsync(Action? onJob = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var next = 0L;
        app.MapPost("/jobs", async (HttpContext context) =>
        {
            await context.Request.Body.CopyToAsync(Stream.Null);
            var id = Interlocked.Increment(ref next);
            onJob?.Invoke();
            context.Response.StatusCode = 201;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync($$"""{"id":"{{id}}","runId":"{{id}}","status":"created","isFinished":false,"result":[]}""");
        });
        await app.StartAsync();
        return app;
    }

    public static Uri AddressOf(WebApplication app)
        => new(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/') + "/");
}

/// <summary>Secrets from memory, counting every read the cache lets through.</summary>
internal sealed class CountingSecretSource(IReadOnlyDictionary<string, string> values) : ISecretSource
{
    private int _reads;
    private int _failures;

    public int Reads => _reads;

    /// <summary>Makes the next <paramref name="reads"/> reads fail as an unreachable vault does.</summary>
    public void FailNext(int reads) => Interlocked.Exchange(ref _failures, reads);

    public Task<SecretValue> ReadAsync(string name, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _reads);
        if (Interlocked.Decrement(ref _failures) >= 0)
        {
            throw new RelayException(RelayErrorKind.SecretStoreUnavailable, $"Key Vault could not be reached to read secret '{name}'.");
        }

        return Task.FromResult(new SecretValue(name, values[name], "v1", DateTimeOffset.UtcNow));
    }
}

/// <summary>Every log line, kept as text, so a run can prove no secret was written.</summary>
internal sealed class LogSink : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IEnumerable<string> Lines => _lines;

    public ILogger CreateLogger(string categoryName) => new Writer(_lines);

    public void Dispose()
    {
    }

    private sealed class Writer(ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => lines.Enqueue(formatter(state, exception) + " " + exception);
    }
}
