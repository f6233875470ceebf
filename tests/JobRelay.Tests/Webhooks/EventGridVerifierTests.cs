using JobRelay.Model;
using JobRelay.Webhooks;
using static JobRelay.Tests.Webhooks.WebhookTestKit;

namespace JobRelay.Tests.Webhooks;

public sealed class EventGridVerifierTests
{
    // The subscription validation event of the Event Grid documentation ("Webhook event delivery", endpoint validation).
    private const string ValidationEvent = """
        [{
          "id": "2d1781af-3a4c-4d7c-bd0c-e34b19da4e66",
          "topic": "/subscriptions/xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
          "subject": "",
          "data": {
            "validationCode": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6",
            "validationUrl": "https://rp-eastus2.eventgrid.azure.net:553/eventsubscriptions/myeventsub/validate?id=0000000000-0000-0000-0000-00000000000000&t=2022-10-28T04:23:35.1981776Z&apiVersion=2018-05-01-preview&token=1A1A1A1A"
          },
          "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
          "eventTime": "2022-10-28T04:23:35.1981776Z",
          "metadataVersion": "1",
          "dataVersion": "1"
        }]
        """;

    private const string BlobCreated = """
        [{
          "topic": "/subscriptions/xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st",
          "subject": "/blobServices/default/containers/in/blobs/data.csv",
          "eventType": "Microsoft.Storage.BlobCreated",
          "id": "831e1650-001e-001b-66ab-eeb76e069631",
          "data": { "api": "PutBlockList" },
          "dataVersion": "",
          "metadataVersion": "1",
          "eventTime": "2017-06-26T18:41:00.9584103Z"
        }]
        """;

    private const string Token = "eg-hook-token-51f2";
    private static readonly WebhookVerifierSettings Settings = new(WebhookScheme.EventGrid);
    private readonly IWebhookVerifier _verifier = Verifier(WebhookScheme.EventGrid);

    private static Uri WithToken(string token) => new($"https://relay.example.com/api/hooks/blobs?token={token}");

    [Fact]
    public void TheDocumentedValidationEventIsAnsweredWithItsValidationCode()
    {
        var delivery = Delivery(ValidationEvent, [("aeg-event-type", "SubscriptionValidation")]);

        var handshake = Assert.IsType<WebhookHandshake>(_verifier.Verify(delivery, Settings, []));

        Assert.Equal(200, handshake.StatusCode);
        Assert.Equal("""{"validationResponse":"512d38b6-c7b8-40c8-89fe-f46f9e9622b6"}""", handshake.Body);
    }

    [Fact]
    public void WithASecretConfiguredTheValidationMustCarryTheToken()
    {
        var without = Delivery(ValidationEvent, [("aeg-event-type", "SubscriptionValidation")]);
        var with = Delivery(ValidationEvent, [("aeg-event-type", "SubscriptionValidation")], url: WithToken(Token));

        AssertRejected(_verifier.Verify(without, Settings, ActiveSecrets(Token)), WebhookRejectionReason.MissingToken);
        Assert.IsType<WebhookHandshake>(_verifier.Verify(with, Settings, ActiveSecrets(Token)));
    }

    [Fact]
    public void AValidationWithoutAValidationCodeIsMalformed() =>
        AssertRejected(_verifier.Verify(Delivery("""[{"id":"1","data":{}}]""", [("aeg-event-type", "SubscriptionValidation")]), Settings, []), WebhookRejectionReason.MalformedBody);

    [Fact]
    public void ANotificationWithTheTokenVerifiesWithTheEventIdAndType()
    {
        var verified = AssertVerified(_verifier.Verify(Delivery(BlobCreated, [("aeg-event-type", "Notification")], url: WithToken(Token)), Settings, ActiveSecrets(Token)));

        Assert.Equal("831e1650-001e-001b-66ab-eeb76e069631", verified.DeliveryId);
        Assert.Equal("Microsoft.Storage.BlobCreated", verified.EventType);
    }

    [Fact]
    public void ANotificationWithAWrongTokenIsRejected() =>
        AssertRejected(_verifier.Verify(Delivery(BlobCreated, [("aeg-event-type", "Notification")], url: WithToken(ChangeOneCharacter(Token))), Settings, ActiveSecrets(Token)), WebhookRejectionReason.TokenMismatch);

    [Fact]
    public void TheTokenMayAlsoComeInTheHeader() =>
        AssertVerified(_verifier.Verify(Delivery(BlobCreated, [("aeg-event-type", "Notification"), ("X-JobRelay-Token", Token)]), Settings, ActiveSecrets("rotated-token", Token)));
}
