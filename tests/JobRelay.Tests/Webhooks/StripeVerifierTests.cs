using JobRelay.Model;
using JobRelay.Webhooks;
using Microsoft.Extensions.Time.Testing;
using static JobRelay.Tests.Webhooks.WebhookTestKit;

namespace JobRelay.Tests.Webhooks;

/// <summary>
/// Stripe publishes the algorithm and an example header but no secret to go with it, so the vector below was computed
/// from the documented algorithm (HMAC-SHA256 of "{t}.{body}" keyed with the whole whsec_ string) by an independent
/// implementation (Python's hmac module), not by the code under test.
/// </summary>
public sealed class StripeVerifierTests
{
    private const string Secret = "whsec_jobrelay_documented_algorithm";
    private const long Timestamp = 1492774577;
    private const string Body = """{"id":"evt_1JobRelayExample","object":"event","type":"payment_intent.succeeded"}""";
    private const string Signature = "7412521b4a59993518b16791db0dab7e2a79fff1017c8f5883f79c0cb1d92701";

    private static readonly WebhookVerifierSettings Settings = new(WebhookScheme.Stripe);
    private readonly FakeTimeProvider _clock = ClockAtUnix(Timestamp + 30);
    private readonly IWebhookVerifier _verifier;

    public StripeVerifierTests() => _verifier = Verifier(WebhookScheme.Stripe, _clock);

    private static WebhookDelivery Signed(string header, string body = Body) => Delivery(body, [("Stripe-Signature", header)]);

    [Fact]
    public void AVectorComputedFromStripesDocumentedAlgorithmVerifiesWithTheEventIdAndType()
    {
        var verified = AssertVerified(_verifier.Verify(Signed($"t={Timestamp},v1={Signature}"), Settings, ActiveSecrets(Secret)));

        Assert.Equal("evt_1JobRelayExample", verified.DeliveryId);
        Assert.Equal("payment_intent.succeeded", verified.EventType);
    }

    [Fact]
    public void AnyV1SignatureMayMatchAndV0EntriesAreIgnored()
    {
        var header = $"t={Timestamp},v1={new string('0', 64)},v1={Signature},v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39";

        AssertVerified(_verifier.Verify(Signed(header), Settings, ActiveSecrets(Secret)));
    }

    [Fact]
    public void AOneByteChangeToTheBodyIsASignatureMismatch() =>
        AssertRejected(_verifier.Verify(Signed($"t={Timestamp},v1={Signature}", Body.Replace("succeeded", "succeedee", StringComparison.Ordinal)), Settings, ActiveSecrets(Secret)), WebhookRejectionReason.SignatureMismatch);

    [Fact]
    public void AOneCharacterChangeToTheSecretIsASignatureMismatch() =>
        AssertRejected(_verifier.Verify(Signed($"t={Timestamp},v1={Signature}"), Settings, ActiveSecrets(ChangeOneCharacter(Secret))), WebhookRejectionReason.SignatureMismatch);

    [Fact]
    public void TheTimestampIsPartOfTheSignedContent() =>
        AssertRejected(_verifier.Verify(Signed($"t={Timestamp + 1},v1={Signature}"), Settings, ActiveSecrets(Secret)), WebhookRejectionReason.SignatureMismatch);

    [Theory]
    [InlineData(301)]
    [InlineData(-301)]
    public void ATimestampOutsideTheToleranceIsRejectedWhetherStaleOrFuture(long secondsFromSigning)
    {
        var verifier = Verifier(WebhookScheme.Stripe, ClockAtUnix(Timestamp + secondsFromSigning));

        AssertRejected(verifier.Verify(Signed($"t={Timestamp},v1={Signature}"), Settings, ActiveSecrets(Secret)), WebhookRejectionReason.TimestampOutsideTolerance);
    }

    [Fact]
    public void ATimestampAtTheEdgeOfTheToleranceVerifies()
    {
        _clock.SetUtcNow(DateTimeOffset.FromUnixTimeSeconds(Timestamp + 300));

        AssertVerified(_verifier.Verify(Signed($"t={Timestamp},v1={Signature}"), Settings, ActiveSecrets(Secret)));
    }

    [Fact]
    public void AMissingSignatureHeaderIsMissingHeader() =>
        AssertRejected(_verifier.Verify(Delivery(Body, []), Settings, ActiveSecrets(Secret)), WebhookRejectionReason.MissingHeader);

    [Theory]
    [InlineData("v1=7412521b4a59993518b16791db0dab7e2a79fff1017c8f5883f79c0cb1d92701")]
    [InlineData("t=1492774577")]
    [InlineData("t=soon,v1=7412521b4a59993518b16791db0dab7e2a79fff1017c8f5883f79c0cb1d92701")]
    public void AHeaderWithoutATimestampOrAV1SignatureIsMalformed(string header) =>
        AssertRejected(_verifier.Verify(Signed(header), Settings, ActiveSecrets(Secret)), WebhookRejectionReason.MalformedHeader);

    [Fact]
    public void DuringARollStripeSignsWithBothSecretsAndEitherActiveSecretVerifies()
    {
        var newSecret = "whsec_jobrelay_rolled_secret";
        var newSignature = HmacHex(newSecret, $"{Timestamp}.{Body}");
        var header = $"t={Timestamp},v1={newSignature},v1={Signature}";

        Assert.Equal("hook-secret-1", AssertVerified(_verifier.Verify(Signed(header), Settings, ActiveSecrets(newSecret))).SecretName);
        Assert.Equal("hook-secret-2", AssertVerified(_verifier.Verify(Signed($"t={Timestamp},v1={Signature}"), Settings, ActiveSecrets(newSecret, Secret))).SecretName);
    }
}
