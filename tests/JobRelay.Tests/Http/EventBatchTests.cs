using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using JobRelay.Tests.Support;
using JobRelay.Webhooks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace JobRelay.Tests.Http;

/// <summary>Event Grid and CloudEvents batches: each event of an array is its own delivery.</summary>
public sealed class EventBatchTests : IAsyncLifetime
{
    private const string Catalog = """
        {
          "platforms": { "kbc": { "type": "keboola", "url": "http://127.0.0.1:1/", "tokenSecret": "kbc-token" } },
          "triggers": {
            "grid": {
              "platform": "kbc",
              "arguments": { "blob": { "from": "body:$.data.url", "required": true } },
              "keboola": { "component": "keboola.ex-storage", "variables": { "blob": "{{blob}}" } },
              "webhook": { "scheme": "eventGrid", "secrets": ["hook-token"], "events": ["Microsoft.Storage.BlobCreated"],
                           "filters": [{ "field": "body:$.data.api", "equals": "PutBlob" }] }
            },
            "cloud": {
              "platform": "kbc",
              "arguments": { "name": { "from": "body:$.data.name" } },
              "keboola": { "component": "keboola.ex-events", "variables": { "name": "{{name}}" } },
              "webhook": { "scheme": "cloudEvents", "secrets": ["hook-token"] }
            }
          }
        }
        """;

    private LoopbackServer _keboola = null!;
    private RelayHost _host = null!;
    private int _nextJob = 100;

    public async Task InitializeAsync()
    {
        _keboola = await HostileInputTests.StartKeboolaAsync(() => Interlocked.Increment(ref _nextJob));
        _host = await RelayHost.StartAsync(Catalog, new Dictionary<string, Uri> { ["kbc"] = _keboola.BaseAddress });
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _keboola.DisposeAsync();
    }

    private static string GridEvent(string id, string file, string type = "Microsoft.Storage.BlobCreated", string api = "PutBlob")
        => $$$"""{"id":"{{{id}}}","eventType":"{{{type}}}","subject":"/blobServices/default/containers/in/blobs/{{{file}}}","data":{"api":"{{{api}}}","url":"https://acct.blob.core.windows.net/in/{{{file}}}"}}""";

