using JobRelay.Secrets;

namespace JobRelay.Webhooks.Schemes;

/// <summary>
/// A shared token, compared in constant time with every active secret. It is read from the configured header
/// (default <c>X-JobRelay-Token</c>) and, for senders that cannot set headers, from the <c>token</c> query parameter.
/// A header is preferred: a query token travels in the URL, which proxies, access logs and request telemetry record,
/// so such a URL must be treated as a secret and redacted wherever it is logged. When both are sent, only the header
/// counts. The CloudEvents webhook spec (section 3) has senders use <c>Authorization: Bearer</c> or the
/// <c>access_token</c> query parameter instead; those forms are accepted where <c>specForms</c> is set.
/// </summary>
internal static class SharedToken
{
    public const string AccessTokenQueryParameter = "access_token";
    private const string BearerPrefix = "Bearer ";

    /// <summary>The matching secret's name, or a rejection.</summary>
    public static (string? SecretName, WebhookRejected? Rejection) Check(
        WebhookDelivery delivery,
        WebhookVerifierSettings settings,
        IReadOnlyList<SecretValue> secrets,
        bool queryAllowed,
        bool specForms = false)
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

        if (presented is null && specForms && delivery.Header("Authorization") is { } authorization)
        {
            if (!authorization.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase))
            {
                return (null, new WebhookRejected(WebhookRejectionReason.MalformedHeader, "The Authorization header is malformed: it does not start with Bearer."));
            }

            presented = authorization[BearerPrefix.Length..].Trim();
        }

        if (presented is null && queryAllowed)
        {
            presented = delivery.QueryValue(WebhookVerifierSettings.TokenQueryParameter)
                ?? (specForms ? delivery.QueryValue(AccessTokenQueryParameter) : null);
        }

        if (string.IsNullOrEmpty(presented))
        {
            var where = (queryAllowed, specForms) switch
            {
                (true, true) => $"the {headerName} or Authorization: Bearer header, or the {WebhookVerifierSettings.TokenQueryParameter} or {AccessTokenQueryParameter} query parameter",
                (true, false) => $"the {headerName} header or the {WebhookVerifierSettings.TokenQueryParameter} query parameter",
                _ => $"the {headerName} header",
            };
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
