using JobRelay.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;

namespace JobRelay.Cli;

/// <summary>
/// The OpenAPI description of the HTTP surface, generated from the endpoints' own metadata (names, summaries, answer
/// and problem types, which routes need the API key) and served at <see cref="DocumentPath"/>. The Functions app
/// serves a committed copy of exactly this document; a test regenerates it and fails when the copy drifts.
/// </summary>
internal static class ServeOpenApi
{
    public const string DocumentPath = "/api/openapi.json";
    public const string ApiKeyScheme = "apiKey";

    public static IServiceCollection AddJobRelayOpenApi(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        return services.AddOpenApi(options =>
        {
            options.OpenApiVersion = OpenApiSpecVersion.OpenApi3_1;
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "JobRelay",
                    Version = "v1",
                    Description = "Starts Keboola and TheEye jobs from webhooks, API calls, schedules and job-end events. " +
                        "Errors are RFC 9457 problems whose type is a urn:jobrelay:problem:* name.",
                };

                // Where the API lives is the caller's to say (serve, a Functions app, API Management): the document
                // names paths only, so that every host serves the same one.
                document.Servers = [];
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>(StringComparer.Ordinal);
                document.Components.SecuritySchemes[ApiKeyScheme] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.ApiKey,
                    In = ParameterLocation.Header,
                    Name = RelayEndpoints.ApiKeyHeader,
                    Description = "The API key (in Azure, a function key).",
                };
                return Task.CompletedTask;
            });
            options.AddDocumentTransformer(async (document, context, cancellationToken) =>
                await OutboundWebhooks.AddAsync(document, context, cancellationToken));
            options.AddOperationTransformer((operation, context, _) =>
            {
                // An endpoint that answers several methods has one name; OpenAPI needs one per operation.
                var methods = context.Description.ActionDescriptor.EndpointMetadata.OfType<IHttpMethodMetadata>().FirstOrDefault()?.HttpMethods;
                if (operation.OperationId is { } name && methods is { Count: > 1 } && context.Description.HttpMethod is { } method
                    && !string.Equals(method, methods[0], StringComparison.OrdinalIgnoreCase))
                {
                    operation.OperationId = name + char.ToUpperInvariant(method[0]) + method[1..].ToLowerInvariant();
                }

                if (context.Description.ActionDescriptor.EndpointMetadata.OfType<ApiKeyRequired>().Any())
                {
                    operation.Security ??= [];
                    operation.Security.Add(new OpenApiSecurityRequirement
                    {
                        [new OpenApiSecuritySchemeReference(ApiKeyScheme, context.Document)] = [],
                    });
                }

                return Task.CompletedTask;
            });
        });
    }

    public static IEndpointConventionBuilder MapJobRelayOpenApi(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        return endpoints.MapOpenApi(DocumentPath);
    }
}
