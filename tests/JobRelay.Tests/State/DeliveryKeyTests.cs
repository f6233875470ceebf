using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using JobRelay.History;
using JobRelay.State;
using JobRelay.Tests.Http;
using JobRelay.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace JobRelay.Tests.State;

/// <summary>
/// A digest delivery key reads <c>sha256:&lt;hex&gt;</c> wherever it is shown, while the store keeps the form earlier
/// versions wrote (<c>sha256:sha256:&lt;hex&gt;</c>), so a retry that spans an upgrade is still a duplicate.
/// </summary>
public sealed class DeliveryKeyTests
{
    private const string Catalog = """
        {
          "platforms": { "kbc": { "type": "keboola", "url": "http://127.0.0.1:1/", "tokenSecret": "kbc-token" } },
          "triggers": {
            "push": { "platform": "kbc", "keboola": { "component": "keboola.ex-db", "config": "1" }, "webhook": { "scheme": "github", "secrets": ["hmac-secret"] } }
          }
        }
        """;

    [Fact]
    public async Task ASignedDeliveryIsShownAsDeliverySha256OnceAndStoredInTheFormEarlierVersionsWrote()
    {
        await using var keboola = await LoopbackServer.StartAsync(app => app.MapPost("/jobs", () => Results.Json(new JsonObject { ["id"] = "7", ["status"] = "created", ["isFinished"] = false }, statusCode: 201)));
        await using var host = await RelayHost.StartAsync(Catalog, new Dictionary<string, Uri> { ["kbc"] = keboola.BaseAddress });
        const string body = """{"ref":"refs/heads/main","after":"abc123"}""";
        var signature = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(RelayHost.HmacSecret), Encoding.UTF8.GetBytes(body)));
        var digest = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(body)));

        using var first = await host.PostHookAsync("push", body, ("X-Hub-Signature-256", signature), ("X-GitHub-Event", "push"), ("X-GitHub-Delivery", "d-1"));
        using var again = await host.PostHookAsync("push", body, ("X-Hub-Signature-256", signature), ("X-GitHub-Event", "push"), ("X-GitHub-Delivery", "d-2"));
        using var runs = await host.GetAsync("/api/runs?trigger=push");

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var run = Assert.Single((await RelayHost.JsonAsync(runs))["runs"]!.AsArray());
        Assert.Equal("delivery:sha256:" + digest, (string?)run!["deliveryKey"]);
        Assert.Equal(["sha256:sha256:" + digest], await StoredIdsAsync(host));
        Assert.Single(keboola.Requests);
    }

    [Fact]
    public void AStoredDigestKeyReadsBackAsTheKeyItWasStoredFor()
    {
        var digest = new DeliveryKey("push", "sha256:0a1b");
        var senderId = new DeliveryKey("push", "72d3162e-cc78-11e3-81ab-4c9367dc0958");

        Assert.Equal("sha256:sha256:0a1b", digest.Id);
        Assert.Equal(digest, ClaimKeys.Restore(ClaimKind.Delivery, "push", digest.Id));
        Assert.Equal("delivery:sha256:0a1b", RunWire.DeliveryKey(ClaimKeys.Restore(ClaimKind.Delivery, "push", digest.Id)));
        Assert.Equal(senderId.DeliveryId, senderId.Id);
        Assert.Equal(senderId, ClaimKeys.Restore(ClaimKind.Delivery, "push", senderId.Id));
    }

    private static async Task<List<string>> StoredIdsAsync(RelayHost host)
    {
        var path = host.Services.GetRequiredService<IOptions<StoreOptions>>().Value.SqlitePath;
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT id FROM runs WHERE kind = 'Delivery'";
        var ids = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }
}
