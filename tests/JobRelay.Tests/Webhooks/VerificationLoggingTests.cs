using JobRelay.Model;
using JobRelay.Tests.Support;
using JobRelay.Webhooks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using static JobRelay.Tests.Webhooks.WebhookTestKit;

namespace JobRelay.Tests.Webhooks;

public sealed class VerificationLoggingTests : IDisposable
{
    private const string SecretValue = "s3cr3t-hook-value-c0ffee";
    private const string HexSignature = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
    private const string Base64Signature = "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
    private const string Body = """{"id":"evt_body_marker_91","type":"body.marker"}""";

    private readonly FakeLogCollector _logs = new();
    private readonly ILoggerFactory _loggerFactory;

    public VerificationLoggingTests() => _loggerFactory = _logs.CreateFactory();

    public void Dispose()
    {
        _loggerFactory.Dispose();
    }

    public static TheoryData<WebhookScheme, string, string> FailingDeliveries() => new()
    {
        { WebhookScheme.GitHub, "X-Hub-Signature-256", "sha256=" + HexSignature },
        { WebhookScheme.Stripe, "Stripe-Signature", "t=1700000000,v1=" + HexSignature },
        { WebhookScheme.Slack, "X-Slack-Signature", "v0=" + HexSignature },
        { WebhookScheme.Shopify, "X-Shopify-Hmac-Sha256", Base64Signature },
        { WebhookScheme.StandardWebhooks, "webhook-signature", "v1," + Base64Signature },
        { WebhookScheme.Svix, "svix-signature", "v1," + Base64Signature },
        { WebhookScheme.GitLab, "X-Gitlab-Token", Base64Signature },
        { WebhookScheme.Twilio, "X-Twilio-Signature", Base64Signature },
        { WebhookScheme.Hmac, "X-JobRelay-Signature", HexSignature },
        { WebhookScheme.Token, "X-JobRelay-Token", Base64Signature },
        { WebhookScheme.EventGrid, "X-JobRelay-Token", Base64Signature },
        { WebhookScheme.CloudEvents, "X-JobRelay-Token", Base64Signature },
        { WebhookScheme.KeboolaNotification, "X-JobRelay-Token", Base64Signature },
        { WebhookScheme.TheEyeJobEnd, "X-JobRelay-Token", Base64Signature },
    };

    [Theory]
    [MemberData(nameof(FailingDeliveries))]
    public void AFailedVerificationLogsTheReasonButNoSecretSignatureOrBody(WebhookScheme scheme, string header, string signature)
    {
        var clock = ClockAtUnix(1_700_000_000);
        var delivery = Delivery(Body, [
            (header, signature),
            ("X-Slack-Request-Timestamp", "1700000000"),
            ("webhook-id", "msg_1"),
            ("webhook-timestamp", "1700000000"),
            ("svix-id", "msg_1"),
            ("svix-timestamp", "1700000000"),
        ]);
        var verifier = Verifier(scheme, clock, _loggerFactory);

        var rejected = Assert.IsType<WebhookRejected>(verifier.Verify(delivery, new WebhookVerifierSettings(scheme), [Secret("whsec_" + Convert.ToBase64String("s3cr3t-hook-value-c0ffee"u8))]));
        Assert.IsType<WebhookRejected>(verifier.Verify(delivery, new WebhookVerifierSettings(scheme), [Secret(SecretValue)]));

        Assert.Contains(_logs.GetSnapshot(), l => l.Id.Id == 1501 && l.StructuredState!.Any(p => p.Value?.Contains(rejected.Reason.ToString(), StringComparison.Ordinal) == true));
        _logs.AssertContainsNone(SecretValue, Convert.ToBase64String("s3cr3t-hook-value-c0ffee"u8), HexSignature, Base64Signature, "body_marker", "body.marker");
        foreach (var forbidden in new[] { SecretValue, HexSignature, Base64Signature, "body_marker" })
        {
            Assert.DoesNotContain(forbidden, rejected.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void AnUnusableSecretIsLoggedByNameOnly()
    {
        var verifier = Verifier(WebhookScheme.StandardWebhooks, ClockAtUnix(1_700_000_000), _loggerFactory);
        var delivery = Delivery(Body, [("webhook-id", "msg_1"), ("webhook-timestamp", "1700000000"), ("webhook-signature", "v1," + Base64Signature)]);

        verifier.Verify(delivery, new WebhookVerifierSettings(WebhookScheme.StandardWebhooks), [Secret("whsec_" + SecretValue + "!", "svix-endpoint-secret")]);

        Assert.Contains(_logs.GetSnapshot(), l => l.Id.Id == 1503 && l.Message.Contains("svix-endpoint-secret", StringComparison.Ordinal));
        _logs.AssertContainsNone(SecretValue);
    }
}
