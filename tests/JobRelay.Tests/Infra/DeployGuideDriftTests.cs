using System.Text.RegularExpressions;
using JobRelay.Triggers;

namespace JobRelay.Tests.Infra;

/// <summary>
/// docs/deploy.md against what ships: the secrets its commands load against the catalog's secret names, its
/// app-settings table against function.bicep, the roles it names against rbac.bicep, and the alerts it and the
/// README list against alerts.bicep.
/// </summary>
public partial class DeployGuideDriftTests
{
    private const string Guide = "docs/deploy.md";

    [Fact]
    public void TheSecretsTheGuideLoadsAreExactlyTheSecretsTheShippedCatalogNames()
    {
        var parsed = TriggerCatalogLoader.Parse(InfraFiles.Read("triggers.json"), "triggers.json");
        Assert.True(parsed.IsValid, string.Join("\n", parsed.Errors));
        var named = CatalogSecrets.Names(parsed.Catalog!).ToHashSet(StringComparer.Ordinal);
        var guide = InfraFiles.Read(Guide);

        var loaded = SecretsSet(Section(guide, "## 3. "));
        var anywhere = SecretsSet(guide);

        Assert.NotEmpty(named);
        Assert.True(named.SetEquals(loaded), $"Step 3 loads {string.Join(", ", loaded.Order())}; triggers.json names {string.Join(", ", named.Order())}.");
        Assert.Subset(named, anywhere);
    }

    [Fact]
    public void TheAppSettingsTableListsEverySettingTheFunctionAppSetsAndNothingElse()
    {
        var guide = InfraFiles.Read(Guide);
        var table = Table(guide, "App settings on the function app");

        var documented = new List<string>();
        foreach (var row in table)
        {
            var full = string.Empty;
            foreach (Match name in Regex.Matches(row.Split('|')[1], @"`(?<n>[\w]+)`"))
            {
                // `AzureWebJobsStorage__accountName`, `__credential`: a name that starts with __ shares the one before's prefix.
                var value = name.Groups["n"].Value;
                full = value.StartsWith("__", StringComparison.Ordinal) ? full[..full.LastIndexOf("__", StringComparison.Ordinal)] + value : value;
                documented.Add(full);
            }
        }

        Assert.Equal(InfraFiles.FunctionAppSettingNames().Order(StringComparer.Ordinal), documented.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void TheGuideNamesEveryRoleTheTemplatesAssignWhereverItListsThem()
    {
        var guide = InfraFiles.Read(Guide);
        var roleNames = Table(guide, "Role assignments, each scoped to a single resource")
            .Select(row => Regex.Match(row, @"\|\s*(?<name>[^|(]+?)\s*\(`(?<id>[0-9a-f-]{36})`\)"))
            .Where(match => match.Success)
            .ToDictionary(match => match.Groups["id"].Value, match => match.Groups["name"].Value, StringComparer.OrdinalIgnoreCase);
        var assigned = PipelineAccessDriftTests.RolesTheTemplatesAssign();
        var sentence = Regex.Match(Section(guide, "## 8. "), @"exactly those `infra/app/rbac\.bicep` assigns:(?<list>[^.]+)\.").Groups["list"].Value;
        var listed = Regex.Split(sentence.Replace('\n', ' '), @",\s*|\s+and\s+").Select(name => name.Trim()).Where(name => name.Length > 0);

        Assert.Equal(assigned, new SortedSet<string>(roleNames.Keys.Select(id => id.ToLowerInvariant()), StringComparer.Ordinal));
        Assert.Equal(assigned.Select(id => roleNames[id]).Order(StringComparer.Ordinal), listed.Order(StringComparer.Ordinal));
        if (roleNames.Values.Any(name => name.Contains("Table", StringComparison.Ordinal)))
        {
            Assert.DoesNotMatch(@"(?i)\b(app|it) needs no [^.]*\btable role", guide);
        }
    }

    [Fact]
    public void TheGuideAndTheReadmeListEveryAlertRuleTheTemplateDefines()
    {
        var rules = MonitoringDriftTests.RuleNames(InfraFiles.Read("infra/app/alerts.bicep"));
        var guide = InfraFiles.Read(Guide);
        var readme = Section(InfraFiles.Read("README.md"), "## Deploying to Azure");
        var deployedRow = Regex.Match(guide, @"(?m)^\| Log alert rules \|.*$").Value;

        var alertsTable = Table(guide, "| Rule | What it matches |").Select(row => Regex.Match(row, @"^\|\s*`(?<n>[\w-]+)`").Groups["n"].Value);

        string[] counts = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"];
        Assert.InRange(rules.Length, 1, counts.Length - 1);
        Assert.Contains($"{counts[rules.Length]} e-mailed alerts", readme.Replace('\n', ' '), StringComparison.Ordinal);
        Assert.Contains($"| {counts[rules.Length]}: ", deployedRow, StringComparison.Ordinal);
        Assert.Equal(rules, alertsTable.Order(StringComparer.Ordinal));
        Assert.All(rules, rule => Assert.Contains($"`{rule}`", deployedRow, StringComparison.Ordinal));
        Assert.All(rules, rule => Assert.Contains($"`{rule}`", readme, StringComparison.Ordinal));
    }

    /// <summary>The secret names of every <c>az keyvault secret set</c> command in the text.</summary>
    private static HashSet<string> SecretsSet(string text) =>
        SecretSetCommand().Matches(text).Select(m => m.Groups["name"].Value).ToHashSet(StringComparer.Ordinal);

    /// <summary>From the heading that starts with <paramref name="heading"/> to the next heading of any level up to 2.</summary>
    private static string Section(string markdown, string heading)
    {
        var start = markdown.IndexOf(heading, StringComparison.Ordinal);
        Assert.True(start >= 0, $"No heading '{heading}'.");
        var end = markdown.IndexOf("\n## ", start + heading.Length, StringComparison.Ordinal);
        return end < 0 ? markdown[start..] : markdown[start..end];
    }

    /// <summary>The body rows of the first Markdown table after <paramref name="marker"/>.</summary>
    private static List<string> Table(string markdown, string marker)
    {
        var at = markdown.IndexOf(marker, StringComparison.Ordinal);
        Assert.True(at >= 0, $"No '{marker}'.");
        return markdown[at..].Split('\n')
            .SkipWhile(line => !line.StartsWith('|'))
            .TakeWhile(line => line.StartsWith('|'))
            .Skip(2)
            .ToList();
    }

    [GeneratedRegex(@"az keyvault secret set [^\n]*?--name (?<name>[\w-]+)")]
    private static partial Regex SecretSetCommand();
}
