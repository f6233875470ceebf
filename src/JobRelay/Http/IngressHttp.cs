using System.Text.Json.Nodes;
using JobRelay.Chaining;
using JobRelay.Model;
using JobRelay.Runs;
using JobRelay.State;
using JobRelay.Web;
using JobRelay.Webhooks;
using Microsoft.AspNetCore.Http;

namespace JobRelay.Http;

/// <summary>
/// The HTTP side of the webhook and job-end routes: the request becomes a <see cref="WebhookDelivery"/> (body within
/// its limit, the URL as the sender addressed it, the headers), the processor decides, and its outcome becomes the
/// answer.
/// </summary>
internal static class IngressHttp
{
    public static async Task<IResult> WebhookAsync(WebhookProcessor processor, WebhookOptions options, HttpRequest request, string trigger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var outcome = await processor.ProcessAsync(
            trigger,
            async ct => Delivery(request, options, HttpMethods.IsOptions(request.Method) ? ReadOnlyMemory<byte>.Empty : await RequestBody.ReadAsync(request, options.MaxBodyBytes, ct)),
            cancellationToken);
        return outcome switch
        {
            WebhookHandshakeAnswered handshake => new HandshakeResult(handshake.Handshake),
            WebhookBatchProcessed { Failure: null } batch =>
                TypedResults.Accepted((string?)null, new JsonObject { ["status"] = "accepted", ["trigger"] = batch.Trigger, ["counts"] = Counts(batch.Counts), ["events"] = batch.Events }),
            WebhookBatchProcessed batch =>
                Problems.For(batch.Failure, request.Path, new Dictionary<string, object?> { ["trigger"] = batch.Trigger, ["counts"] = Counts(batch.Counts), ["events"] = batch.Events }),
            WebhookDeliveryProcessed { Result: DeliveryIgnored ignored } processed =>
                TypedResults.Accepted((string?)null, new JsonObject { ["status"] = "ignored", ["trigger"] = processed.Trigger, ["reason"] = ignored.Reason }),
            WebhookDeliveryProcessed { Result: DeliveryDuplicate duplicate } => RunAnswers.Duplicate(duplicate.Original),
            WebhookDeliveryProcessed { Result: DeliveryStarted started } => RunAnswers.First(started.Outcome),
            WebhookNotPosted notPosted => Problems.For(RelayErrorKind.InvalidInput, $"{notPosted.Method} is answered only as a handshake; deliveries are POSTed.", request.Path),
            _ => throw new InvalidOperationException($"No answer for {outcome.GetType().Name}."),
        };
    }

    public static async Task<IResult> JobEndAsync(ChainProcessor processor, WebhookOptions options, HttpRequest request, string platform, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var outcome = await processor.ReceiveAsync(
            platform,
            async ct => Delivery(request, options, await RequestBody.ReadAsync(request, options.MaxBodyBytes, ct)),
            cancellationToken);
        switch (outcome)
        {
            case ChainIgnored ignored:
                return TypedResults.Accepted((string?)null, new JsonObject { ["status"] = "ignored", ["reason"] = ignored.Reason });
            case ChainFollowed followed:
                var results = new JsonArray();
                foreach (var (trigger, run) in followed.Followers)
                {
                    results.Add(run switch
                    {
                        { IsFirst: false } => new JsonObject { ["trigger"] = trigger, ["status"] = "duplicate", ["runId"] = run.Record.RunId },
                        { Run: { } started } => JsonSerializerNodes.From(RunResponse.From(started)),
                        _ => StoredRunAnswers.Describe(run.Record),
                    });
                }

                var anyStarted = followed.Followers.Any(f => f.Outcome.IsFirst);
                return TypedResults.Accepted((string?)null, new JsonObject { ["status"] = anyStarted ? "started" : "duplicate", ["runs"] = results });
            default:
                throw new InvalidOperationException($"No answer for {outcome.GetType().Name}.");
        }
    }

    private static JsonObject Counts(IReadOnlyDictionary<string, int> counts)
    {
        var json = new JsonObject();
        foreach (var (status, count) in counts)
        {
            json[status] = count;
        }

        return json;
    }

    private static WebhookDelivery Delivery(HttpRequest request, WebhookOptions options, ReadOnlyMemory<byte> body)
        => new(request.Method, RequestUrl.Of(request, options.PublicBaseUrl), request.Headers.Select(h => KeyValuePair.Create(h.Key, h.Value.ToString())), body, request.ContentType);

    private sealed class HandshakeResult(WebhookHandshake handshake) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            var response = httpContext.Response;
            response.StatusCode = handshake.StatusCode;
            foreach (var (name, value) in handshake.Headers)
            {
                response.Headers[name] = value;
            }

            if (handshake.Body is { } body)
            {
                response.ContentType = handshake.ContentType ?? "application/json";
                await response.WriteAsync(body, httpContext.RequestAborted);
            }
        }
    }
}

/// <summary>The answers to a delivery or event once the store knows its run: the first, and its duplicates.</summary>
internal static class RunAnswers
{
    /// <summary>The first delivery's answer: 202 with the started run, or 202 pending when the platform did not get it yet.</summary>
    public static IResult First(RunOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        if (outcome.Run is { } run)
        {
            return TypedResults.Accepted($"/api/triggers/{Uri.EscapeDataString(run.Trigger)}/jobs/{Uri.EscapeDataString(run.JobId)}", RunResponse.From(run));
        }

        return TypedResults.Accepted((string?)null, StoredRunAnswers.Describe(outcome.Record));
    }

    /// <summary>A duplicate's answer: 200 with what the original delivery did.</summary>
    public static IResult Duplicate(RunRecord original)
    {
        ArgumentNullException.ThrowIfNull(original);
        if (new RunOutcome(original, IsFirst: false).Run is { } run)
        {
            return TypedResults.Ok(RunResponse.From(run));
        }

        var answer = StoredRunAnswers.Describe(original);
        answer["duplicate"] = true;
        return TypedResults.Ok(answer);
    }
}

/// <summary>JSON object forms of response records.</summary>
internal static class JsonSerializerNodes
{
    public static JsonObject From(RunResponse run) => new()
    {
        ["runId"] = run.RunId,
        ["trigger"] = run.Trigger,
        ["platform"] = run.Platform,
        ["jobId"] = run.JobId,
        ["status"] = run.Status,
        ["jobUrl"] = run.JobUrl?.ToString(),
    };
}
