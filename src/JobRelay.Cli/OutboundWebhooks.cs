using System.Globalization;
using System.Net.Http;
using JobRelay.Model;
using JobRelay.Outbound;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace JobRelay.Cli;

/// <summary>
/// The OpenAPI 3.1 <c>webhooks</c> section: one entry per outbound event type, each a POST of the event payload (the
/// same shape as <c>events.schema.json</c>) with the Standard Webhooks headers a signed delivery carries.
/// </summary>
internal static class OutboundWebhooks
{
    public const string PayloadSchema = "OutboundEvent";

    public static async Task AddAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(document);
        ArgumentNullException.ThrowIfNull(context);
        var schema = await context.GetOrCreateSchemaAsync(typeof(OutboundEvent), null, cancellationToken);
        if (schema.Properties?.TryGetValue("type", out var type) == true && type is OpenApiSchema named)
        {
            named.Enum = [.. OutboundEventTypes.Names.Select(name => (System.Text.Json.Nodes.JsonNode)name)];
        }

        document.AddComponent<IOpenApiSchema>(PayloadSchema, schema);
        document.Tags ??= new HashSet<OpenApiTag>();
        document.Tags.Add(new OpenApiTag { Name = "events", Description = "Outbound events: what JobRelay sends to the destinations the catalog's subscriptions name." });
        document.Webhooks ??= new Dictionary<string, IOpenApiPathItem>(StringComparer.Ordinal);
        foreach (var eventType in OutboundEventTypes.All)
        {
            document.Webhooks[eventType.Name] = new OpenApiPathItem
            {
                Operations = new Dictionary<HttpMethod, OpenApiOperation>
                {
                    [HttpMethod.Post] = new()
                    {
                        OperationId = OperationId(eventType.Name),
                        Summary = eventType.Description,
                        Description = "Sent to every subscription whose filters match, at least once and in order per run and destination. " +
                            "A signed webhook carries webhook-id (the event id), webhook-timestamp and webhook-signature (v1, HMAC-SHA256, Standard Webhooks).",
                        Tags = new HashSet<OpenApiTagReference> { new("events", document) },
                        Parameters =
                        [
                            Header("webhook-id", "The event id: the same for every retry of this event."),
                            Header("webhook-timestamp", "Unix seconds when this attempt was signed."),
                            Header("webhook-signature", "v1,<base64 HMAC-SHA256 of id.timestamp.body>, with the subscription's signing secret."),
                        ],
                        RequestBody = new OpenApiRequestBody
                        {
                            Required = true,
                            Content = new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal)
                            {
                                ["application/json"] = new() { Schema = new OpenApiSchemaReference(PayloadSchema, document) },
                            },
                        },
                        Responses = new OpenApiResponses
                        {
                            ["2XX"] = new OpenApiResponse { Description = "Received: the delivery is done." },
                            ["410"] = new OpenApiResponse { Description = "Gone: JobRelay disables the subscription." },
                            ["default"] = new OpenApiResponse { Description = "Not received: JobRelay retries with backoff (honouring Retry-After) until the horizon, then dead-letters the event." },
                        },
                    },
                },
            };
        }
    }

    /// <summary>An event type's operation name: <c>job.failed</c> becomes <c>jobFailed</c>, <c>run.outcome-unknown</c> <c>runOutcomeUnknown</c>.</summary>
    public static string OperationId(string type)
    {
        ArgumentNullException.ThrowIfNull(type);
        var parts = type.Split('.', '-');
        return parts[0] + string.Concat(parts.Skip(1).Select(part => char.ToUpper(part[0], CultureInfo.InvariantCulture) + part[1..]));
    }

    private static OpenApiParameter Header(string name, string description) => new()
    {
        Name = name,
        In = ParameterLocation.Header,
        Required = true,
        Description = description,
        Schema = new OpenApiSchema { Type = JsonSchemaType.String },
    };
}
