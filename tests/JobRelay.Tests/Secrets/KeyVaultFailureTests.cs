using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Identity;
using Azure.Security.KeyVault.Secrets;
using JobRelay.Model;
using JobRelay.Secrets;
using JobRelay.Tests.Http;
using JobRelay.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Moq;

namespace JobRelay.Tests.Secrets;

/// <summary>
/// Every way the vault or the identity behind it can fail, through the real <see cref="SecretClient"/> with its
/// retries on: each is the secret store being unavailable (a 503 with Retry-After), never a crash, and the last good
/// value bridges it for the stale grace.
/// </summary>
public sealed class KeyVaultFailureTests : IAsyncLifetime
{
    private const string SecretText = "kv-value-for-outage-tests-61b2";
    private const string BearerToken = "fake-entra-token-outage";
    private const string Tenant = "00000000-0000-0000-0000-000000000001";

    private readonly X509Certificate2 _certificate = LoopbackTls.CreateCertificate();
    private LoopbackServer _vault = null!;
    private volatile string _mode = "ok";

    public async Task InitializeAsync()
    {
        _vault = await LoopbackServer.StartAsync(
            app => app.MapGet("/secrets/{name}/{**rest}", async (HttpContext context, string name) =>
            {
                if (context.Request.Headers.Authorization.ToString() != $"Bearer {BearerToken}")
                {
                    context.Response.Headers.WWWAuthenticate = $"Bearer authorization=\"https://login.microsoftonline.com/{Tenant}\", resource=\"https://vault.azure.net\"";
                    return Results.StatusCode(401);
                }

                switch (_mode)
                {
                    case "500":
                        return Results.Json(Error("InternalError"), statusCode: 500);
                    case "503":
                        return Results.Json(Error("ServiceUnavailable"), statusCode: 503);
                    case "429":
                        context.Response.Headers.RetryAfter = "1";
                        return Results.Json(Error("Throttled"), statusCode: 429);
                    case "abort":
                        context.Abort();
                        return Results.Empty;
                    case "hang":
                        await Task.Delay(TimeSpan.FromSeconds(5), context.RequestAborted);
                        return Results.StatusCode(500);
                    default:
                        return Results.Json(new JsonObject
                        {
                            ["value"] = SecretText,
                            ["id"] = $"{context.Request.Scheme}://{context.Request.Host}/secrets/{name}/v1",
                            ["attributes"] = new JsonObject { ["enabled"] = true },
                        });
                }
            }),
            _certificate);
    }

    public async Task DisposeAsync()
    {
        await _vault.DisposeAsync();
        _certificate.Dispose();
    }

