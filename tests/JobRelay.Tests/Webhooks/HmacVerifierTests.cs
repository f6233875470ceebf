using System.Security.Cryptography;
using System.Text;
using JobRelay.Model;
using JobRelay.Webhooks;
using static JobRelay.Tests.Webhooks.WebhookTestKit;

namespace JobRelay.Tests.Webhooks;

public sealed class HmacVerifierTests
{
    private const string Secret = "generic-hmac-secret";
    private const string Body = """{"event":"build.finished","id":42}""";

    private readonly IWebhookVerifier _verifier = Verifier(WebhookScheme.Hmac);

    public static TheoryData<WebhookHmacAlgorithm, WebhookSignatureEncoding, string?> Variants()
    {
        var data = new TheoryData<WebhookHmacAlgorithm, WebhookSignatureEncoding, string?>();
        foreach (var algorithm in new[] { WebhookHmacAlgorithm.Sha256, WebhookHmacAlgorithm.Sha1 })
        {
            foreach (var encoding in new[] { WebhookSignatureEncoding.Hex, WebhookSignatureEncoding.Base64 })
            {
                data.Add(algorithm, encoding, null);
                data.Add(algorithm, encoding, algorithm == WebhookHmacAlgorithm.Sha1 ? "sha1=" : "sha256=");
            }
        }

        return data;
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA5350:Do Not Use Weak Cryptographic Algorithms", Justification = "The senders under test sign with HMAC-SHA1.")]
    private static string Sign(string body, WebhookHmacAlgorithm algorithm, WebhookSignatureEncoding encoding, string secret = Secret)
    {
        var key = Encoding.UTF8.GetBytes(secret);
        var data = Encoding.UTF8.GetBytes(body);
        var mac = algorithm == WebhookHmacAlgorithm.Sha1 ? HMACSHA1.HashData(key, data) : HMACSHA256.HashData(key, data);
        return encoding == WebhookSignatureEncoding.Hex ? Convert.ToHexStringLower(mac) : Convert.ToBase64String(mac);
    }

    private static WebhookVerifierSettings Settings(WebhookHmacAlgorithm algorithm, WebhookSignatureEncoding encoding, string? prefix) =>
        new(WebhookScheme.Hmac) { Header = "X-Hook-Signature", Algorithm = algorithm, Encoding = encoding, Prefix = prefix, DeliveryIdHeader = "X-Hook-Id" };

    [Theory]
    [MemberData(nameof(Variants))]
    public void EveryAlgorithmEncodingAndPrefixVerifiesItsOwnSignatureAndRefusesATamperedBody(WebhookHmacAlgorithm algorithm, WebhookSignatureEncoding encoding, string? prefix)
    {
        var settings = Settings(algorithm, encoding, prefix);
        var header = prefix + Sign(Body, algorithm, encoding);

        var verified = AssertVerified(_verifier.Verify(Delivery(Body, [("X-Hook-Signature", header), ("X-Hook-Id", "d-1")]), settings, ActiveSecrets(Secret)));
        Assert.Equal("d-1", verified.DeliveryId);
        AssertRejected(_verifier.Verify(Delivery(Body.Replace("42", "43", StringComparison.Ordinal), [("X-Hook-Signature", header)]), settings, ActiveSecrets(Secret)), WebhookRejectionReason.SignatureMismatch);
        AssertRejected(_verifier.Verify(Delivery(Body, [("X-Hook-Signature", header)]), settings, ActiveSecrets(ChangeOneCharacter(Secret))), WebhookRejectionReason.SignatureMismatch);
    }

    [Fact]
    public void ASha1SignatureWhereSha256IsConfiguredIsMalformed() =>
        AssertRejected(
            _verifier.Verify(Delivery(Body, [("X-Hook-Signature", Sign(Body, WebhookHmacAlgorithm.Sha1, WebhookSignatureEncoding.Hex))]), Settings(WebhookHmacAlgorithm.Sha256, WebhookSignatureEncoding.Hex, null), ActiveSecrets(Secret)),
            WebhookRejectionReason.MalformedHeader);

    [Fact]
    public void AConfiguredPrefixIsRequired() =>
        AssertRejected(
            _verifier.Verify(Delivery(Body, [("X-Hook-Signature", Sign(Body, WebhookHmacAlgorithm.Sha256, WebhookSignatureEncoding.Hex))]), Settings(WebhookHmacAlgorithm.Sha256, WebhookSignatureEncoding.Hex, "sha256="), ActiveSecrets(Secret)),
            WebhookRejectionReason.MalformedHeader);

    [Fact]
    public void AMissingConfiguredHeaderIsMissingHeader() =>
        Assert.Contains("X-Hook-Signature", AssertRejected(_verifier.Verify(Delivery(Body, []), Settings(WebhookHmacAlgorithm.Sha256, WebhookSignatureEncoding.Hex, null), ActiveSecrets(Secret)), WebhookRejectionReason.MissingHeader).Message, StringComparison.Ordinal);

    [Fact]
    public void WithoutAConfiguredHeaderTheDefaultHeaderIsRead() =>
        AssertVerified(_verifier.Verify(Delivery(Body, [("X-JobRelay-Signature", Sign(Body, WebhookHmacAlgorithm.Sha256, WebhookSignatureEncoding.Hex))]), new WebhookVerifierSettings(WebhookScheme.Hmac), ActiveSecrets(Secret)));

    [Fact]
    public void ADeliverySignedWithTheOldSecretVerifiesWhileBothSecretsAreActive() =>
        Assert.Equal("hook-secret-2", AssertVerified(_verifier.Verify(Delivery(Body, [("X-Hook-Signature", Sign(Body, WebhookHmacAlgorithm.Sha256, WebhookSignatureEncoding.Base64))]), Settings(WebhookHmacAlgorithm.Sha256, WebhookSignatureEncoding.Base64, null), ActiveSecrets("new-secret", Secret))).SecretName);
}
