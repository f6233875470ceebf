using JobRelay.Model;
using JobRelay.Webhooks;
using static JobRelay.Tests.Webhooks.WebhookTestKit;

namespace JobRelay.Tests.Webhooks;

/// <summary>
/// Shopify documents the algorithm (base64 HMAC-SHA256 of the raw body, keyed with the app's client secret) with code
/// samples but no expected digest, so the vector below was computed from it by an independent implementation
/// (Python's hmac module), with the placeholder secret of Shopify's own sample ("hush").
/// </summary>
public sealed class ShopifyVerifierTests
{
    private const string Secret = "hush";
    private const string Body = """{"id":820982911946154508,"email":"jon@example.com"}""";
    private const string Signature = "D0UMXmhjwBRi4y66TmhJrDlhQABD7zI2fm3p6/QLMo8=";

    private static readonly WebhookVerifierSettings Settings = new(WebhookScheme.Shopify);
    private readonly IWebhookVerifier _verifier = Verifier(WebhookScheme.Shopify);

    private static WebhookDelivery Signed(string body = Body, string signature = Signature, params (string, string)[] more) =>
        Delivery(body, [("X-Shopify-Hmac-Sha256", signature), ("X-Shopify-Topic", "orders/create"), .. more]);

    [Fact]
    public void AVectorComputedFromShopifysDocumentedAlgorithmVerifiesWithTheWebhookIdAndTopic()
    {
        var verified = AssertVerified(_verifier.Verify(Signed(more: [("X-Shopify-Webhook-Id", "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"), ("X-Shopify-Event-Id", "98880550-7158-44d4-b7cd-2c97c8a091b5")]), Settings, ActiveSecrets(Secret)));

        Assert.Equal("b54557e4-bdd9-4b37-8a5f-bf7d70bcd043", verified.DeliveryId);
        Assert.Equal("orders/create", verified.EventType);
    }

    [Fact]
    public void WithoutAWebhookIdTheEventIdIsTheDeliveryId() =>
        Assert.Equal("98880550-7158-44d4-b7cd-2c97c8a091b5", AssertVerified(_verifier.Verify(Signed(more: [("X-Shopify-Event-Id", "98880550-7158-44d4-b7cd-2c97c8a091b5")]), Settings, ActiveSecrets(Secret))).DeliveryId);

    [Fact]
    public void AOneByteChangeToTheBodyIsASignatureMismatch() =>
        AssertRejected(_verifier.Verify(Signed(body: Body.Replace("jon", "jan", StringComparison.Ordinal)), Settings, ActiveSecrets(Secret)), WebhookRejectionReason.SignatureMismatch);

    [Fact]
    public void AOneCharacterChangeToTheSecretIsASignatureMismatch() =>
        AssertRejected(_verifier.Verify(Signed(), Settings, ActiveSecrets(ChangeOneCharacter(Secret))), WebhookRejectionReason.SignatureMismatch);

    [Fact]
    public void AMissingSignatureHeaderIsMissingHeader() =>
        AssertRejected(_verifier.Verify(Delivery(Body, []), Settings, ActiveSecrets(Secret)), WebhookRejectionReason.MissingHeader);

    [Fact]
    public void ASignatureThatIsNotBase64IsMalformed() =>
        AssertRejected(_verifier.Verify(Signed(signature: "not base64!"), Settings, ActiveSecrets(Secret)), WebhookRejectionReason.MalformedHeader);

    [Fact]
    public void ADeliverySignedWithTheOldSecretVerifiesWhileBothSecretsAreActive() =>
        Assert.Equal("hook-secret-2", AssertVerified(_verifier.Verify(Signed(), Settings, ActiveSecrets("the rotated secret", Secret))).SecretName);
}
