using System.Security.Cryptography;
using System.Text;
using JobRelay.Model;
using JobRelay.Webhooks;
using static JobRelay.Tests.Webhooks.WebhookTestKit;

namespace JobRelay.Tests.Webhooks;

public sealed class TwilioVerifierTests
{
    // Twilio's worked example (twilio.com/docs/usage/security, "Validating Requests are coming from Twilio").
    private const string DocumentedAuthToken = "12345";
    private const string DocumentedSignature = "0/KCTR6DLpKmkAf8muzZqo1nDgQ=";
    private const string DocumentedForm = "CallSid=CA1234567890ABCDE&Caller=%2B12349013030&Digits=1234&From=%2B12349013030&To=%2B18005551212";
    private const string Form = "application/x-www-form-urlencoded";
    private static readonly Uri DocumentedUrl = new("https://mycompany.com/myapp.php?foo=1&bar=2");

    private static readonly WebhookVerifierSettings Settings = new(WebhookScheme.Twilio);
    private readonly IWebhookVerifier _verifier = Verifier(WebhookScheme.Twilio);

    private static WebhookDelivery Sent(string form = DocumentedForm, string signature = DocumentedSignature, Uri? url = null, params (string, string)[] more) =>
        Delivery(form, [("X-Twilio-Signature", signature), .. more], Form, url ?? DocumentedUrl);

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA5350:Do Not Use Weak Cryptographic Algorithms", Justification = "The senders under test sign with HMAC-SHA1.")]
    private static string Sign(string token, string data) =>
        Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes(token), Encoding.UTF8.GetBytes(data)));

    [Fact]
    public void TwiliosDocumentedExampleVerifies() =>
        AssertVerified(_verifier.Verify(Sent(), Settings, ActiveSecrets(DocumentedAuthToken)));

    [Fact]
    public void TheFieldsAreSortedByNameWhateverOrderTheyArriveIn() =>
        AssertVerified(_verifier.Verify(Sent("To=%2B18005551212&Digits=1234&CallSid=CA1234567890ABCDE&From=%2B12349013030&Caller=%2B12349013030"), Settings, ActiveSecrets(DocumentedAuthToken)));

    [Fact]
    public void TheIdempotencyTokenIsTheDeliveryId() =>
        Assert.Equal("a1b2c3", AssertVerified(_verifier.Verify(Sent(more: ("I-Twilio-Idempotency-Token", "a1b2c3")), Settings, ActiveSecrets(DocumentedAuthToken))).DeliveryId);

    [Fact]
    public void AOneByteChangeToTheBodyIsASignatureMismatch() =>
        AssertRejected(_verifier.Verify(Sent(DocumentedForm.Replace("Digits=1234", "Digits=1235", StringComparison.Ordinal)), Settings, ActiveSecrets(DocumentedAuthToken)), WebhookRejectionReason.SignatureMismatch);

    [Fact]
    public void AChangeToTheUrlIsASignatureMismatch() =>
        AssertRejected(_verifier.Verify(Sent(url: new Uri("https://mycompany.com/myapp.php?foo=1&bar=3")), Settings, ActiveSecrets(DocumentedAuthToken)), WebhookRejectionReason.SignatureMismatch);

    [Fact]
    public void AOneCharacterChangeToTheAuthTokenIsASignatureMismatch() =>
        AssertRejected(_verifier.Verify(Sent(), Settings, ActiveSecrets(ChangeOneCharacter(DocumentedAuthToken))), WebhookRejectionReason.SignatureMismatch);

    [Fact]
    public void AMissingSignatureHeaderIsMissingHeader() =>
        AssertRejected(_verifier.Verify(Delivery(DocumentedForm, [], Form, DocumentedUrl), Settings, ActiveSecrets(DocumentedAuthToken)), WebhookRejectionReason.MissingHeader);

    [Fact]
    public void TheOldAuthTokenVerifiesWhileBothAreActive() =>
        Assert.Equal("hook-secret-2", AssertVerified(_verifier.Verify(Sent(), Settings, ActiveSecrets("54321", DocumentedAuthToken))).SecretName);

    [Fact]
    public void AUrlReceivedWithTheDefaultPortWrittenOutVerifiesASignatureOverTheUrlWithoutIt() =>
        AssertVerified(_verifier.Verify(Sent(url: new Uri("https://mycompany.com:443/myapp.php?foo=1&bar=2")), Settings, ActiveSecrets(DocumentedAuthToken)));

    [Fact]
    public void AJsonBodyIsBoundByTheBodySha256OfTheSignedUrl()
    {
        // Twilio documents the JSON variant (bodySHA256 = hex SHA-256 of the body, in the signed URL) without a worked example.
        var body = """{"FlowSid":"FW123","To":"+16505552222"}""";
        var digest = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(body)));
        var url = new Uri($"https://mycompany.com/studiojson?bodySHA256={digest}");
        var signature = Sign(DocumentedAuthToken, url.OriginalString);

        AssertVerified(_verifier.Verify(Delivery(body, [("X-Twilio-Signature", signature)], "application/json", url), Settings, ActiveSecrets(DocumentedAuthToken)));
        AssertRejected(_verifier.Verify(Delivery(body.Replace("W123", "W124", StringComparison.Ordinal), [("X-Twilio-Signature", signature)], "application/json", url), Settings, ActiveSecrets(DocumentedAuthToken)), WebhookRejectionReason.BodyDigestMismatch);
    }

    [Fact]
    public void AJsonBodyWithoutBodySha256IsRejected()
    {
        var url = new Uri("https://mycompany.com/studiojson");

        AssertRejected(_verifier.Verify(Delivery("{}", [("X-Twilio-Signature", Sign(DocumentedAuthToken, url.OriginalString))], "application/json", url), Settings, ActiveSecrets(DocumentedAuthToken)), WebhookRejectionReason.BodyDigestMismatch);
    }
}
