using System.Globalization;
using System.Text.Json.Nodes;

namespace JobRelay.Outbound;

/// <summary>
/// The readable messages of an event, for people: the trigger, the state, the job's duration and a link to the run on
/// the dashboard. Built from the stored payload alone (which holds no secret), so a message never carries one either.
/// </summary>
internal static class OutboundMessages
{
    /// <summary>A Slack incoming-webhook message: a text fallback and one section block.</summary>
    public static JsonObject Slack(string payload, Uri? dashboard)
    {
        var (title, facts, link) = Describe(payload, dashboard);
        var text = title + (link is null ? string.Empty : $" <{link}|Open the run>");
        return new JsonObject
        {
            ["text"] = text,
            ["blocks"] = new JsonArray(
                new JsonObject { ["type"] = "section", ["text"] = new JsonObject { ["type"] = "mrkdwn", ["text"] = text } },
                new JsonObject
                {
                    ["type"] = "context",
                    ["elements"] = new JsonArray([.. facts.Select(f => (JsonNode)new JsonObject { ["type"] = "mrkdwn", ["text"] = $"*{f.Name}:* {f.Value}" })]),
                }),
        };
    }

    /// <summary>A Teams Workflows message: one Adaptive Card with a title, the facts and a link.</summary>
    public static JsonObject Teams(string payload, Uri? dashboard)
    {
        var (title, facts, link) = Describe(payload, dashboard);
        var card = new JsonObject
        {
            ["$schema"] = "http://adaptivecards.io/schemas/adaptive-card.json",
            ["type"] = "AdaptiveCard",
            ["version"] = "1.4",
            ["body"] = new JsonArray(
                new JsonObject { ["type"] = "TextBlock", ["text"] = title, ["weight"] = "Bolder", ["wrap"] = true },
                new JsonObject { ["type"] = "FactSet", ["facts"] = new JsonArray([.. facts.Select(f => (JsonNode)new JsonObject { ["title"] = f.Name, ["value"] = f.Value })]) }),
        };
        if (link is not null)
        {
            card["actions"] = new JsonArray(new JsonObject { ["type"] = "Action.OpenUrl", ["title"] = "Open the run", ["url"] = link });
        }

        return new JsonObject
        {
            ["type"] = "message",
            ["attachments"] = new JsonArray(new JsonObject { ["contentType"] = "application/vnd.microsoft.card.adaptive", ["content"] = card }),
        };
    }

    private static (string Title, List<(string Name, string Value)> Facts, string? Link) Describe(string payload, Uri? dashboard)
    {
        var root = JsonNode.Parse(payload)!;
        var type = root["type"]!.GetValue<string>();
        var data = root["data"]!;
        var trigger = data["trigger"]!.GetValue<string>();
        var runId = data["runId"]!.GetValue<string>();
        var state = type switch
        {
            "run.accepted" => "accepted",
            "run.pending" => "pending: the platform did not get the start yet",
            "job.started" => "started",
            "job.succeeded" => "succeeded",
            "job.failed" => "failed",
            "job.cancelled" => "cancelled",
            "job.overdue" => "overdue: still running past its maxDuration",
            "run.outcome-unknown" => "of unknown outcome: the start may have reached the platform",
            "run.refused" => "refused",
            _ => "lost: the platform no longer knows the job",
        };
        var mark = type switch
        {
            "job.failed" or "run.refused" or "job.lost" or "run.outcome-unknown" => "❌",
            "job.succeeded" => "✅",
            "job.overdue" or "run.pending" or "job.cancelled" => "⚠️",
            _ => "ℹ️",
        };
        var facts = new List<(string, string)> { ("Trigger", trigger), ("State", state), ("Run", runId) };
        if (data["platform"]?.GetValue<string>() is { } platform)
        {
            facts.Add(("Platform", data["jobId"]?.GetValue<string>() is { } jobId ? $"{platform} job {jobId}" : platform));
        }

        if (data["times"]?["durationSeconds"]?.GetValue<double>() is { } seconds)
        {
            facts.Add(("Duration", OutboundEvents.Readable(seconds)));
        }

        if (data["reason"]?.GetValue<string>() is { } reason)
        {
            facts.Add(("Reason", reason));
        }

        var link = dashboard is null ? null : dashboard.GetLeftPart(UriPartial.Path) + "#run=" + Uri.EscapeDataString(runId);
        var duration = facts.FirstOrDefault(f => f.Item1 == "Duration").Item2;
        var title = string.Create(CultureInfo.InvariantCulture, $"{mark} {trigger}: {state}{(duration is null ? string.Empty : $" after {duration}")}");
        return (title, facts, link);
    }
}
