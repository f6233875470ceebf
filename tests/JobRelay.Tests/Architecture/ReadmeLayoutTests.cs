using JobRelay.Model;
using JobRelay.Tests.Triggers;
using System.Text.RegularExpressions;

namespace JobRelay.Tests.Architecture;

/// <summary>The README's layout table names every namespace of the engine, and no namespace the engine does not have.</summary>
public sealed partial class ReadmeLayoutTests
{
    [Fact]
    public void TheEnginesRowNamesEachOfItsNamespacesAndNoOther()
    {
        var namespaces = typeof(TriggerCatalog).Assembly.GetTypes()
            .Select(t => t.Namespace)
            .OfType<string>()
            .Where(n => n.StartsWith("JobRelay.", StringComparison.Ordinal))
            .Select(n => n.Split('.')[1])
            .ToHashSet(StringComparer.Ordinal);
        var row = File.ReadAllLines(CatalogLoaderTests.RepoFile("README.md")).Single(l => l.StartsWith("| `src/JobRelay` |", StringComparison.Ordinal));

        var named = Named().Matches(row).Select(m => m.Groups[1].Value).Where(n => n != "src/JobRelay").ToHashSet(StringComparer.Ordinal);

        Assert.Equal(namespaces.Order(StringComparer.Ordinal), named.Order(StringComparer.Ordinal));
    }

    [GeneratedRegex("`([A-Za-z/]+)`")]
    private static partial Regex Named();
}
