using JobRelay.Secrets;

namespace JobRelay.Webhooks.Schemes;

/// <summary>
/// A shared token, compared in constant time with every active secret. It is read from the configured header
/// (default <c>X-JobRelay-Token</c>) and, for senders that cannot set headers, from the <c>token</c> query parameter.
/// A header is preferred: a query token travels in the URL, which proxies, access logs and request telemetry record,
/// so such a URL must be treated as a secret and redacted wherever it is logged. When both are sent, only the header
/// counts.
/// </summary>
internal static class SharedToken
{
    /// <summary>The matching secret's name, or a rejection.</summary>
    public static (string? SecretName, WebhookRejected? Rejection) Check(
        WebhookDelivery delivery,
        WebhookVerifierSettings settings,
        IReadOnlyList<SecretValue> secrets,
        bool queryAllowed)
    {
        var headerName = settings.Header ?? WebhookVerifierSettings.DefaultTokenHeader;
        var presented = delivery.Header(headerName)?.Trim();
        if (presented is not null && !string.IsNullOrEmpty(settings.Prefix))
        {
            if (!presented.StartsWith(settings.Prefix, StringComparison.OrdinalIgnoreCase))
            {
                return (null, new WebhookRejected(WebhookRejectionReason.MalformedHeader, $"The {headerName} header is malformed: it does not start with {settings.Prefix.Trim()}."));
            }

            presented = presented[settings.Prefix.Length..].Trim();
        }

        if (presented is null && queryAllowed)
        {
            presented = delivery.QueryValue(WebhookVerifierSettings.TokenQueryParameter);
        }

        if (string.IsNullOrEmpty(presented))
        {
            var where = queryAllowed ? $"the {headerName} header or the {WebhookVerifierSettings.TokenQueryParameter} query parameter" : $"the {headerName} header";
            return (null, new WebhookRejected(WebhookRejectionReason.MissingToken, $"No token was sent in {where}."));
        }

        foreach (var secret in secrets)
        {
            if (WebhookCrypto.TokenEquals(presented, secret.Value))
            {
                return (secret.Name, null);
            }
        }

        return (null, new WebhookRejected(WebhookRejectionReason.TokenMismatch, "The token does not match."));
    }
}
