using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using JobRelay.Functions;
using JobRelay.Http;
using JobRelay.Tests.Infra;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.OpenApi;

namespace JobRelay.Tests.Http;

/// <summary>
/// The OpenAPI document <c>jobrelay serve</c> generates, against the routes it maps (read from its endpoint data
/// source, so routes added later are covered without touching this test), the OpenAPI reader, and the copy the
/// Functions app serves. Set JOBRELAY_UPDATE_OPENAPI=1 to rewrite that copy from serve when the surface changes.
/// </summary>
public sealed class OpenApiDocumentTests : IAsyncLifetime
{
    private const string CommittedCopy = "src/JobRelay.Functions/openapi.json";

    private const string Catalog = """
        {
          "platforms": { "kbc": { "type": "keboola", "url": "http://127.0.0.1:1/", "tokenSecret": "kbc-token" } },
          "triggers": { "load": { "platform": "kbc", "keboola": { "component": "keboola.ex-db", "config": "42" } } }
        }
        """;

    private RelayHost _host = null!;

    public async Task InitializeAsync()
        => _host = await RelayHost.StartAsync(Catalog, new Dictionary<string, Uri> { ["kbc"] = new("http://127.0.0.1:1/") });

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task TheDocumentIsServedWithoutTheKeyAndIsValidOpenApi()
    {
        using var response = await _host.GetAsync("/api/openapi.json", apiKey: null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);

        var read = OpenApiDocument.Parse(await response.Content.ReadAsStringAsync(), "json");

        Assert.Empty(read.Diagnostic!.Errors);
        Assert.Equal(OpenApiSpecVersion.OpenApi3_1, read.Diagnostic.SpecificationVersion);
        var document = read.Document!;
        Assert.Empty(document.Validate(ValidationRuleSet.GetDefaultRuleSet())!);
        Assert.Equal("JobRelay", document.Info!.Title);
        var scheme = Assert.IsType<OpenApiSecurityScheme>(document.Components!.SecuritySchemes!["apiKey"]);
        Assert.Equal(SecuritySchemeType.ApiKey, scheme.Type);
        Assert.Equal(ParameterLocation.Header, scheme.In);
        Assert.Equal(RelayEndpoints.ApiKeyHeader, scheme.Name);
        Assert.True(document.Servers is null or { Count: 0 });
    }

    [Fact]
    public async Task EveryMappedRouteIsInTheDocumentWithItsNameAnswersAndKeyRequirement()
    {
        var document = await ReadServedAsync();
        var routes = MappedRoutes();
        Assert.Contains(routes, r => r.Path == "/api/hooks/{trigger}" && r.Method == "POST");
        var names = document.Paths.Values.SelectMany(item => item.Operations!.Values.Select(o => o.OperationId)).ToList();
        Assert.Equal(names.Count, names.Distinct(StringComparer.Ordinal).Count());

        foreach (var (path, method, keyed) in routes)
        {
            Assert.True(document.Paths.TryGetValue(path, out var item), $"{method} {path} is mapped but not in the document.");
            var operation = item!.Operations!.SingleOrDefault(o => o.Key.Method == method).Value;
            Assert.True(operation is not null, $"{method} {path} is mapped but the document has no {method} operation for it.");
            Assert.False(string.IsNullOrEmpty(operation.OperationId), $"{method} {path} has no name (operationId).");
            Assert.False(string.IsNullOrEmpty(operation.Summary), $"{method} {path} has no summary.");
            Assert.True(operation.Responses!.Count > 0, $"{method} {path} declares no answers.");
            Assert.Contains(operation.Responses, r => r.Key == "500" && r.Value.Content!.ContainsKey("application/problem+json"));
            var requiresKey = operation.Security is { Count: > 0 } security
                && security.Any(requirement => requirement.Keys.Any(reference => reference.Reference.Id == "apiKey"));
            Assert.True(keyed == requiresKey, $"{method} {path}: mapped {(keyed ? "with" : "without")} the API key, documented {(requiresKey ? "with" : "without")} it.");
        }
    }

    [Fact]
    public async Task TheFunctionsAppServesExactlyTheDocumentServeGenerates()
    {
        using var response = await _host.GetAsync("/api/openapi.json", apiKey: null);
        var generated = Normalize(await response.Content.ReadAsStringAsync());
        if (Environment.GetEnvironmentVariable("JOBRELAY_UPDATE_OPENAPI") == "1")
        {
            await File.WriteAllTextAsync(InfraFiles.PathOf(CommittedCopy), generated);
        }

        Assert.True(
            generated == Normalize(InfraFiles.Read(CommittedCopy)),
            $"{CommittedCopy} differs from the document serve generates: run the tests with JOBRELAY_UPDATE_OPENAPI=1 and commit the file.");

        var services = new ServiceCollection().AddLogging().BuildServiceProvider();
        var context = new DefaultHttpContext { RequestServices = services };
        context.Request.Method = "GET";
        context.Response.Body = new MemoryStream();
        await new OpenApiFunction().Get(context.Request).ExecuteAsync(context);
        context.Response.Body.Position = 0;
        Assert.Equal(200, context.Response.StatusCode);
        Assert.Equal("application/json", Microsoft.Net.Http.Headers.MediaTypeHeaderValue.Parse(context.Response.ContentType).MediaType.Value);
        Assert.Equal(generated, Normalize(await new StreamReader(context.Response.Body).ReadToEndAsync()));
    }

    private async Task<OpenApiDocument> ReadServedAsync()
    {
        using var response = await _host.GetAsync("/api/openapi.json", apiKey: null);
        var read = OpenApiDocument.Parse(await response.Content.ReadAsStringAsync(), "json");
        Assert.Empty(read.Diagnostic!.Errors);
        return read.Document!;
    }

    /// <summary>Every (path, method) the host maps, from its endpoint data source, but the routes kept out of API descriptions.</summary>
    private List<(string Path, string Method, bool Keyed)> MappedRoutes()
        => [.. _host.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Where(endpoint => endpoint.Metadata.GetMetadata<IExcludeFromDescriptionMetadata>() is not { ExcludeFromDescription: true })
            .SelectMany(endpoint => (endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? []).Select(method =>
                (PathOf(endpoint.RoutePattern), method, endpoint.Metadata.GetMetadata<ApiKeyRequired>() is not null)))];

    /// <summary>A route pattern as OpenAPI writes a path: literals, and parameters by name without constraints.</summary>
    private static string PathOf(RoutePattern pattern)
        => "/" + string.Join('/', pattern.PathSegments.Select(segment => string.Concat(segment.Parts.Select(part => part switch
        {
            RoutePatternLiteralPart literal => literal.Content,
            RoutePatternParameterPart parameter => "{" + parameter.Name + "}",
            RoutePatternSeparatorPart separator => separator.Content,
            _ => throw new Xunit.Sdk.XunitException($"Unexpected route part in {pattern.RawText}."),
        }))));

    private static string Normalize(string json)
        => JsonNode.Parse(json)!.ToJsonString(new JsonSerializerOptions { WriteIndented = true }).ReplaceLineEndings("\n") + "\n";
}
