using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using JobRelay.Model;
using JobRelay.Secrets;
using JobRelay.Triggers;
using JobRelay.Webhooks.Schemes;
using JobRelay.Webhooks;
using Microsoft.Extensions.Logging.Abstractions;

namespace JobRelay.Benchmarks;

/// <summary>The per-delivery work: signature checks, mapping, catalog lookups. The baseline is the bare HMAC.</summary>
[MemoryDiagnoser]
public class HotPathBenchmarks
{
    private const string Secret = "bench-secret-value";
    private readonly byte[] _body = Rig.PushBody();
    private readonly IReadOnlyList<SecretValue> _secrets = [new SecretValue("s", Secret, "v1", DateTimeOffset.UtcNow)];
    private WebhookVerifierFactory _verifiers = null!;
    private WebhookDelivery _github = null!;
    private WebhookDelivery _stripe = null!;
    private WebhookDelivery _standard = null!;
    private string _catalogJson = null!;
    private TriggerCatalog _catalog = null!;
    private TriggerDefinition _trigger = null!;
    private DeliveryValues _values = null!;

    [GlobalSetup]
    public void Setup()
    {
        _verifiers = new WebhookVerifierFactory(TimeProvider.System, NullLogger<WebhookVerifierFactory>.Instance);
        var url = new Uri("https://relay.example.com/api/hooks/push");
        _github = new WebhookDelivery("POST", url, [
            KeyValuePair.Create("X-Hub-Signature-256", "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), _body))),
            KeyValuePair.Create("X-GitHub-Event", "push"),
            KeyValuePair.Create("X-GitHub-Delivery", Guid.NewGuid().ToString())], _body, "application/json");
        var t = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var stripeSignature = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), Encoding.UTF8.GetBytes($"{t}.{Encoding.UTF8.GetString(_body)}")));
        _stripe = new WebhookDelivery("POST", url, [KeyValuePair.Create("Stripe-Signature", $"t={t},v1={stripeSignature}")], _body, "application/json");
        var key = RandomNumberGenerator.GetBytes(24);
        var standardSignature = Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"msg_1.{t}.{Encoding.UTF8.GetString(_body)}")));
        _standardSecrets = [new SecretValue("s", "whsec_" + Convert.ToBase64String(key), "v1", DateTimeOffset.UtcNow)];
        _standard = new WebhookDelivery("POST", url, [
            KeyValuePair.Create("webhook-id", "msg_1"),
            KeyValuePair.Create("webhook-timestamp", t.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            KeyValuePair.Create("webhook-signature", "v1," + standardSignature)], _body, "application/json");
        _catalogJson = File.ReadAllText(Path.Combine(LoadHarness.RepoRoot(), "triggers.json"));
        _catalog = TriggerCatalogLoader.Parse(_catalogJson).Catalog!;
        _trigger = _catalog.Triggers["deploy-docs"];
        _values = new DeliveryValues(_github, "deploy-docs", JsonNode.Parse(_body), null);
    }

    private IReadOnlyList<SecretValue> _standardSecrets = [];

    [Benchmark(Baseline = true, Description = "HMAC-SHA256 of the body (baseline)")]
    public byte[] Hmac() => HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), _body);

    [Benchmark(Description = "verify GitHub")]
    public object GitHub() => _verifiers.Get(WebhookScheme.GitHub).Verify(_github, new WebhookVerifierSettings(WebhookScheme.GitHub), _secrets);

    [Benchmark(Description = "verify Stripe")]
    public object Stripe() => _verifiers.Get(WebhookScheme.Stripe).Verify(_stripe, new WebhookVerifierSettings(WebhookScheme.Stripe), _secrets);

    [Benchmark(Description = "verify Standard Webhooks")]
    public object StandardWebhooks() => _verifiers.Get(WebhookScheme.StandardWebhooks).Verify(_standard, new WebhookVerifierSettings(WebhookScheme.StandardWebhooks), _standardSecrets);

    [Benchmark(Description = "map arguments + build the job")]
    public object Map() => TriggerJobFactory.Create(_trigger, _catalog, TriggerJobFactory.MapArguments(_trigger, _values));

    [Benchmark(Description = "catalog lookup")]
    public object? Lookup() => _catalog.Triggers.TryGetValue("deploy-docs", out var trigger) ? trigger : null;

    [Benchmark(Description = "catalog load (parse + validate)")]
    public object Load() => TriggerCatalogLoader.Parse(_catalogJson);
}
