using JobRelay.Model;

namespace JobRelay.Tests.ArchitectureRules;

public sealed class NamespaceCycleTests
{
    private static NamespaceGraph EngineGraph() =>
        NamespaceGraph.Read(typeof(RelayException).Assembly.Location, "JobRelay", depth: int.MaxValue);

    [Fact]
    public void TheEngineNamespacesFormNoCycle()
    {
        var graph = EngineGraph();

        Assert.Empty(graph.FindCycles());
    }

    [Fact]
    public void TheGraphIsReadFromTheCompiledCodeOfEveryFolder()
    {
        var graph = EngineGraph();

        Assert.Contains("JobRelay.Model", graph.Namespaces);
        Assert.Contains("JobRelay.Webhooks.Schemes", graph.Namespaces);
        Assert.Empty(graph.DependenciesOf("JobRelay.Model"));

        // Edges only the compiled code shows: a generic argument and a constructor call inside a method body.
        Assert.Contains("JobRelay.Webhooks.Schemes", graph.DependenciesOf("JobRelay"));
        Assert.Contains("JobRelay.Platforms.Keboola", graph.DependenciesOf("JobRelay"));
        Assert.Contains("JobRelay.Model", graph.DependenciesOf("JobRelay.Webhooks.Schemes"));
        Assert.DoesNotContain("JobRelay", graph.Namespaces.SelectMany(graph.DependenciesOf));
    }

    [Fact]
    public void ACyclicPairIsReportedByName()
    {
        var graph = new NamespaceGraph();
        graph.AddEdge("App.Http", "App.Model");
        graph.AddEdge("App.Webhooks", "App.Http");
        graph.AddEdge("App.Http", "App.Webhooks");

        var cycle = Assert.Single(graph.FindCycles());

        Assert.Equal("App.Http -> App.Webhooks -> App.Http", cycle);
    }

    [Fact]
    public void ALongerCycleIsWalkedThroughEveryMember()
    {
        var graph = new NamespaceGraph();
        graph.AddEdge("A", "B");
        graph.AddEdge("B", "C");
        graph.AddEdge("C", "A");
        graph.AddEdge("C", "D");
        graph.AddEdge("E", "F");
        graph.AddEdge("F", "E");

        var cycles = graph.FindCycles();

        Assert.Equal(["A -> B -> C -> A", "E -> F -> E"], cycles.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void ASelfReferenceIsNoCycle()
    {
        var graph = new NamespaceGraph();
        graph.AddEdge("A", "A");
        graph.AddEdge("A", "B");

        Assert.Empty(graph.FindCycles());
    }

    [Fact]
    public void ADepthOfOneFoldsSubNamespacesIntoTheirFolder()
    {
        var graph = NamespaceGraph.Read(typeof(RelayException).Assembly.Location, "JobRelay", depth: 1);

        Assert.DoesNotContain("JobRelay.Webhooks.Schemes", graph.Namespaces);
        Assert.Contains("JobRelay.Webhooks", graph.Namespaces);
        Assert.Empty(graph.FindCycles());
    }
}
