using System.Net;
using JobRelay.Hosting;
using JobRelay.Model;
using JobRelay.Secrets;
using JobRelay.Tests.Support;
using JobRelay.Web;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace JobRelay.Tests.Http;

public sealed class MissingSecretTests : IAsyncLifetime
{
    private const string Catalog = """
        {
          "platforms": {
            "kbc": { "type": "keboola", "url": "http://127.0.0.1:1/", "tokenSecret": "absent-token" },
            "eye": { "type": "theeye", "url": "http://127.0.0.1:1/", "customer": "acme", "accessTokenSecret": "eye-token" }
          },
          "triggers": {
            "load": { "platform": "kbc", "keboola": { "component": "keboola.ex-db", "config": "42" } },
            "hook": {
              "platform": "eye",
              "theeye": { "task": "task-1" },
              "webhook": { "scheme": "token", "secrets": ["absent-hook-token"] }
            }
          }
        }
        """;

    private LoopbackServer _keboola = null!;
    private RelayHost _host = null!;

    public async Task InitializeAsync()
    {
        _keboola = await LoopbackServer.StartAsync(app => app.MapPost("/jobs", () => "{}"));
        _host = await RelayHost.StartAsync(Catalog, new Dictionary<string, Uri> { ["kbc"] = _keboola.BaseAddress, ["eye"] = _keboola.BaseAddress });
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _keboola.DisposeAsync();
    }

    [Fact]
    public async Task ARunWhosePlatformTokenIsMissingIsAConfigurationErrorWithoutRetryAfter()
    {
        using var response = await _host.PostRunAsync("load");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Null(response.Headers.RetryAfter);
        var problem = await RelayHost.JsonAsync(response);
        Assert.Equal("urn:jobrelay:problem:secret-not-found", (string?)problem["type"]);
        Assert.Contains("'absent-token'", (string?)problem["detail"], StringComparison.Ordinal);
        Assert.Empty(_keboola.Requests);
    }

    [Fact]
    public async Task AHookWhoseSecretIsMissingIsAConfigurationErrorWithoutRetryAfter()
    {
        using var response = await _host.PostHookAsync("hook", "{}", ("X-JobRelay-Token", "anything"));

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Null(response.Headers.RetryAfter);
        var problem = await RelayHost.JsonAsync(response);
        Assert.Equal("urn:jobrelay:problem:secret-not-found", (string?)problem["type"]);
        Assert.Equal("JobRelay could not read a secret it needs to take this request. The cause is in its log; nothing was started.", (string?)problem["detail"]);
        var text = problem.ToJsonString();
        Assert.DoesNotContain("absent-hook-token", text, StringComparison.Ordinal);
        Assert.DoesNotContain("absent_hook_token", text, StringComparison.Ordinal);
        Assert.DoesNotContain("JobRelay:Secrets", text, StringComparison.Ordinal);
        var logged = Assert.Single(_host.Logs.GetSnapshot(), l => l.Id.Id == 1601);
        Assert.Equal(LogLevel.Error, logged.Level);
        Assert.StartsWith("/api/hooks/hook was answered SecretNotFound without the detail, as its caller holds no API key: Secret 'absent-hook-token' has no value.", logged.Message, StringComparison.Ordinal);
        Assert.Contains("JobRelay__Secrets__Values__absent_hook_token", logged.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(RelayErrorKind.SecretNotFound, 500, false)]
    [InlineData(RelayErrorKind.SecretUnusable, 500, false)]
    [InlineData(RelayErrorKind.SecretStoreUnavailable, 503, true)]
    [InlineData(RelayErrorKind.SecretForbidden, 503, true)]
    public async Task OnlyASecretStoreOutOfReachIsAnsweredAsUnavailable(RelayErrorKind kind, int status, bool retryAfter)
    {
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext { RequestServices = _host.Services };
        context.Response.Body = new MemoryStream();

        await Problems.For(kind, "secret 'x'").ExecuteAsync(context);

        Assert.Equal(status, context.Response.StatusCode);
        Assert.Equal(retryAfter, context.Response.Headers.RetryAfter.Count > 0);
    }

    [Fact]
    public async Task TheStartCheckWarnsOnceForEachUnreadableSecretByName()
    {
        var check = new SecretsStartupCheck(
            _host.Services.GetRequiredService<CatalogSource>(),
            _host.Services.GetRequiredService<ISecretStore>(),
            _host.Services.GetRequiredService<ILogger<SecretsStartupCheck>>());

        var unreadable = await check.CheckAsync(CancellationToken.None);

        Assert.Equal(["absent-hook-token", "absent-token"], unreadable.Select(u => u.Name));
        Assert.All(unreadable, u => Assert.Equal(RelayErrorKind.SecretNotFound, u.Kind));
        var warnings = _host.Logs.GetSnapshot().Where(l => l.Id.Id == 1150).ToList();
        Assert.Equal(2, warnings.Count);
        Assert.All(warnings, w => Assert.Equal(LogLevel.Warning, w.Level));
        Assert.Contains(warnings, w => w.Message.StartsWith("Secret absent-token cannot be read (SecretNotFound): Secret 'absent-token' has no value.", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Message.StartsWith("Secret absent-hook-token cannot be read (SecretNotFound):", StringComparison.Ordinal));
        Assert.DoesNotContain(warnings, w => w.Message.Contains("eye-token", StringComparison.Ordinal));
        _host.Logs.AssertContainsNone(RelayHost.TheEyeToken);
    }
}
