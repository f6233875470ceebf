using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using JobRelay.Model;
using JobRelay.Secrets;
using JobRelay.State;
using StandardWebhooks;

namespace JobRelay.Outbound;

/// <summary>
/// Sends one delivery to its destination, once, within the destination's timeout: the signed event (Standard
/// Webhooks), or a readable Slack or Teams message. The secrets (signing secret, webhook URL) are read from the secret
/// store for each attempt and never leave this class: no result, error or log carries them.
/// </summary>
internal sealed class OutboundSender(IHttpClientFactory clients, ISecretStore secrets, TimeProvider clock, OutboundOptions options)
{
    public const string HttpClientName = "JobRelay.Outbound";

    public async Task<OutboundSendResult> SendAsync(DestinationDefinition destination, OutboxDelivery delivery, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(delivery);
        SecretValue secret;
        try
        {
            secret = await secrets.GetAsync(destination.Secret, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return new OutboundSendResult(null, null, $"the secret '{destination.Secret}' could not be read ({ex.GetType().Name})");
        }

        using var request = destination.Kind switch
        {
            DestinationKind.Webhook => Signed(destination.Url!, delivery, secret.Value),
            DestinationKind.Slack => Json(secret.Value, OutboundMessages.Slack(delivery.Payload, options.DashboardUrl)),
            _ => Json(secret.Value, OutboundMessages.Teams(delivery.Payload, options.DashboardUrl)),
        };
        if (request is null)
        {
            return new OutboundSendResult(null, null, $"the secret '{destination.Secret}' does not hold an https URL");
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(destination.Timeout);
        try
        {
            using var response = await clients.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var status = (int)response.StatusCode;
            return new OutboundSendResult(status, RetryAfter(response.Headers.RetryAfter), response.IsSuccessStatusCode ? null : $"HTTP {status}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new OutboundSendResult(null, null, string.Create(CultureInfo.InvariantCulture, $"no answer within {destination.Timeout.TotalSeconds:0.###} s"));
        }
        catch (HttpRequestException ex)
        {
            // The message could name the address, and a Slack or Teams address is a secret: only the kind of error is kept.
            return new OutboundSendResult(null, null, $"no answer: {ex.HttpRequestError}");
        }
    }

    /// <summary>The event itself, signed as Standard Webhooks says: id, timestamp and body under the destination's secret.</summary>
    private HttpRequestMessage Signed(Uri url, OutboxDelivery delivery, string signingSecret)
    {
        var timestamp = clock.GetUtcNow();
        var signature = new StandardWebhook(signingSecret).Sign(delivery.EventId, timestamp, delivery.Payload);
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(delivery.Payload, Encoding.UTF8, "application/json") };
        request.Headers.Add("webhook-id", delivery.EventId);
        request.Headers.Add("webhook-timestamp", timestamp.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
        request.Headers.Add("webhook-signature", signature);
        return request;
    }

    private static HttpRequestMessage? Json(string urlSecret, JsonObject body)
    {
        if (!Uri.TryCreate(urlSecret.Trim(), UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttps && !(url.Scheme == Uri.UriSchemeHttp && url.IsLoopback)))
        {
            return null;
        }

        return new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };
    }

    private TimeSpan? RetryAfter(RetryConditionHeaderValue? header) => header switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - clock.GetUtcNow() is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero,
        _ => null,
    };
}
