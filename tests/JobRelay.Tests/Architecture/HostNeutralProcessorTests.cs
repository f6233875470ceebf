using JobRelay.Model;

namespace JobRelay.Tests.ArchitectureRules;

public sealed class HostNeutralProcessorTests
{
    private const string AspNetCore = "Microsoft.AspNetCore";

    private static NamespaceGraph EngineGraphWithAspNetCore() =>
        NamespaceGraph.Read(typeof(RelayException).Assembly.Location, "JobRelay", depth: int.MaxValue, externalRoot: AspNetCore);

    [Theory]
    [InlineData("JobRelay.Webhooks")]
    [InlineData("JobRelay.Chaining")]
    public void TheProcessorNamespacesNameNoAspNetCoreType(string processorNamespace)
    {
        var graph = EngineGraphWithAspNetCore();

        var members = graph.Namespaces
            .Where(ns => ns == processorNamespace || ns.StartsWith(processorNamespace + ".", StringComparison.Ordinal))
            .ToList();
        var aspNetCoreUses = members
            .SelectMany(ns => graph.DependenciesOf(ns).Select(target => $"{ns} -> {target}"))
            .Where(edge => edge.Contains(" -> " + AspNetCore, StringComparison.Ordinal));

        Assert.Contains(processorNamespace, members);
        Assert.Empty(aspNetCoreUses);
    }

    [Fact]
    public void TheHttpAdapterIsSeenNamingAspNetCoreTypes()
    {
        var graph = EngineGraphWithAspNetCore();

        Assert.Contains("Microsoft.AspNetCore.Http", graph.DependenciesOf("JobRelay.Http"));
        Assert.DoesNotContain("Microsoft.AspNetCore.Http", graph.DependenciesOf("JobRelay.Model"));
    }
}
