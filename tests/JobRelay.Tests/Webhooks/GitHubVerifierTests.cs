using JobRelay.Model;
using JobRelay.Webhooks;
using static JobRelay.Tests.Webhooks.WebhookTestKit;

namespace JobRelay.Tests.Webhooks;

public sealed class GitHubVerifierTests
{
    // GitHub's published test vector (docs.github.com, "Validating webhook deliveries", "Testing the webhook payload validation").
    private const string DocumentedSecret = "It's a Secret to Everybody";
    private const string DocumentedBody = "Hello, World!";
    private const string DocumentedSignature = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

    private static readonly WebhookVerifierSettings Settings = new(WebhookScheme.GitHub);
    private readonly IWebhookVerifier _verifier = Verifier(WebhookScheme.GitHub);

    private static WebhookDelivery Documented(string body = DocumentedBody, string signature = DocumentedSignature, string eventType = "push") =>
        Delivery(body, [("X-Hub-Signature-256", signature), ("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"), ("X-GitHub-Event", eventType)]);

    [Fact]
    public void GitHubsDocumentedTestVectorVerifiesWithItsDeliveryIdAndEvent()
    {
        var verified = AssertVerified(_verifier.Verify(Documented(), Settings, ActiveSecrets(DocumentedSecret)));

        Assert.Equal("72d3162e-cc78-11e3-81ab-4c9367dc0958", verified.DeliveryId);
        Assert.Equal("push", verified.EventType);
        Assert.Equal("hook-secret-1", verified.SecretName);
    }

    [Fact]
    public void HeaderNamesAreMatchedWithoutRegardToCase()
    {
        var delivery = Delivery(DocumentedBody, [("x-hub-signature-256", DocumentedSignature)]);

        AssertVerified(_verifier.Verify(delivery, Settings, ActiveSecrets(DocumentedSecret)));
    }

    [Fact]
    public void AOneByteChangeToTheBodyIsASignatureMismatch() =>
        AssertRejected(_verifier.Verify(Documented(body: "Hello, World?"), Settings, ActiveSecrets(DocumentedSecret)), WebhookRejectionReason.SignatureMismatch);

    [Fact]
    public void AOneCharacterChangeToTheSecretIsASignatureMismatch() =>
        AssertRejected(_verifier.Verify(Documented(), Settings, ActiveSecrets(ChangeOneCharacter(DocumentedSecret))), WebhookRejectionReason.SignatureMismatch);

    [Fact]
    public void AMissingSignatureHeaderIsMissingHeader()
    {
        var rejected = AssertRejected(_verifier.Verify(Delivery(DocumentedBody, []), Settings, ActiveSecrets(DocumentedSecret)), WebhookRejectionReason.MissingHeader);

        Assert.Contains("X-Hub-Signature-256", rejected.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ASignatureWithoutTheSha256PrefixIsMalformed() =>
        AssertRejected(_verifier.Verify(Documented(signature: DocumentedSignature[7..]), Settings, ActiveSecrets(DocumentedSecret)), WebhookRejectionReason.MalformedHeader);

    [Fact]
    public void ADeliverySignedWithTheOldSecretVerifiesWhileBothSecretsAreActive()
    {
        var verified = AssertVerified(_verifier.Verify(Documented(), Settings, ActiveSecrets("the new secret", DocumentedSecret)));

        Assert.Equal("hook-secret-2", verified.SecretName);
    }

    [Fact]
    public void APingIsAnsweredAsAHandshakeAndStartsNoJob()
    {
        var handshake = Assert.IsType<WebhookHandshake>(_verifier.Verify(Documented(eventType: "ping"), Settings, ActiveSecrets(DocumentedSecret)));

        Assert.Equal(200, handshake.StatusCode);
    }

    [Fact]
    public void AnUnsignedPingIsRejected() =>
        AssertRejected(_verifier.Verify(Documented(eventType: "ping"), Settings, ActiveSecrets("another secret")), WebhookRejectionReason.SignatureMismatch);

    [Fact]
    public void ATriggerWithoutSecretsRejectsEveryDeliveryAsAConfigurationErrorRatherThanUnauthorized()
    {
        var rejected = AssertRejected(_verifier.Verify(Documented(), Settings, []), WebhookRejectionReason.NoUsableSecret);

        Assert.Equal(RelayErrorKind.SecretUnusable, rejected.ToException().Kind);
        Assert.Equal(RelayErrorKind.Unauthorized, AssertRejected(_verifier.Verify(Documented(), Settings, ActiveSecrets("wrong")), WebhookRejectionReason.SignatureMismatch).ToException().Kind);
    }
}
