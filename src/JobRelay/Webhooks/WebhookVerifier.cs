using JobRelay.Model;
using JobRelay.Secrets;
using Microsoft.Extensions.Logging;

namespace JobRelay.Webhooks;

/// <summary>What every verifier does around its scheme's check: argument checks, the no-secret rule, and logging.</summary>
internal abstract class WebhookVerifier(WebhookScheme scheme, ILogger logger) : IWebhookVerifier
{
    public WebhookScheme Scheme { get; } = scheme;

    /// <summary>True for schemes that accept deliveries without a secret (Event Grid, CloudEvents handshakes from Azure).</summary>
    protected virtual bool SecretOptional => false;

    protected ILogger Logger { get; } = logger;

    public WebhookVerification Verify(WebhookDelivery delivery, WebhookVerifierSettings settings, IReadOnlyList<SecretValue> secrets)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(secrets);
        if (settings.Scheme != Scheme)
        {
            throw new ArgumentException($"Settings of scheme {settings.Scheme} were given to the {Scheme} verifier.", nameof(settings));
        }

        var result = secrets.Count == 0 && !SecretOptional
            ? new WebhookRejected(WebhookRejectionReason.NoUsableSecret, "The endpoint cannot verify deliveries at the moment.")
            : VerifyCore(delivery, settings, secrets);
        switch (result)
        {
            case WebhookVerified verified:
                if (verified.SecretName is null)
                {
                    WebhookLog.Unauthenticated(Logger, Scheme);
                }
                else
                {
                    WebhookLog.Verified(Logger, Scheme, verified.SecretName, verified.DeliveryId, verified.EventType);
                }

                break;
            case WebhookRejected rejected:
                WebhookLog.Rejected(Logger, Scheme, rejected.Reason);
                break;
            case WebhookHandshake handshake:
                WebhookLog.Handshake(Logger, Scheme, handshake.StatusCode);
                break;
        }

        return result;
    }

    protected abstract WebhookVerification VerifyCore(WebhookDelivery delivery, WebhookVerifierSettings settings, IReadOnlyList<SecretValue> secrets);

    protected void ReportUnusableSecret(SecretValue secret, string problem) => WebhookLog.UnusableSecret(Logger, secret.Name, Scheme, problem);

    protected static WebhookRejected Missing(string header) =>
        new(WebhookRejectionReason.MissingHeader, $"The {header} header is missing.");

    protected static WebhookRejected Malformed(string header, string problem) =>
        new(WebhookRejectionReason.MalformedHeader, $"The {header} header is malformed: {problem}.");

    protected static WebhookRejected Mismatch(string header) =>
        new(WebhookRejectionReason.SignatureMismatch, $"The signature in the {header} header does not match the delivery.");

    protected static WebhookRejected Stale(string header, TimeSpan tolerance) =>
        new(WebhookRejectionReason.TimestampOutsideTolerance, $"The timestamp in the {header} header is more than {(long)tolerance.TotalSeconds} seconds from now.");
}