    private async Task<(int Status, JsonObject Body)> PostGridAsync(params string[] events)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/hooks/grid?token={RelayHost.HookToken}")
        {
            Content = new StringContent("[" + string.Join(',', events) + "]", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("aeg-event-type", "Notification");
        using var response = await _host.Client.SendAsync(request);
        return ((int)response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject());
    }

    private IEnumerable<string> StartedBlobs()
        => _keboola.Requests.Select(r => (string)JsonNode.Parse(r.Body)!["variableValuesData"]!["values"]![0]!["value"]!);

    private static IEnumerable<string?> Statuses(JsonObject body) => body["events"]!.AsArray().Select(e => (string?)e!["status"]);

    [Fact]
    public async Task AThreeEventBatchStartsOneJobPerEventAndItsRetryStartsNone()
    {
        string[] batch = [GridEvent("e-1", "a.csv"), GridEvent("e-2", "b.csv"), GridEvent("e-3", "c.csv")];

        var (status, first) = await PostGridAsync(batch);
        var (retryStatus, retry) = await PostGridAsync(batch);

        Assert.Equal(202, status);
        Assert.Equal(["started", "started", "started"], Statuses(first));
        Assert.Equal(["e-1", "e-2", "e-3"], first["events"]!.AsArray().Select(e => (string?)e!["id"]));
        Assert.Equal(["101", "102", "103"], first["events"]!.AsArray().Select(e => (string?)e!["jobId"]));
        Assert.Equal(202, retryStatus);
        Assert.Equal(3, (int)first["counts"]!["started"]!);
        Assert.Equal(["duplicate", "duplicate", "duplicate"], Statuses(retry));
        Assert.Equal(["101", "102", "103"], retry["events"]!.AsArray().Select(e => (string?)e!["jobId"]));
        Assert.Equal(3, (int)retry["counts"]!["duplicate"]!);
        Assert.Equal(
            ["https://acct.blob.core.windows.net/in/a.csv", "https://acct.blob.core.windows.net/in/b.csv", "https://acct.blob.core.windows.net/in/c.csv"],
            StartedBlobs());
    }

    [Fact]
    public async Task AnOverlappingRetryStartsOnlyTheEventsNotSeenBefore()
    {
        await PostGridAsync(GridEvent("e-1", "a.csv"), GridEvent("e-2", "b.csv"));

        var (status, body) = await PostGridAsync(GridEvent("e-2", "b.csv"), GridEvent("e-3", "c.csv"));

        Assert.Equal(202, status);
        Assert.Equal(["duplicate", "started"], Statuses(body));
        Assert.Equal(3, _keboola.Requests.Count);
    }

    [Fact]
    public async Task EventTypesAndFiltersApplyToEachEvent()
    {
        var (status, body) = await PostGridAsync(
            GridEvent("e-1", "a.csv"),
            GridEvent("e-2", "b.csv", type: "Microsoft.Storage.BlobDeleted"),
            GridEvent("e-3", "c.csv", api: "CopyBlob"));

        Assert.Equal(202, status);
        Assert.Equal(["started", "ignored", "ignored"], Statuses(body));
        Assert.Contains("Microsoft.Storage.BlobDeleted", (string?)body["events"]![1]!["reason"], StringComparison.Ordinal);
        Assert.Equal(["https://acct.blob.core.windows.net/in/a.csv"], StartedBlobs());
    }

    [Fact]
    public async Task AnEventThatCannotBeMappedFailsAloneAndTheAnswerSaysWhich()
    {
        var unmappable = """{"id":"e-2","eventType":"Microsoft.Storage.BlobCreated","data":{"api":"PutBlob"}}""";

        var (status, body) = await PostGridAsync(GridEvent("e-1", "a.csv"), unmappable);
        var (retryStatus, retry) = await PostGridAsync(GridEvent("e-1", "a.csv"), unmappable);

        Assert.Equal(422, status);
        Assert.Equal("urn:jobrelay:problem:mapping-failed", (string?)body["type"]);
        Assert.Equal(["started", "failed"], Statuses(body));
        Assert.Equal("urn:jobrelay:problem:mapping-failed", (string?)body["events"]![1]!["type"]);
        Assert.Contains("$.data.url", (string?)body["events"]![1]!["detail"], StringComparison.Ordinal);
        Assert.Equal(422, retryStatus);
        Assert.Equal(["duplicate", "failed"], Statuses(retry));
        Assert.Single(_keboola.Requests);
    }

    [Fact]
    public async Task ABatchOfMoreThanFiveThousandEventsIsRefusedWhole413BeforeAnyEventIsRead()
    {
        // 200,000 junk events in 400 KB: within the body limit, far over Event Grid's own batch limit.
        var junk = "[" + string.Join(',', Enumerable.Repeat("1", 200_000)) + "]";
        var exactlyOverTheLimit = "[" + string.Join(',', Enumerable.Range(0, EventBatch.MaxEvents + 1).Select(i => $$"""{"id":"e-{{i}}"}""")) + "]";

        foreach (var body in new[] { junk, exactlyOverTheLimit })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/hooks/grid?token={RelayHost.HookToken}")
            {
                Content = new StringContent(body, Encoding.UTF8, "application/json"),
            };
            request.Headers.Add("aeg-event-type", "Notification");
            using var response = await _host.Client.SendAsync(request);
            var answer = await response.Content.ReadAsStringAsync();

            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
            var problem = JsonNode.Parse(answer)!.AsObject();
            Assert.Equal("urn:jobrelay:problem:payload-too-large", (string?)problem["type"]);
            Assert.Contains("at most 5,000 events", (string?)problem["detail"], StringComparison.Ordinal);
            Assert.True(answer.Length < 2_000, $"The refusal is {answer.Length} characters long.");
        }

        Assert.Empty(_keboola.Requests);
    }