    [Fact]
    public async Task AVaultWhoseNameDoesNotResolveIsUnavailable()
    {
        // The name lookup fails in the connection step, as the resolver fails it, without asking a DNS server.
        var ex = await ReadFailureAsync(Source(new Uri("https://jobrelay-no-such-vault.invalid/"), unresolvable: true));

        Assert.Contains("jobrelay-no-such-vault.invalid could not be reached to read secret 'platform-token': its host name does not resolve", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AVaultThatRefusesTheConnectionIsUnavailable()
    {
        var ex = await ReadFailureAsync(Source(new Uri($"https://127.0.0.1:{LoopbackServer.FreePort()}/")));

        Assert.Contains("could not be reached to read secret 'platform-token': the connection was refused or dropped", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AVaultWhoseCertificateIsNotTrustedIsUnavailable()
    {
        var ex = await ReadFailureAsync(Source(_vault.BaseAddress, trustCertificate: false));

        Assert.Contains("the TLS handshake failed", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AVaultThatDoesNotAnswerInTimeIsUnavailable()
    {
        _mode = "hang";

        var ex = await ReadFailureAsync(Source(_vault.BaseAddress, networkTimeout: TimeSpan.FromMilliseconds(300)));

        Assert.Contains("it did not answer in time", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("500", "it answered HTTP 500")]
    [InlineData("503", "it answered HTTP 503")]
    [InlineData("429", "it is throttling requests (HTTP 429)")]
    public async Task AVaultThatAnswersWithAFailureIsUnavailable(string mode, string cause)
    {
        _mode = mode;

        var ex = await ReadFailureAsync(Source(_vault.BaseAddress));

        Assert.Contains(cause, ex.Message, StringComparison.Ordinal);
        Assert.Equal(mode == "429" ? TimeSpan.FromSeconds(1) : null, ex.RetryAfter);
    }

    [Fact]
    public async Task AnIdentityEndpointThatIsDownIsUnavailable()
    {
        var credential = new ClientSecretCredential(Tenant, "11111111-1111-1111-1111-111111111111", "client-secret-outage", new ClientSecretCredentialOptions
        {
            AuthorityHost = new Uri($"https://127.0.0.1:{LoopbackServer.FreePort()}/"),
            DisableInstanceDiscovery = true,
            Retry = { MaxRetries = 1, Delay = TimeSpan.FromMilliseconds(10) },
        });

        var ex = await ReadFailureAsync(Source(_vault.BaseAddress, credential: credential));

        Assert.Contains("No Azure identity could sign in to read secret 'platform-token'", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("client-secret-outage", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheLastGoodValueIsServedThroughTheStaleGraceWhileTheVaultIsDown()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
        var options = new SecretsOptions { CacheDuration = TimeSpan.FromSeconds(2), StaleGrace = TimeSpan.FromHours(1) };
        var store = new CachingSecretStore(Source(_vault.BaseAddress, clock: clock), Mock.Of<IOptionsMonitor<SecretsOptions>>(m => m.CurrentValue == options), clock, new FakeLogger<CachingSecretStore>());
        var good = await store.GetAsync("platform-token", CancellationToken.None);
        _mode = "abort";
        clock.Advance(TimeSpan.FromSeconds(3));

        var stale = await store.GetAsync("platform-token", CancellationToken.None);
        clock.Advance(TimeSpan.FromHours(1));
        var ex = await Assert.ThrowsAsync<RelayException>(async () => await store.GetAsync("platform-token", CancellationToken.None));

        Assert.Same(good, stale);
        Assert.Equal(SecretText, stale.Value);
        Assert.Equal(RelayErrorKind.SecretStoreUnavailable, ex.Kind);
    }

    [Fact]
    public async Task ARunAndTheReadinessCheckAnswerAnOutageAsA503Problem()
    {
        const string catalog = """
            {
              "platforms": { "kbc": { "type": "keboola", "url": "http://127.0.0.1:1/", "tokenSecret": "kbc-token" } },
              "triggers": { "load": { "platform": "kbc", "keboola": { "component": "keboola.ex-db", "config": "42" } } }
            }
            """;
        var down = Source(new Uri($"https://127.0.0.1:{LoopbackServer.FreePort()}/"));
        await using var host = await RelayHost.StartAsync(catalog, new Dictionary<string, Uri>(), services: s => s.AddSingleton<ISecretSource>(down));

        using var run = await host.PostRunAsync("load");
        using var ready = await host.GetAsync("/api/health/ready");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, run.StatusCode);
        Assert.Equal("application/problem+json", run.Content.Headers.ContentType?.MediaType);
        Assert.Equal(TimeSpan.FromSeconds(30), run.Headers.RetryAfter?.Delta);
        var problem = await RelayHost.JsonAsync(run);
        Assert.Equal("urn:jobrelay:problem:secret-store-unavailable", (string?)problem["type"]);
        Assert.Contains("could not be reached to read secret 'kbc-token'", (string?)problem["detail"], StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Equal("application/problem+json", ready.Content.Headers.ContentType?.MediaType);
        var readiness = await RelayHost.JsonAsync(ready);
        Assert.Equal("urn:jobrelay:problem:not-ready", (string?)readiness["type"]);
        Assert.Equal(503, (int?)readiness["status"]);
        Assert.Equal("secret-store-unavailable", (string?)readiness["secrets"]!["kbc-token"]);
        Assert.DoesNotContain(host.Logs.GetSnapshot(), l => l.Level >= LogLevel.Error);
    }

    private static async Task<RelayException> ReadFailureAsync(KeyVaultSecretSource source)
    {
        var ex = await Assert.ThrowsAsync<RelayException>(() => source.ReadAsync("platform-token", CancellationToken.None));
        Assert.Equal(RelayErrorKind.SecretStoreUnavailable, ex.Kind);
        Assert.Contains("'platform-token'", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(SecretText, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(BearerToken, ex.Message, StringComparison.Ordinal);
        return ex;
    }

    private KeyVaultSecretSource Source(Uri vault, bool trustCertificate = true, TimeSpan? networkTimeout = null, TokenCredential? credential = null, TimeProvider? clock = null, bool unresolvable = false)
    {
        var thumbprint = _certificate.Thumbprint;
#pragma warning disable CA2000 // The client owns the handler for the test's lifetime.
        var handler = new SocketsHttpHandler
        {
            SslOptions = { RemoteCertificateValidationCallback = (_, cert, _, _) => trustCertificate && cert is X509Certificate2 presented && presented.Thumbprint == thumbprint },
        };
#pragma warning restore CA2000
        if (unresolvable)
        {
            handler.ConnectCallback = (_, _) => throw new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.HostNotFound);
        }
        var options = new SecretClientOptions { DisableChallengeResourceVerification = true, Transport = new HttpClientTransport(handler) };
        options.Retry.MaxRetries = 1;
        options.Retry.Delay = TimeSpan.FromMilliseconds(10);
        options.Retry.NetworkTimeout = networkTimeout ?? TimeSpan.FromSeconds(5);
        var client = new SecretClient(vault, credential ?? new StaticTokenCredential(BearerToken), options);
        return new KeyVaultSecretSource(client, clock ?? TimeProvider.System, new FakeLogger<KeyVaultSecretSource>());
    }

    private static JsonObject Error(string code) => new() { ["error"] = new JsonObject { ["code"] = code, ["message"] = code } };
}
