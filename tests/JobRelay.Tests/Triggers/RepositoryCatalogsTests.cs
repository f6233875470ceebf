using System.Text.RegularExpressions;
using JobRelay.Cli;
using JobRelay.Triggers;

namespace JobRelay.Tests.Triggers;

/// <summary>Every catalog a user can copy from the repository loads: files, documentation examples, benchmark rigs.</summary>
public sealed partial class RepositoryCatalogsTests
{
    public static TheoryData<string> Catalogs()
    {
        var data = new TheoryData<string>();
        foreach (var (name, _) in Find())
        {
            data.Add(name);
        }

        return data;
    }

    [Fact]
    public void TheRepositoryHasCatalogsInEveryPlaceTheyAreLookedFor()
    {
        var names = Find().Select(c => c.Name).ToList();

        Assert.Contains("triggers.json", names);
        Assert.Contains("src/JobRelay.Cli/sandbox.triggers.json", names);
        Assert.Contains("jobrelay init", names);
        Assert.Contains(names, n => n.StartsWith("README.md#", StringComparison.Ordinal));
        Assert.Contains(names, n => n.StartsWith("benchmarks/", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Catalogs))]
    public void EveryCatalogInTheRepositoryValidates(string name)
    {
        var json = Find().Single(c => c.Name == name).Json;

        var result = TriggerCatalogLoader.Parse(json, name);

        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        Assert.NotEmpty(result.Catalog!.Triggers);
    }

    private static IEnumerable<(string Name, string Json)> Find()
    {
        yield return ("triggers.json", File.ReadAllText(CatalogLoaderTests.RepoFile("triggers.json")));
        yield return ("src/JobRelay.Cli/sandbox.triggers.json", File.ReadAllText(CatalogLoaderTests.RepoFile("src/JobRelay.Cli/sandbox.triggers.json")));
        yield return ("jobrelay init", InitCommand.StarterCatalog);

        var markdown = new[] { "README.md" }.Concat(Directory.GetFiles(CatalogLoaderTests.RepoFile("docs"), "*.md").Select(f => "docs/" + Path.GetFileName(f)));
        foreach (var file in markdown)
        {
            var blocks = JsoncBlock().Matches(File.ReadAllText(CatalogLoaderTests.RepoFile(file)));
            for (var i = 0; i < blocks.Count; i++)
            {
                if (blocks[i].Groups["json"].Value.Contains("\"platforms\"", StringComparison.Ordinal))
                {
                    yield return ($"{file}#{i}", blocks[i].Groups["json"].Value);
                }
            }
        }

        var benchmarks = CatalogLoaderTests.RepoFile("benchmarks");
        foreach (var file in Directory.GetFiles(benchmarks, "*.cs", SearchOption.AllDirectories).Where(f => !f.Contains("/obj/", StringComparison.Ordinal) && !f.Contains("/bin/", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            var literals = RawStringLiteral().Matches(File.ReadAllText(file));
            for (var i = 0; i < literals.Count; i++)
            {
                if (literals[i].Groups["json"].Value.Contains("\"platforms\"", StringComparison.Ordinal))
                {
                    yield return ($"benchmarks/{Path.GetRelativePath(benchmarks, file)}#{i}", literals[i].Groups["json"].Value);
                }
            }
        }
    }

    [GeneratedRegex(@"```jsonc\n(?<json>.*?)```", RegexOptions.Singleline)]
    private static partial Regex JsoncBlock();

    [GeneratedRegex("\"\"\"\\s*\\n(?<json>\\s*\\{.*?)\"\"\"", RegexOptions.Singleline)]
    private static partial Regex RawStringLiteral();
}
