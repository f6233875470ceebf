using System.Security.Cryptography;
using System.Text;
using JobRelay.Model;
using JobRelay.Secrets;
using JobRelay.Webhooks.Schemes;
using JobRelay.Webhooks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace JobRelay.Tests.Webhooks;

/// <summary>Builders for deliveries, secrets and verifiers.</summary>
internal static class WebhookTestKit
{
    public static readonly Uri DefaultUrl = new("https://relay.example.com/api/hooks/orders");

    /// <summary>A clock that stands at <paramref name="seconds"/> after the Unix epoch until a test moves it.</summary>
    public static FakeTimeProvider ClockAtUnix(long seconds) => new(DateTimeOffset.FromUnixTimeSeconds(seconds));

    public static SecretValue Secret(string value, string name = "hook-secret") =>
        new(name, value, version: null, DateTimeOffset.UnixEpoch);

    public static IReadOnlyList<SecretValue> ActiveSecrets(params string[] values) =>
        [.. values.Select((value, index) => Secret(value, $"hook-secret-{index + 1}"))];

    public static WebhookDelivery Delivery(
        string body,
        IEnumerable<(string Name, string Value)> headers,
        string contentType = "application/json",
        Uri? url = null,
        string method = "POST") =>
        Delivery(Encoding.UTF8.GetBytes(body), headers, contentType, url, method);

    public static WebhookDelivery Delivery(
        byte[] body,
        IEnumerable<(string Name, string Value)> headers,
        string contentType = "application/json",
        Uri? url = null,
        string method = "POST") =>
        new(method, url ?? DefaultUrl, headers.Select(h => KeyValuePair.Create(h.Name, h.Value)), body, contentType);

    public static IWebhookVerifier Verifier(WebhookScheme scheme, TimeProvider? clock = null, ILoggerFactory? loggers = null) =>
        new WebhookVerifierFactory(clock ?? TimeProvider.System, (loggers ?? NullLoggerFactory.Instance).CreateLogger<WebhookVerifierFactory>()).Get(scheme);

    public static string HmacHex(string key, string content) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(content)));

    public static string HmacBase64(byte[] key, string content) =>
        Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(content)));

    /// <summary>The text with its character at <paramref name="index"/> replaced by another one.</summary>
    public static string ChangeOneCharacter(string text, int index = -1)
    {
        var at = index < 0 ? text.Length + index : index;
        var replacement = text[at] == 'x' ? 'y' : 'x';
        return string.Concat(text.AsSpan(0, at), replacement.ToString(), text.AsSpan(at + 1));
    }

    public static WebhookVerified AssertVerified(WebhookVerification result) => Assert.IsType<WebhookVerified>(result);

    public static WebhookRejected AssertRejected(WebhookVerification result, WebhookRejectionReason reason)
    {
        var rejected = Assert.IsType<WebhookRejected>(result);
        Assert.Equal(reason, rejected.Reason);
        return rejected;
    }
}
