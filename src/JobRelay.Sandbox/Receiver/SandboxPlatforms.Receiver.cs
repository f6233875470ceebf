using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using StandardWebhooks;
using StandardWebhooks.Diagnostics;

namespace JobRelay.Sandbox;

/// <summary>
/// A local receiver of JobRelay's outbound events: a signed webhook it verifies with the StandardWebhooks library
/// under <see cref="SandboxCredentials.SigningSecret"/>, a Slack incoming webhook and a Teams Workflows webhook whose
/// message shape it checks. It keeps what it received, accepted or not, for <c>GET /sandbox/received</c>.
/// </summary>
public sealed partial class SandboxPlatforms
{
    private readonly ConcurrentQueue<SandboxDelivery> _received = new();

    /// <summary>Where a signed webhook destination posts in the sandbox (Standard Webhooks).</summary>
    public Uri WebhookReceiverUrl => new(KeboolaUrl, "../sandbox/receiver/webhook");

    /// <summary>The Slack incoming-webhook URL of the sandbox.</summary>
    public Uri SlackReceiverUrl => new(KeboolaUrl, "../sandbox/receiver/slack");

    /// <summary>The Teams Workflows webhook URL of the sandbox.</summary>
    public Uri TeamsReceiverUrl => new(KeboolaUrl, "../sandbox/receiver/teams");

    /// <summary>Where <c>GET</c> lists what the receiver got, oldest first.</summary>
    public Uri ReceivedUrl => new(KeboolaUrl, "../sandbox/received");

    /// <summary>Every delivery the receiver got so far, oldest first (bounded by <see cref="SandboxOptions.MaxJobs"/>).</summary>
    public IReadOnlyList<SandboxDelivery> Received => [.. _received];

    private void MapReceiver(WebApplication app)
    {
        app.MapPost("/sandbox/receiver/webhook", async (HttpContext context) =>
        {
            var (text, body) = await ReadBodyAsync(context);
            string? problem = null;
            try
            {
                new StandardWebhook(SandboxCredentials.SigningSecret).Verify(text, context.Request.Headers);
            }
            catch (WebhookVerificationException ex)
            {
                problem = "not verified: " + ex.Message;
            }

            Record("webhook", problem, context.Request.Headers["webhook-id"].ToString(), text, body);
            return problem is null ? Results.NoContent() : Results.Json(problem, statusCode: 401);
        });
        app.MapPost("/sandbox/receiver/slack", async (HttpContext context) =>
        {
            var (text, body) = await ReadBodyAsync(context);
            var problem = SlackProblem(body);
            Record("slack", problem, null, text, body);

            // Slack answers "ok" as text, and a bad message with 400 and a short code.
            return problem is null ? Results.Text("ok") : Results.Text("invalid_payload", statusCode: 400);
        });
        app.MapPost("/sandbox/receiver/teams", async (HttpContext context) =>
        {
            var (text, body) = await ReadBodyAsync(context);
            var problem = TeamsProblem(body);
            Record("teams", problem, null, text, body);
            return problem is null ? Results.Accepted() : Results.Json(problem, statusCode: 400);
        });
        app.MapGet("/sandbox/received", () => Results.Json(ReceivedList()));
    }

    private void Record(string kind, string? problem, string? webhookId, string text, JsonObject? body)
    {
        var delivery = new SandboxDelivery(kind, _options.TimeProvider.GetUtcNow(), problem is null, problem,
            string.IsNullOrEmpty(webhookId) ? null : webhookId, text);
        _received.Enqueue(delivery);
        while (_received.Count > _options.MaxJobs && _received.TryDequeue(out _))
        {
        }

        SandboxLog.Received(_logger, kind, delivery.Accepted, body?["type"]?.GetValueKind() == JsonValueKind.String ? (string?)body["type"] : null);
    }

    /// <summary>Why a body is not a Slack incoming-webhook message: it needs a text, and blocks (when given) that each have a type.</summary>
    private static string? SlackProblem(JsonObject? body)
    {
        if (body?["text"] is not JsonValue text || text.GetValueKind() != JsonValueKind.String || ((string?)text)!.Length == 0)
        {
            return "a Slack message needs a non-empty \"text\"";
        }

        if (body["blocks"] is { } blocks
            && (blocks is not JsonArray array || array.Any(b => b is not JsonObject block || block["type"]?.GetValueKind() != JsonValueKind.String)))
        {
            return "\"blocks\" must be an array of objects that each have a \"type\"";
        }

        return null;
    }

    /// <summary>Why a body is not a Teams Workflows message: a "message" with at least one Adaptive Card attachment.</summary>
    private static string? TeamsProblem(JsonObject? body)
    {
        if (body is null || (string?)body["type"] != "message" || body["attachments"] is not JsonArray { Count: > 0 } attachments)
        {
            return "a Teams message needs \"type\": \"message\" and \"attachments\"";
        }

        return attachments.All(a => a is JsonObject attachment
                && (string?)attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
                && (string?)attachment["content"]?["type"] == "AdaptiveCard")
            ? null
            : "each attachment must be an Adaptive Card (contentType application/vnd.microsoft.card.adaptive)";
    }

    /// <summary>
    /// The deliveries as <c>GET /sandbox/received</c> answers them:
    /// <c>{"received": [{kind, receivedAt, accepted, problem, webhookId, body}]}</c>, the body as JSON when it is.
    /// </summary>
    private JsonObject ReceivedList()
    {
        var received = new JsonArray();
        foreach (var delivery in Received)
        {
            received.Add(new JsonObject
            {
                ["kind"] = delivery.Kind,
                ["receivedAt"] = delivery.ReceivedAt,
                ["accepted"] = delivery.Accepted,
                ["problem"] = delivery.Problem,
                ["webhookId"] = delivery.WebhookId,
                ["body"] = JsonOrText(delivery.Body),
            });
        }

        return new JsonObject { ["received"] = received };
    }
}
