namespace JobRelay.Model;

/// <summary>How a sender proves a delivery is its own.</summary>
public enum WebhookScheme
{
    /// <summary><c>X-Hub-Signature-256: sha256=&lt;hex&gt;</c>, HMAC-SHA256 of the body.</summary>
    GitHub,

    /// <summary><c>Stripe-Signature: t=..,v1=..</c>, HMAC-SHA256 of <c>{t}.{body}</c>.</summary>
    Stripe,

    /// <summary><c>X-Slack-Signature: v0=&lt;hex&gt;</c>, HMAC-SHA256 of <c>v0:{ts}:{body}</c>.</summary>
    Slack,

    /// <summary><c>X-Shopify-Hmac-Sha256</c>, base64 HMAC-SHA256 of the body.</summary>
    Shopify,

    /// <summary><c>webhook-id</c>, <c>webhook-timestamp</c>, <c>webhook-signature</c> (standardwebhooks.com).</summary>
    StandardWebhooks,

    /// <summary>Standard Webhooks with <c>svix-</c> headers (<c>webhook-</c> headers also accepted).</summary>
    Svix,

    /// <summary><c>X-Gitlab-Token</c>, a shared token.</summary>
    GitLab,

    /// <summary><c>X-Twilio-Signature</c>, base64 HMAC-SHA1 of the URL and the sorted form fields.</summary>
    Twilio,

    /// <summary>A configurable HMAC of the body in a configurable header.</summary>
    Hmac,

    /// <summary>A shared token in a configurable header.</summary>
    Token,

    /// <summary>Azure Event Grid (Event Grid schema): subscription validation handshake, shared token.</summary>
    EventGrid,

    /// <summary>CloudEvents webhooks: <c>OPTIONS</c> abuse-protection handshake, shared token.</summary>
    CloudEvents,

    /// <summary>Keboola job notifications (unsigned): a shared token in a header or the query.</summary>
    KeboolaNotification,

    /// <summary>TheEye job-end callbacks (unsigned): a shared token in a header or the query.</summary>
    TheEyeJobEnd,
}

/// <summary>The hash behind an HMAC signature.</summary>
public enum WebhookHmacAlgorithm
{
    Sha256,
    Sha1,
}

/// <summary>How a signature is written into its header.</summary>
public enum WebhookSignatureEncoding
{
    Hex,
    Base64,
}
