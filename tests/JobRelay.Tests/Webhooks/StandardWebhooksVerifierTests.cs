using JobRelay.Model;
using JobRelay.Webhooks;
using Microsoft.Extensions.Time.Testing;
using static JobRelay.Tests.Webhooks.WebhookTestKit;

namespace JobRelay.Tests.Webhooks;

public sealed class StandardWebhooksVerifierTests
{
    // The test vector of the Standard Webhooks specification repository (standard-webhooks/standard-webhooks, used by
    // its reference libraries' tests), also Svix's.
    private const string SpecSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    private const string SpecId = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    private const long SpecTimestamp = 1614265330;
    private const string SpecBody = """{"test": 2432232314}""";
    private const string SpecSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    private FakeTimeProvider _clock = ClockAtUnix(SpecTimestamp + 10);

    private static WebhookDelivery Signed(string prefix = "webhook-", string body = SpecBody, string signature = SpecSignature, long timestamp = SpecTimestamp) =>
        Delivery(body, [(prefix + "id", SpecId), (prefix + "timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture)), (prefix + "signature", signature)]);

    private WebhookVerification Verify(WebhookDelivery delivery, WebhookScheme scheme = WebhookScheme.StandardWebhooks, params string[] secrets) =>
        Verifier(scheme, _clock).Verify(delivery, new WebhookVerifierSettings(scheme), ActiveSecrets(secrets.Length == 0 ? [SpecSecret] : secrets));

    [Fact]
    public void TheSpecificationsTestVectorVerifiesWithTheMessageIdAsDeliveryId() =>
        Assert.Equal(SpecId, AssertVerified(Verify(Signed())).DeliveryId);

    [Fact]
    public void SvixHeadersCarryTheSameVector() =>
        Assert.Equal(SpecId, AssertVerified(Verify(Signed("svix-"), WebhookScheme.Svix)).DeliveryId);

    [Fact]
    public void SvixAlsoAcceptsTheWhiteLabelledWebhookHeaders() =>
        AssertVerified(Verify(Signed("webhook-"), WebhookScheme.Svix));

    [Fact]
    public void ASecretWithoutTheWhsecPrefixIsTheSameKey() =>
        AssertVerified(Verify(Signed(), secrets: SpecSecret["whsec_".Length..]));

    [Fact]
    public void AOneByteChangeToTheBodyIsASignatureMismatch() =>
        AssertRejected(Verify(Signed(body: """{"test": 2432232315}""")), WebhookRejectionReason.SignatureMismatch);

    [Fact]
    public void AOneCharacterChangeToTheSecretIsASignatureMismatch() =>
        AssertRejected(Verify(Signed(), secrets: ChangeOneCharacter(SpecSecret, 10)), WebhookRejectionReason.SignatureMismatch);

    [Theory]
    [InlineData(301)]
    [InlineData(-301)]
    public void ATimestampOutsideTheToleranceIsRejectedWhetherStaleOrFuture(long secondsFromSigning)
    {
        _clock = ClockAtUnix(SpecTimestamp + secondsFromSigning);

        AssertRejected(Verify(Signed()), WebhookRejectionReason.TimestampOutsideTolerance);
    }

    [Theory]
    [InlineData("webhook-id")]
    [InlineData("webhook-timestamp")]
    [InlineData("webhook-signature")]
    public void AnyMissingHeaderIsMissingHeader(string missing)
    {
        var headers = Signed().Headers.Where(h => !h.Key.Equals(missing, StringComparison.OrdinalIgnoreCase)).Select(h => (h.Key, h.Value));

        Assert.Contains(missing, AssertRejected(Verify(Delivery(SpecBody, headers)), WebhookRejectionReason.MissingHeader).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnyOfSeveralSpaceSeparatedSignaturesMayMatchAndOtherVersionsAreIgnored() =>
        AssertVerified(Verify(Signed(signature: $"v1a,bm90IGFuIGVkMjU1MTkgc2lnbmF0dXJl v1,{Convert.ToBase64String(new byte[32])} {SpecSignature}")));

    [Fact]
    public void ASignatureListWithoutV1EntriesIsMalformed() =>
        AssertRejected(Verify(Signed(signature: "v1a,bm90IGFuIGVkMjU1MTkgc2lnbmF0dXJl")), WebhookRejectionReason.MalformedHeader);

    [Fact]
    public void ADeliverySignedWithTheOldSecretVerifiesWhileBothSecretsAreActive() =>
        Assert.Equal("hook-secret-2", AssertVerified(Verify(Signed(), secrets: ["whsec_" + Convert.ToBase64String(new byte[24]), SpecSecret])).SecretName);

    [Fact]
    public void ASecretThatIsNotBase64CannotVerifyAnything() =>
        AssertRejected(Verify(Signed(), secrets: "whsec_***not base64***"), WebhookRejectionReason.NoUsableSecret);

    [Fact]
    public void TheEventTypeIsTheTypeOfTheStandardPayload()
    {
        var key = Convert.FromBase64String(SpecSecret["whsec_".Length..]);
        var body = """{"type":"invoice.paid","timestamp":"2022-11-03T20:26:10.344522Z","data":{"id":"in_1"}}""";
        var signature = "v1," + HmacBase64(key, $"{SpecId}.{SpecTimestamp}.{body}");

        Assert.Equal("invoice.paid", AssertVerified(Verify(Signed(body: body, signature: signature))).EventType);
    }
}
