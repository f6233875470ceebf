using JobRelay.Model;
using JobRelay.Webhooks;
using static JobRelay.Tests.Webhooks.WebhookTestKit;

namespace JobRelay.Tests.Webhooks;

public sealed class TokenVerifierTests
{
    private const string Token = "kbc-notify-7f3e9a1c";
    private const string Body = """{"event":"job-succeeded"}""";

    private static WebhookVerification Verify(WebhookScheme scheme, WebhookDelivery delivery, WebhookVerifierSettings? settings = null, params string[] secrets) =>
        Verifier(scheme).Verify(delivery, settings ?? new WebhookVerifierSettings(scheme), ActiveSecrets(secrets.Length == 0 ? [Token] : secrets));

    private static WebhookDelivery WithHeader(string token, string header = "X-JobRelay-Token") => Delivery(Body, [(header, token)]);

    private static WebhookDelivery WithQuery(string token) => Delivery(Body, [], url: new Uri($"https://relay.example.com/api/hooks/after-load?token={Uri.EscapeDataString(token)}"));

    [Theory]
    [InlineData(WebhookScheme.Token)]
    [InlineData(WebhookScheme.KeboolaNotification)]
    [InlineData(WebhookScheme.TheEyeJobEnd)]
    public void TheTokenInTheDefaultHeaderVerifies(WebhookScheme scheme) =>
        AssertVerified(Verify(scheme, WithHeader(Token)));

    [Theory]
    [InlineData(WebhookScheme.KeboolaNotification)]
    [InlineData(WebhookScheme.TheEyeJobEnd)]
    public void SendersThatCannotSetHeadersMaySendTheTokenInTheQuery(WebhookScheme scheme) =>
        AssertVerified(Verify(scheme, WithQuery(Token)));

    [Fact]
    public void TheGenericTokenSchemeIgnoresATokenInTheQuery() =>
        AssertRejected(Verify(WebhookScheme.Token, WithQuery(Token)), WebhookRejectionReason.MissingToken);

    [Fact]
    public void WhenBothAreSentOnlyTheHeaderCounts()
    {
        var delivery = Delivery(Body, [("X-JobRelay-Token", "wrong")], url: new Uri($"https://relay.example.com/hook?token={Token}"));

        AssertRejected(Verify(WebhookScheme.KeboolaNotification, delivery), WebhookRejectionReason.TokenMismatch);
    }

    [Theory]
    [InlineData(WebhookScheme.Token)]
    [InlineData(WebhookScheme.KeboolaNotification)]
    [InlineData(WebhookScheme.TheEyeJobEnd)]
    public void AOneCharacterChangeToTheSecretIsATokenMismatch(WebhookScheme scheme) =>
        AssertRejected(Verify(scheme, WithHeader(Token), secrets: ChangeOneCharacter(Token)), WebhookRejectionReason.TokenMismatch);

    [Theory]
    [InlineData(WebhookScheme.Token)]
    [InlineData(WebhookScheme.KeboolaNotification)]
    [InlineData(WebhookScheme.TheEyeJobEnd)]
    public void ADeliveryWithoutATokenIsMissingToken(WebhookScheme scheme) =>
        AssertRejected(Verify(scheme, Delivery(Body, [])), WebhookRejectionReason.MissingToken);

    [Fact]
    public void AConfiguredHeaderAndPrefixAreHonoured()
    {
        var settings = new WebhookVerifierSettings(WebhookScheme.Token) { Header = "Authorization", Prefix = "Bearer " };

        AssertVerified(Verify(WebhookScheme.Token, WithHeader($"Bearer {Token}", "Authorization"), settings));
        AssertRejected(Verify(WebhookScheme.Token, WithHeader(Token, "Authorization"), settings), WebhookRejectionReason.MalformedHeader);
    }

    [Fact]
    public void TheOldTokenVerifiesWhileBothSecretsAreActive() =>
        Assert.Equal("hook-secret-2", AssertVerified(Verify(WebhookScheme.TheEyeJobEnd, WithHeader(Token), secrets: ["kbc-notify-new", Token])).SecretName);
}
