using JobRelay.Model;
using JobRelay.Webhooks;
using static JobRelay.Tests.Webhooks.WebhookTestKit;

namespace JobRelay.Tests.Webhooks;

/// <summary>GitLab's classic secret token is compared, not computed, so there is no vector to reproduce; the headers are GitLab's documented ones.</summary>
public sealed class GitLabVerifierTests
{
    private const string Token = "glwt-9a8b7c6d5e4f";
    private const string Body = """{"object_kind":"push","ref":"refs/heads/main"}""";

    private static readonly WebhookVerifierSettings Settings = new(WebhookScheme.GitLab);
    private readonly IWebhookVerifier _verifier = Verifier(WebhookScheme.GitLab);

    private static WebhookDelivery Sent(string token = Token, params (string, string)[] more) =>
        Delivery(Body, [("X-Gitlab-Token", token), ("X-Gitlab-Event", "Push Hook"), ("X-Gitlab-Event-UUID", "13792a34-cac6-4fda-95a8-c58e00a3954e"), .. more]);

    [Fact]
    public void TheSharedTokenVerifiesWithTheEventUuidAndEvent()
    {
        var verified = AssertVerified(_verifier.Verify(Sent(), Settings, ActiveSecrets(Token)));

        Assert.Equal("13792a34-cac6-4fda-95a8-c58e00a3954e", verified.DeliveryId);
        Assert.Equal("Push Hook", verified.EventType);
    }

    [Fact]
    public void TheIdempotencyKeyThatSurvivesRetriesIsPreferredAsDeliveryId() =>
        Assert.Equal("908a6d9e-45fd-46c8-97e6-c4f350f219dd", AssertVerified(_verifier.Verify(Sent(more: ("Idempotency-Key", "908a6d9e-45fd-46c8-97e6-c4f350f219dd")), Settings, ActiveSecrets(Token))).DeliveryId);

    [Fact]
    public void AOneCharacterChangeToTheSecretIsATokenMismatch() =>
        AssertRejected(_verifier.Verify(Sent(), Settings, ActiveSecrets(ChangeOneCharacter(Token))), WebhookRejectionReason.TokenMismatch);

    [Fact]
    public void ATokenThatIsAPrefixOfTheSecretIsATokenMismatch() =>
        AssertRejected(_verifier.Verify(Sent(Token[..^1]), Settings, ActiveSecrets(Token)), WebhookRejectionReason.TokenMismatch);

    [Fact]
    public void AMissingTokenHeaderIsMissingHeader() =>
        AssertRejected(_verifier.Verify(Delivery(Body, [("X-Gitlab-Event", "Push Hook")]), Settings, ActiveSecrets(Token)), WebhookRejectionReason.MissingHeader);

    [Fact]
    public void TheOldTokenVerifiesWhileBothSecretsAreActive() =>
        Assert.Equal("hook-secret-2", AssertVerified(_verifier.Verify(Sent(), Settings, ActiveSecrets("glwt-new", Token))).SecretName);
}
