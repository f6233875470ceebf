using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace JobRelay.Functions;

/// <summary>
/// The OpenAPI description of the HTTP API, the very document <c>jobrelay serve</c> generates from its endpoints: the
/// worker has no endpoint metadata to generate it from, so a committed copy is served, and a test fails when the copy
/// drifts from what serve generates.
/// </summary>
public sealed class OpenApiFunction
{
    internal const string ResourceName = "JobRelay.Functions.openapi.json";

    private static readonly Lazy<string> Document = new(ReadDocument);

    [Function("OpenApi")]
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1822", Justification = "Every function is an instance method of its class, as the worker and the other functions have it.")]
    public IResult Get(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "openapi.json")] HttpRequest request)
        => TypedResults.Text(Document.Value, "application/json;charset=utf-8");

    internal static string ReadDocument()
    {
        using var stream = typeof(OpenApiFunction).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The build embedded no {ResourceName}.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
