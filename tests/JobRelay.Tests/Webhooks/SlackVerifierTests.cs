using JobRelay.Model;
using JobRelay.Webhooks;
using Microsoft.Extensions.Time.Testing;
using static JobRelay.Tests.Webhooks.WebhookTestKit;

namespace JobRelay.Tests.Webhooks;

public sealed class SlackVerifierTests
{
    // Slack's worked example (api.slack.com/authentication/verifying-requests-from-slack): a slash command.
    private const string DocumentedSecret = "8f742231b10e8888abcd99yyyzzz85a5";
    private const long DocumentedTimestamp = 1531420618;
    private const string DocumentedBody = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    private const string DocumentedSignature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
    private const string Form = "application/x-www-form-urlencoded";

    private static readonly WebhookVerifierSettings Settings = new(WebhookScheme.Slack);
    private readonly FakeTimeProvider _clock = ClockAtUnix(DocumentedTimestamp + 5);
    private readonly IWebhookVerifier _verifier;

    public SlackVerifierTests() => _verifier = Verifier(WebhookScheme.Slack, _clock);

    private static WebhookDelivery Signed(string body = DocumentedBody, string signature = DocumentedSignature, long timestamp = DocumentedTimestamp, string contentType = Form) =>
        Delivery(body, [("X-Slack-Signature", signature), ("X-Slack-Request-Timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture))], contentType);

    private static WebhookDelivery SignedJson(string json, string secret = DocumentedSecret) =>
        Signed(json, "v0=" + HmacHex(secret, $"v0:{DocumentedTimestamp}:{json}"), contentType: "application/json");

    [Fact]
    public void SlacksDocumentedExampleVerifiesAndTheSlashCommandIsTheEventType() =>
        Assert.Equal("/webhook-collect", AssertVerified(_verifier.Verify(Signed(), Settings, ActiveSecrets(DocumentedSecret))).EventType);

    [Fact]
    public void AOneByteChangeToTheBodyIsASignatureMismatch() =>
        AssertRejected(_verifier.Verify(Signed(DocumentedBody.Replace("foobar", "foobaz", StringComparison.Ordinal)), Settings, ActiveSecrets(DocumentedSecret)), WebhookRejectionReason.SignatureMismatch);

    [Fact]
    public void AOneCharacterChangeToTheSecretIsASignatureMismatch() =>
        AssertRejected(_verifier.Verify(Signed(), Settings, ActiveSecrets(ChangeOneCharacter(DocumentedSecret))), WebhookRejectionReason.SignatureMismatch);

    [Fact]
    public void TheTimestampIsPartOfTheSignedContent() =>
        AssertRejected(_verifier.Verify(Signed(timestamp: DocumentedTimestamp + 1), Settings, ActiveSecrets(DocumentedSecret)), WebhookRejectionReason.SignatureMismatch);

    [Theory]
    [InlineData(301)]
    [InlineData(-301)]
    public void ATimestampOutsideTheToleranceIsRejectedWhetherStaleOrFuture(long secondsFromSigning)
    {
        var verifier = Verifier(WebhookScheme.Slack, ClockAtUnix(DocumentedTimestamp + secondsFromSigning));

        AssertRejected(verifier.Verify(Signed(), Settings, ActiveSecrets(DocumentedSecret)), WebhookRejectionReason.TimestampOutsideTolerance);
    }

    [Fact]
    public void AConfiguredToleranceIsHonoured()
    {
        _clock.SetUtcNow(DateTimeOffset.FromUnixTimeSeconds(DocumentedTimestamp + 600));

        AssertVerified(_verifier.Verify(Signed(), Settings with { Tolerance = TimeSpan.FromMinutes(15) }, ActiveSecrets(DocumentedSecret)));
    }

    [Theory]
    [InlineData("X-Slack-Signature")]
    [InlineData("X-Slack-Request-Timestamp")]
    public void AMissingSignatureOrTimestampHeaderIsMissingHeader(string missing)
    {
        var headers = new[] { ("X-Slack-Signature", DocumentedSignature), ("X-Slack-Request-Timestamp", "1531420618") }.Where(h => h.Item1 != missing);

        var rejected = AssertRejected(_verifier.Verify(Delivery(DocumentedBody, headers, Form), Settings, ActiveSecrets(DocumentedSecret)), WebhookRejectionReason.MissingHeader);
        Assert.Contains(missing, rejected.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ADeliverySignedWithTheOldSecretVerifiesWhileBothSecretsAreActive() =>
        Assert.Equal("hook-secret-2", AssertVerified(_verifier.Verify(Signed(), Settings, ActiveSecrets("a rotated signing secret", DocumentedSecret))).SecretName);

    [Fact]
    public void ASignedUrlVerificationIsAnsweredByEchoingTheChallenge()
    {
        var json = """{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}""";

        var handshake = Assert.IsType<WebhookHandshake>(_verifier.Verify(SignedJson(json), Settings, ActiveSecrets(DocumentedSecret)));

        Assert.Equal(200, handshake.StatusCode);
        Assert.Equal("""{"challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}""", handshake.Body);
        Assert.Equal("application/json", handshake.ContentType);
    }

    [Fact]
    public void AnUnsignedUrlVerificationGetsNoChallengeBack()
    {
        var json = """{"challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}""";

        var rejected = AssertRejected(_verifier.Verify(SignedJson(json, secret: "not the signing secret"), Settings, ActiveSecrets(DocumentedSecret)), WebhookRejectionReason.SignatureMismatch);
        Assert.DoesNotContain("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", rejected.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnEventsApiCallbackGivesItsEventIdAndInnerEventType()
    {
        var json = """{"type":"event_callback","event_id":"Ev08MFMKH6","event":{"type":"app_mention","text":"<@U0LAN0Z89> run"},"team_id":"T123ABC456"}""";

        var verified = AssertVerified(_verifier.Verify(SignedJson(json), Settings, ActiveSecrets(DocumentedSecret)));

        Assert.Equal("Ev08MFMKH6", verified.DeliveryId);
        Assert.Equal("app_mention", verified.EventType);
    }
}
