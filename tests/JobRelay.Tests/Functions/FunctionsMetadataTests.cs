using System.Text.Json;
using System.Text.Json.Nodes;
using JobRelay.Cli;
using JobRelay.Hosting;
using JobRelay.Http;
using JobRelay.Tests.Infra;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace JobRelay.Tests.Functions;

/// <summary>
/// The <c>functions.metadata</c> the Worker SDK generated at build time (what the Functions host indexes) against the
/// HTTP surface <c>jobrelay serve</c> maps: both derived from the code, so neither can drift from the other.
/// </summary>
public class FunctionsMetadataTests
{
    [Fact]
    public void EveryServeRouteHasAFunctionWithTheSameTemplateMethodsAndAuthLevel()
    {
        var functions = HttpFunctions();

        var missing = ServeRoutes().Except(functions).ToList();

        Assert.True(missing.Count == 0, "Mapped by serve but not a function alike: " + string.Join("; ", missing));
    }

    [Fact]
    public void EveryHttpFunctionIsARouteServeMapsAlike()
    {
        var serve = ServeRoutes();

        var extra = HttpFunctions().Except(serve).ToList();

        Assert.True(extra.Count == 0, "A function serve does not map alike: " + string.Join("; ", extra));
    }

    [Fact]
    public void TheSchedulerTimerReadsItsScheduleFromTheTickSetting()
    {
        var timers = Metadata()
            .SelectMany(function => function!["bindings"]!.AsArray())
            .Where(binding => (string?)binding!["type"] == "timerTrigger")
            .ToList();

        var timer = Assert.Single(timers);
        Assert.Equal($"%{AppSettingNames.SchedulerTick}%", (string?)timer!["schedule"]);
        Assert.NotEqual(true, (bool?)timer["runOnStartup"]);
    }

    [Fact]
    public void EveryFunctionInTheMetadataIsAMethodOfTheFunctionsAssembly()
    {
        var entryPoints = FunctionsAppTests.FunctionClasses()
            .SelectMany(type => type.GetMethods().Select(method => $"{type.FullName}.{method.Name}"))
            .ToHashSet(StringComparer.Ordinal);

        foreach (var function in Metadata())
        {
            Assert.Equal("JobRelay.Functions.dll", (string?)function!["scriptFile"]);
            Assert.Contains((string)function["entryPoint"]!, entryPoints);
        }
    }

    internal static IReadOnlyList<JsonNode?> Metadata()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "functions.metadata");
        Assert.True(File.Exists(path), $"The build produced no functions.metadata at {path}.");
        return [.. JsonNode.Parse(File.ReadAllText(path))!.AsArray()];
    }

    private static HashSet<string> HttpFunctions()
    {
        using var host = JsonDocument.Parse(InfraFiles.Read("host.json"));
        var prefix = host.RootElement.GetProperty("extensions").GetProperty("http").GetProperty("routePrefix").GetString();
        var routes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var binding in Metadata().SelectMany(function => function!["bindings"]!.AsArray()))
        {
            if ((string?)binding!["type"] != "httpTrigger")
            {
                continue;
            }

            var methods = binding["methods"]!.AsArray().Select(method => ((string)method!).ToUpperInvariant());
            var keyed = (string?)binding["authLevel"] switch
            {
                "Anonymous" => false,
                "Function" => true,
                var other => throw new Xunit.Sdk.XunitException($"Route {binding["route"]} has auth level {other}, which serve cannot match."),
            };
            routes.Add(Describe($"/{prefix}/{binding["route"]}", methods, keyed));
        }

        return routes;
    }

    private static HashSet<string> ServeRoutes()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["JobRelay:Catalog:Path"] = InfraFiles.PathOf("triggers.json") });
        builder.Services.AddJobRelay(builder.Configuration);
        builder.Services.AddJobRelayOpenApi();
        var app = builder.Build();
        app.MapJobRelay("metadata-test-key");
        app.MapJobRelayOpenApi();

        return ((IEndpointRouteBuilder)app).DataSources
            .SelectMany(source => source.Endpoints)
            .OfType<RouteEndpoint>()
            .Select(endpoint => Describe(
                InFunctionsTerms(endpoint.RoutePattern.RawText!),
                endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? [],
                endpoint.Metadata.GetMetadata<ApiKeyRequired>() is not null))
            .ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>
    /// serve's dashboard lives at <c>/dashboard</c>, outside <c>/api</c>, so that its address reads as a page; the
    /// Functions host puts every HTTP function under its route prefix, so there the same page is
    /// <c>/api/dashboard</c>. Every other serve route is already under <c>/api</c> and compared as it is.
    /// </summary>
    private static string InFunctionsTerms(string route) =>
        route.StartsWith("/dashboard", StringComparison.Ordinal) ? "/api" + route : route;

    private static string Describe(string route, IEnumerable<string> methods, bool keyed) =>
        $"{string.Join(',', methods.Order(StringComparer.Ordinal))} {route.Replace("//", "/", StringComparison.Ordinal)} ({(keyed ? "API key" : "anonymous")})";
}
