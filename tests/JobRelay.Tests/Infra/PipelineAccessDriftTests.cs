using System.Text.RegularExpressions;

namespace JobRelay.Tests.Infra;

/// <summary>
/// The deploy workflow's identity as docs/deploy.md sets it up: a federated credential whose subject is the one
/// GitHub gives the deploy job, and a role-assigning role held back to the resource group and to the roles the
/// templates assign.
/// </summary>
public partial class PipelineAccessDriftTests
{
    private const string RbacAdministrator = "f58310d9-a9f6-439a-9e8d-f62e7b41a168";

    [Fact]
    public void TheDocumentedFederatedCredentialHasTheSubjectOfTheDeployJob()
    {
        var environment = DeployJobEnvironment();
        var guide = InfraFiles.Read("docs/deploy.md");
        var subjects = Regex.Matches(guide, @"""subject"":\s*""(?<subject>[^""]+)""").Select(m => m.Groups["subject"].Value).ToList();

        Assert.Equal("production", environment);
        var subject = Assert.Single(subjects);
        Assert.Equal($"repo:$repo:environment:{environment}", subject);
        Assert.Matches(@"(?m)^repo=<owner>/<repo>\s", guide);
        Assert.Contains("az ad app federated-credential create --id \"$appId\" --parameters \"$credential\"", guide, StringComparison.Ordinal);
        Assert.Contains($"`repo:<owner>/<repo>:environment:{environment}`", guide, StringComparison.Ordinal);
        Assert.Contains(@"""issuer"": ""https://token.actions.githubusercontent.com""", guide, StringComparison.Ordinal);
        Assert.Contains(@"""audiences"": [""api://AzureADTokenExchange""]", guide, StringComparison.Ordinal);
        Assert.DoesNotMatch(@"(?i)let `azd pipeline config[^`]*` do it", guide);
    }

    [Fact]
    public void OnlyTheDeployJobAsksForAnIdTokenAndItRunsInTheCredentialsEnvironment()
    {
        var jobs = Jobs(InfraFiles.Read(".github/workflows/deploy.yml"));

        var signing = Assert.Single(jobs, job => Regex.IsMatch(job.Body, @"id-token:\s*write"));
        Assert.Equal("deploy", signing.Name);
        Assert.Matches(@"(?m)^\s+environment:\s*production\s*$", signing.Body);
        Assert.DoesNotMatch(@"id-token:\s*write", InfraFiles.Read(".github/workflows/deploy.yml").Split("jobs:")[0]);
        Assert.DoesNotMatch(@"id-token:\s*write", InfraFiles.Read(".github/workflows/ci.yml"));
    }

    [Fact]
    public void TheRoleAssignmentAdministratorIsConditionedOnExactlyTheRolesTheTemplatesAssign()
    {
        var assigned = RolesTheTemplatesAssign();
        var command = RbacAdministratorCommand();
        var condition = Condition();

        Assert.Equal(5, assigned.Count);
        var writable = GuidSet(condition, @"@Request\[Microsoft\.Authorization/roleAssignments:RoleDefinitionId\]\s+ForAnyOfAnyValues:GuidEquals");
        var deletable = GuidSet(condition, @"@Resource\[Microsoft\.Authorization/roleAssignments:RoleDefinitionId\]\s+ForAnyOfAnyValues:GuidEquals");
        Assert.Equal(assigned, writable);
        Assert.Equal(assigned, deletable);
        Assert.Contains("!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})", condition, StringComparison.Ordinal);
        Assert.Contains("!(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'})", condition, StringComparison.Ordinal);
        Assert.Matches(@"@Request\[Microsoft\.Authorization/roleAssignments:PrincipalId\]\s+ForAnyOfAllValues:GuidNotEquals\s*\{\$sp\}", condition);
        Assert.Contains("--condition \"$condition\" --condition-version \"2.0\"", command, StringComparison.Ordinal);
    }

    [Fact]
    public void TheRoleAssignmentAdministratorIsScopedToTheResourceGroupNotTheSubscription()
    {
        var guide = InfraFiles.Read("docs/deploy.md");
        var command = RbacAdministratorCommand();

        Assert.Contains("--scope \"$rg\"", command, StringComparison.Ordinal);
        Assert.Matches(@"rg=\$\(az group create --name ""rg-\$env"" [^\n]*--query id -o tsv\)", guide);
        Assert.Matches(@"name: empty\(resourceGroupName\) \? 'rg-\$\{environmentName\}'", InfraFiles.Read("infra/main.bicep"));
        var commands = RoleAssignmentCommands(guide);
        Assert.Equal(2, commands.Count);
        foreach (var assignment in commands)
        {
            var role = Regex.Match(assignment, @"--role\s+(""(?<r>[^""]+)""|(?<r>\S+))").Groups["r"].Value;
            Assert.True(role == "Contributor" || assignment.Contains("--scope \"$rg\"", StringComparison.Ordinal), $"docs/deploy.md assigns {role} above the resource group:\n{assignment}");
            Assert.DoesNotMatch(@"(?i)\b(Owner|User Access Administrator)\b", role);
        }

        Assert.DoesNotContain(RbacAdministrator, guide, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// The role definition ids the templates assign, read from the Bicep: the built-in roles named in rbac.bicep's
    /// <c>roles</c> object that an assignment list refers to.
    /// </summary>
    internal static SortedSet<string> RolesTheTemplatesAssign()
    {
        const string file = "infra/app/rbac.bicep";
        var text = InfraFiles.Read(file);
        var rolesAt = text.IndexOf("var roles = {", StringComparison.Ordinal);
        Assert.True(rolesAt >= 0, $"{file} declares no roles object.");
        var roles = InfraFiles.TopLevelKeys(InfraFiles.Braced(text, text.IndexOf('{', rolesAt)))
            .ToDictionary(pair => pair.Key, pair => pair.Value.Trim('\''), StringComparer.Ordinal);
        var used = Regex.Matches(text, @"roleId:\s*roles\.(?<key>\w+)").Select(m => m.Groups["key"].Value).ToHashSet(StringComparer.Ordinal);

        Assert.All(used, key => Assert.True(roles.ContainsKey(key), $"{file} assigns roles.{key}, which its roles object does not define."));
        foreach (var other in InfraFiles.BicepFiles().Where(f => f != file))
        {
            Assert.DoesNotContain("Microsoft.Authorization/roleDefinitions", InfraFiles.Read(other), StringComparison.Ordinal);
        }

        Assert.All(
            InfraFiles.Resources(file).Where(r => r.Type == "Microsoft.Authorization/roleAssignments"),
            r => Assert.Contains("roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', assignment.roleId)", r.Body, StringComparison.Ordinal));
        return new SortedSet<string>(used.Select(key => roles[key].ToLowerInvariant()), StringComparer.Ordinal);
    }

    private static string DeployJobEnvironment() =>
        Regex.Match(Jobs(InfraFiles.Read(".github/workflows/deploy.yml")).Single(j => j.Name == "deploy").Body, @"(?m)^\s+environment:\s*(?<e>\S+)\s*$").Groups["e"].Value;

    private static string Condition()
    {
        var guide = InfraFiles.Read("docs/deploy.md");
        var match = Regex.Match(PipelineSection(guide), @"condition=\$\(cat <<EOF\n(?<body>.*?)\nEOF\n\)", RegexOptions.Singleline);
        Assert.True(match.Success, "docs/deploy.md sets no condition for the pipeline's role assignments.");
        return match.Groups["body"].Value;
    }

    private static string RbacAdministratorCommand() =>
        Assert.Single(RoleAssignmentCommands(InfraFiles.Read("docs/deploy.md")), c => c.Contains("\"Role Based Access Control Administrator\"", StringComparison.Ordinal));

    /// <summary>Every <c>az role assignment create</c> command of the guide, with its continuation lines joined.</summary>
    private static List<string> RoleAssignmentCommands(string guide) =>
        Regex.Matches(PipelineSection(guide).Replace("\\\n", " ", StringComparison.Ordinal), @"(?m)^az role assignment create[^\n]*")
            .Select(m => Regex.Replace(m.Value, @"\s+", " "))
            .ToList();

    private static string PipelineSection(string guide)
    {
        var start = guide.IndexOf("## 8. Deploy from GitHub Actions", StringComparison.Ordinal);
        Assert.True(start >= 0, "docs/deploy.md has no GitHub Actions section.");
        var end = guide.IndexOf("\n## ", start + 4, StringComparison.Ordinal);
        return end < 0 ? guide[start..] : guide[start..end];
    }

    private static SortedSet<string> GuidSet(string condition, string operatorPattern)
    {
        var match = Regex.Match(condition, operatorPattern + @"\s*\{(?<ids>[^}]*)\}");
        Assert.True(match.Success, $"The condition has no clause matching {operatorPattern}.");
        return new SortedSet<string>(match.Groups["ids"].Value.Split(',').Select(id => id.Trim().ToLowerInvariant()), StringComparer.Ordinal);
    }

    private static List<(string Name, string Body)> Jobs(string workflow)
    {
        var jobs = workflow[(workflow.IndexOf("\njobs:", StringComparison.Ordinal) + 6)..];
        return Regex.Matches(jobs, @"(?m)^  (?<name>[\w-]+):\s*\n(?<body>(?:(?:    .*)?\n)*)")
            .Select(m => (m.Groups["name"].Value, m.Groups["body"].Value))
            .ToList();
    }
}
