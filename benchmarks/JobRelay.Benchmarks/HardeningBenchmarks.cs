using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using JobRelay.Model;
using JobRelay.Web;
using JobRelay.Webhooks;

namespace JobRelay.Benchmarks;

/// <summary>
/// What the hardening added to each delivery, against what it replaced, in the same run: strict JSON parsing (UTF-8
/// checked, duplicate keys refused, escapes decoded up front) against a plain <see cref="JsonNode.Parse(string, JsonNodeOptions?, System.Text.Json.JsonDocumentOptions)"/>,
/// and the replay digest a GitHub delivery is now keyed by against the signature check it follows.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class HardeningBenchmarks
{
    private const string Secret = "bench-secret-value";
    private readonly byte[] _body = Rig.PushBody();
    private WebhookDelivery _github = null!;

    [GlobalSetup]
    public void Setup()
    {
        _github = new WebhookDelivery("POST", new Uri("https://relay.example.com/api/hooks/push"), [
            KeyValuePair.Create("X-Hub-Signature-256", "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), _body))),
            KeyValuePair.Create("X-GitHub-Event", "push"),
            KeyValuePair.Create("X-GitHub-Delivery", Guid.NewGuid().ToString())], _body, "application/json");
    }

    [Benchmark(Baseline = true, Description = "parse the body (JsonNode.Parse)")]
    [BenchmarkCategory("parse")]
    public JsonNode? ParseLenient() => JsonNode.Parse(_body);

    [Benchmark(Description = "parse strictly (RequestBody.ParseJson)")]
    [BenchmarkCategory("parse")]
    public JsonNode ParseStrict() => RequestBody.ParseJson(_body);

    [Benchmark(Baseline = true, Description = "HMAC-SHA256 of the body (the signature check's core)")]
    [BenchmarkCategory("replay")]
    public byte[] Hmac() => HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), _body);

    [Benchmark(Description = "replay digest of a GitHub delivery")]
    [BenchmarkCategory("replay")]
    public string? Digest() => ReplayDigest.Of(WebhookScheme.GitHub, _github);
}
