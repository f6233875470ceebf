using JobRelay.Model;
using JobRelay.Webhooks;
using static JobRelay.Tests.Webhooks.WebhookTestKit;

namespace JobRelay.Tests.Webhooks;

public sealed class CloudEventsVerifierTests
{
    private const string Token = "ce-hook-token-0b7d";
    private static readonly WebhookVerifierSettings Settings = new(WebhookScheme.CloudEvents);
    private readonly IWebhookVerifier _verifier = Verifier(WebhookScheme.CloudEvents);

    private static WebhookDelivery Options(params (string, string)[] headers) => Delivery(string.Empty, headers, contentType: string.Empty, method: "OPTIONS");

    [Fact]
    public void TheAbuseProtectionRequestIsAnsweredWithTheAllowedOriginAndRate()
    {
        // The example of the CloudEvents "HTTP 1.1 Web Hooks" specification, section 4.
        var handshake = Assert.IsType<WebhookHandshake>(_verifier.Verify(Options(("WebHook-Request-Origin", "eventemitter.example.com"), ("WebHook-Request-Rate", "120")), Settings, []));

        Assert.Equal(200, handshake.StatusCode);
        Assert.Equal("eventemitter.example.com", handshake.Headers["WebHook-Allowed-Origin"]);
        Assert.Equal("120", handshake.Headers["WebHook-Allowed-Rate"]);
    }

    [Fact]
    public void WithoutARequestedRateNoRateIsAnswered() =>
        Assert.False(Assert.IsType<WebhookHandshake>(_verifier.Verify(Options(("WebHook-Request-Origin", "eventgrid.azure.net")), Settings, [])).Headers.ContainsKey("WebHook-Allowed-Rate"));

    [Fact]
    public void AnOptionsRequestWithoutAnOriginIsMissingHeader() =>
        AssertRejected(_verifier.Verify(Options(), Settings, []), WebhookRejectionReason.MissingHeader);

    [Fact]
    public void WithASecretConfiguredTheHandshakeMustCarryTheToken()
    {
        AssertRejected(_verifier.Verify(Options(("WebHook-Request-Origin", "eventgrid.azure.net")), Settings, ActiveSecrets(Token)), WebhookRejectionReason.MissingToken);
        Assert.IsType<WebhookHandshake>(_verifier.Verify(Options(("WebHook-Request-Origin", "eventgrid.azure.net"), ("X-JobRelay-Token", Token)), Settings, ActiveSecrets(Token)));
    }

    [Fact]
    public void ABinaryModeEventGivesItsIdAndTypeFromTheCeHeaders()
    {
        var delivery = Delivery("""{"api":"PutBlockList"}""", [("ce-id", "A234-1234-1234"), ("ce-type", "Microsoft.Storage.BlobCreated"), ("ce-specversion", "1.0"), ("X-JobRelay-Token", Token)]);

        var verified = AssertVerified(_verifier.Verify(delivery, Settings, ActiveSecrets(Token)));

        Assert.Equal("A234-1234-1234", verified.DeliveryId);
        Assert.Equal("Microsoft.Storage.BlobCreated", verified.EventType);
    }

    [Fact]
    public void AStructuredModeEventGivesItsIdAndTypeFromTheBody()
    {
        var delivery = Delivery("""{"specversion":"1.0","type":"com.example.object.deleted","source":"/mycontext","id":"C234-1234-1234","data":{}}""", [], "application/cloudevents+json", new Uri($"https://relay.example.com/hook?token={Token}"));

        var verified = AssertVerified(_verifier.Verify(delivery, Settings, ActiveSecrets(Token)));

        Assert.Equal("C234-1234-1234", verified.DeliveryId);
        Assert.Equal("com.example.object.deleted", verified.EventType);
    }

    [Fact]
    public void AnEventWithAWrongTokenIsRejected() =>
        AssertRejected(_verifier.Verify(Delivery("{}", [("X-JobRelay-Token", ChangeOneCharacter(Token))]), Settings, ActiveSecrets(Token)), WebhookRejectionReason.TokenMismatch);
}