    [Fact]
    public async Task ABatchOfExactlyFiveThousandEventsIsTakenAndItsAnswerCountsThemAndListsTheFirstHundred()
    {
        var (status, body) = await PostGridAsync([.. Enumerable.Repeat("1", EventBatch.MaxEvents)]);

        Assert.Equal(400, status);
        Assert.Equal(EventBatch.MaxEvents, (int)body["counts"]!["failed"]!);
        var listed = body["events"]!.AsArray();
        Assert.Equal(EventBatch.MaxListedEvents, listed.Count);
        Assert.All(listed, e => Assert.Equal("urn:jobrelay:problem:invalid-input", (string?)e!["type"]));
        Assert.Contains("5000 of 5000 events failed", (string?)body["detail"], StringComparison.Ordinal);
        Assert.Empty(_keboola.Requests);
    }

    [Fact]
    public async Task ABatchOfMoreThanAHundredEventsListsOnlyItsFailuresAndCountsEveryOutcome()
    {
        // Every other event cannot be mapped (it has no data.url).
        var events = Enumerable.Range(0, 150)
            .Select(i => i % 2 == 0 ? GridEvent("e-" + i, i + ".csv") : $$$"""{"id":"e-{{{i}}}","eventType":"Microsoft.Storage.BlobCreated","data":{"api":"PutBlob"}}""")
            .ToArray();

        var (status, body) = await PostGridAsync(events);

        Assert.Equal(422, status);
        Assert.Equal(75, (int)body["counts"]!["started"]!);
        Assert.Equal(75, (int)body["counts"]!["failed"]!);
        Assert.Equal(Enumerable.Range(0, 75).Select(i => "e-" + ((2 * i) + 1)), body["events"]!.AsArray().Select(e => (string?)e!["id"]));
        Assert.Equal(["failed"], Statuses(body).Distinct());
        Assert.Contains("75 of 150 events failed; \"events\" lists the first 75 failures", (string?)body["detail"], StringComparison.Ordinal);
        Assert.Equal(75, _keboola.Requests.Count);
    }

    [Fact]
    public async Task ACloudEventsBatchWithABearerTokenStartsOneJobPerEvent()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/hooks/cloud")
        {
            Content = new StringContent(
                """[{"specversion":"1.0","id":"c-1","type":"order.created","source":"/shop","data":{"name":"one"}},{"specversion":"1.0","id":"c-2","type":"order.created","source":"/shop","data":{"name":"two"}}]""",
                Encoding.UTF8,
                "application/cloudevents-batch+json"),
        };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", RelayHost.HookToken);

        using var response = await _host.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        Assert.Equal(["started", "started"], Statuses(body));
        Assert.Equal(["one", "two"], StartedBlobs());
        _host.Logs.AssertContainsNone(RelayHost.HookToken);
    }

    [Fact]
    public async Task AStructuredCloudEventWithTheAccessTokenQueryStartsTheJob()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/hooks/cloud?access_token={RelayHost.HookToken}")
        {
            Content = new StringContent("""{"specversion":"1.0","id":"c-9","type":"order.created","source":"/shop","data":{"name":"nine"}}""", Encoding.UTF8, "application/cloudevents+json"),
        };

        using var response = await _host.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(["nine"], StartedBlobs());
    }

    [Theory]
    [InlineData("Bearer wrong-token", 401)]
    [InlineData("Basic " + RelayHost.HookToken, 401)]
    public async Task ACloudEventWithAWrongAuthorizationIsRefused(string authorization, int status)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/hooks/cloud")
        {
            Content = new StringContent("""{"specversion":"1.0","id":"c-9","type":"t","source":"/s","data":{"name":"x"}}""", Encoding.UTF8, "application/cloudevents+json"),
        };
        request.Headers.TryAddWithoutValidation("Authorization", authorization);

        using var response = await _host.Client.SendAsync(request);

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Empty(_keboola.Requests);
    }

    [Fact]
    public async Task TheCloudEventsOptionsHandshakeAcceptsABearerToken()
    {
        using var request = new HttpRequestMessage(HttpMethod.Options, "/api/hooks/cloud");
        request.Headers.Add("WebHook-Request-Origin", "eventgrid.azure.net");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", RelayHost.HookToken);

        using var response = await _host.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("eventgrid.azure.net", response.Headers.GetValues("WebHook-Allowed-Origin").Single());
    }
}
