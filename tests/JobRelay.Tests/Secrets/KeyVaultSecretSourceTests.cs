using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Security.KeyVault.Secrets;
using JobRelay.Model;
using JobRelay.Secrets;
using JobRelay.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace JobRelay.Tests.Secrets;

/// <summary>The real <see cref="SecretClient"/> against a vault played over HTTPS on 127.0.0.1, bearer challenge included.</summary>
public sealed class KeyVaultSecretSourceTests : IAsyncLifetime
{
    private const string SecretText = "kv-secret-value-9d8c7b";
    private const string BearerToken = "fake-entra-token";

    private readonly X509Certificate2 _certificate = LoopbackTls.CreateCertificate();
    private LoopbackServer _vault = null!;

    public async Task InitializeAsync()
    {
        _vault = await LoopbackServer.StartAsync(
            app => app.MapGet("/secrets/{name}/{**rest}", (HttpContext context, string name) =>
            {
                if (context.Request.Headers.Authorization.ToString() != $"Bearer {BearerToken}")
                {
                    context.Response.Headers.WWWAuthenticate = "Bearer authorization=\"https://login.microsoftonline.com/00000000-0000-0000-0000-000000000001\", resource=\"https://vault.azure.net\"";
                    return Results.StatusCode(401);
                }

                return name switch
                {
                    "platform-token" => Results.Json(new JsonObject
                    {
                        ["value"] = SecretText,
                        ["id"] = $"{context.Request.Scheme}://{context.Request.Host}/secrets/platform-token/v42",
                        ["attributes"] = new JsonObject { ["enabled"] = true },
                    }),
                    "forbidden" => Results.Json(new JsonObject { ["error"] = new JsonObject { ["code"] = "Forbidden", ["message"] = "Caller is not authorized" } }, statusCode: 403),
                    "disabled" => Results.Json(new JsonObject { ["error"] = new JsonObject { ["code"] = "SecretDisabled", ["message"] = "Operation get is not allowed on a disabled secret." } }, statusCode: 403),
                    _ => Results.Json(new JsonObject { ["error"] = new JsonObject { ["code"] = "SecretNotFound", ["message"] = $"A secret with (name/id) {name} was not found in this key vault." } }, statusCode: 404),
                };
            }),
            _certificate);
    }

    public async Task DisposeAsync()
    {
        await _vault.DisposeAsync();
        _certificate.Dispose();
    }

    [Fact]
    public async Task ASecretIsReadWithTheBearerTokenAfterTheChallenge()
    {
        var source = Source(_vault.BaseAddress);

        var secret = await source.ReadAsync("platform-token", CancellationToken.None);

        Assert.Equal(SecretText, secret.Value);
        Assert.Equal("v42", secret.Version);
        var requests = _vault.Requests;
        Assert.Equal(2, requests.Count);
        Assert.Null(requests[0].Header("Authorization"));
        Assert.Equal("GET", requests[1].Method);
        Assert.StartsWith("/secrets/platform-token", requests[1].Path, StringComparison.Ordinal);
        Assert.Contains("api-version=", requests[1].QueryString, StringComparison.Ordinal);
        Assert.Equal($"Bearer {BearerToken}", requests[1].Header("Authorization"));
    }

    [Theory]
    [InlineData("missing-secret", RelayErrorKind.SecretNotFound, "does not exist in Key Vault")]
    [InlineData("forbidden", RelayErrorKind.SecretForbidden, "'Key Vault Secrets User' role")]
    [InlineData("disabled", RelayErrorKind.SecretForbidden, "is disabled")]
    public async Task VaultRefusalsAreDistinctErrorsThatNameTheSecret(string name, RelayErrorKind kind, string message)
    {
        var source = Source(_vault.BaseAddress);

        var ex = await Assert.ThrowsAsync<RelayException>(() => source.ReadAsync(name, CancellationToken.None));

        Assert.Equal(kind, ex.Kind);
        Assert.Contains($"'{name}'", ex.Message, StringComparison.Ordinal);
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnreachableVaultIsUnavailableNotMissing()
    {
        var closed = new Uri($"https://127.0.0.1:{LoopbackServer.FreePort()}/");
        var source = Source(closed, retries: 0);

        var ex = await Assert.ThrowsAsync<RelayException>(() => source.ReadAsync("platform-token", CancellationToken.None));

        Assert.Equal(RelayErrorKind.SecretStoreUnavailable, ex.Kind);
        Assert.Contains("'platform-token'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ANameKeyVaultCannotHoldIsRefusedBeforeAnyCall()
    {
        var source = Source(_vault.BaseAddress);

        var ex = await Assert.ThrowsAsync<RelayException>(() => source.ReadAsync("has_underscore", CancellationToken.None));

        Assert.Equal(RelayErrorKind.InvalidInput, ex.Kind);
        Assert.Empty(_vault.Requests);
    }

    [Fact]
    public async Task TheValueNeverReachesALogLine()
    {
        var logs = new FakeLogCollector();
        var source = Source(_vault.BaseAddress, logs: logs);

        await source.ReadAsync("platform-token", CancellationToken.None);
        await Assert.ThrowsAsync<RelayException>(() => source.ReadAsync("forbidden", CancellationToken.None));

        Assert.NotEmpty(logs.GetSnapshot());
        logs.AssertContainsNone(SecretText, BearerToken);
    }

    private KeyVaultSecretSource Source(Uri vault, int retries = 1, FakeLogCollector? logs = null)
    {
        var thumbprint = _certificate.Thumbprint;
#pragma warning disable CA2000 // The client owns the handler for the test's lifetime.
        var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, cert, _, _) => cert?.Thumbprint == thumbprint };
#pragma warning restore CA2000
        var options = new SecretClientOptions { DisableChallengeResourceVerification = true, Transport = new HttpClientTransport(handler) };
        options.Retry.MaxRetries = retries;
        options.Retry.Delay = TimeSpan.FromMilliseconds(10);
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(5);
        var client = new SecretClient(vault, new StaticTokenCredential(BearerToken), options);
        var factory = (logs ?? new FakeLogCollector()).CreateFactory();
        return new KeyVaultSecretSource(client, TimeProvider.System, factory.CreateLogger<KeyVaultSecretSource>());
    }
}
