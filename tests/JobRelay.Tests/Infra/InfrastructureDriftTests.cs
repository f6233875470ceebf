using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using JobRelay.Hosting;
using JobRelay.Scheduling;

namespace JobRelay.Tests.Infra;

/// <summary>
/// Guards what drifts between the code and the templates in infra/: the settings the app reads, the roles it is
/// granted, and the security properties of each resource.
/// </summary>
[Collection(InfrastructureTestGroup.Name)]
public partial class InfrastructureDriftTests
{
    /// <summary>Built-in role definition ids by role name, as published in the Azure built-in roles reference.</summary>
    private static readonly Dictionary<string, string> KnownRoles = new(StringComparer.OrdinalIgnoreCase)
    {
        ["4633458b-17de-408a-b874-0445c86b69e6"] = "Key Vault Secrets User",
        ["b86a8fe4-44ce-4948-aee5-eccb2c155cd7"] = "Key Vault Secrets Officer",
        ["b7e6dc6d-f1e8-4753-8033-0f276bb0955b"] = "Storage Blob Data Owner",
        ["0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"] = "Storage Table Data Contributor",
        ["3913510d-42f4-4e42-8a64-420c390055eb"] = "Monitoring Metrics Publisher",
    };

    /// <summary>Roles that manage the resources or their access, which the app and its operator never need.</summary>
    private static readonly Dictionary<string, string> BroadRoles = new(StringComparer.OrdinalIgnoreCase)
    {
        ["8e3af657-a8ff-443c-a75c-2fe8c4bcb635"] = "Owner",
        ["b24988ac-6180-42a0-ab88-20f7382dd24c"] = "Contributor",
        ["18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"] = "User Access Administrator",
        ["00482a5a-887f-4fb3-b363-3b7fe8e74483"] = "Key Vault Administrator",
    };

    /// <summary>Settings only the local host uses (the Functions Core Tools and Azurite); Azure sets neither.</summary>
    private static readonly string[] LocalOnlySettings = ["AzureWebJobsStorage", "FUNCTIONS_WORKER_RUNTIME"];

    [Fact]
    public void EverySettingTheCodeReadsIsSetByTheFunctionApp()
    {
        var set = InfraFiles.FunctionAppSettingNames();

        var missing = AppSettingNames.Host.Concat(AppSettingNames.JobRelay).Except(set, StringComparer.Ordinal).ToList();

        Assert.True(missing.Count == 0, $"Read by the code but not set in infra/app/function.bicep: {string.Join(", ", missing)}");
    }

    [Fact]
    public void EverySettingTheFunctionAppSetsIsReadByTheCodeOrBindsToAnOptionsProperty()
    {
        var known = AppSettingNames.Host.Concat(AppSettingNames.JobRelay).ToHashSet(StringComparer.Ordinal);

        var unused = InfraFiles.FunctionAppSettingNames()
            .Where(name => !known.Contains(name) && !BindsToOptionsProperty(name))
            .ToList();

        Assert.True(unused.Count == 0, $"Set in infra/app/function.bicep but read by nothing: {string.Join(", ", unused)}");
    }

    [Fact]
    public void TheFunctionAppSetsEachSettingOnce()
    {
        var names = InfraFiles.FunctionAppSettingNames();

        Assert.Equal(names.Count, names.Distinct(StringComparer.OrdinalIgnoreCase).Count());
    }

    [Fact]
    public void EverySettingJobRelayReadsIsListedInTheLocalSettingsSampleAndTheSampleListsNothingElse()
    {
        using var sample = JsonDocument.Parse(InfraFiles.Read("local.settings.sample.json"));
        var listed = sample.RootElement.GetProperty("Values").EnumerateObject().Select(p => p.Name).ToList();

        Assert.Empty(AppSettingNames.JobRelay.Except(listed, StringComparer.Ordinal));
        var known = AppSettingNames.JobRelay.Concat(AppSettingNames.Host).Concat(LocalOnlySettings).ToHashSet(StringComparer.Ordinal);
        Assert.DoesNotContain(listed, name => !known.Contains(name) && !BindsToOptionsProperty(name));
    }

    [Fact]
    public void TheFunctionAppSetsNoWorkerRuntimeOrPackageSettingsThatFlexConsumptionRejects()
    {
        string[] rejected =
        [
            "FUNCTIONS_WORKER_RUNTIME", "FUNCTIONS_EXTENSION_VERSION", "FUNCTIONS_WORKER_RUNTIME_VERSION",
            "WEBSITE_RUN_FROM_PACKAGE", "WEBSITE_CONTENTSHARE", "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING", "AzureWebJobsStorage",
        ];

        Assert.Empty(InfraFiles.FunctionAppSettingNames().Intersect(rejected, StringComparer.OrdinalIgnoreCase));
    }

    [Fact]
    public void TheHostReachesStorageAndTelemetryWithTheUserAssignedIdentity()
    {
        var settings = InfraFiles.TopLevelKeys(InfraFiles.FunctionAppSettingsBlock()).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);

        Assert.Equal("'managedidentity'", settings["AzureWebJobsStorage__credential"]);
        Assert.Equal("identityClientId", settings["AzureWebJobsStorage__clientId"]);
        Assert.Equal("identityClientId", settings[AppSettingNames.ManagedIdentityClientId]);
        Assert.Equal("'Authorization=AAD;ClientId=${identityClientId}'", settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"]);
        Assert.Equal("keyVaultUri", settings[AppSettingNames.KeyVaultUri]);

        var function = InfraFiles.Read("infra/app/function.bicep");
        Assert.Matches(@"type:\s*'UserAssignedIdentity'\s*\n\s*userAssignedIdentityResourceId:\s*identityId", function);
        Assert.Matches(@"type:\s*'UserAssigned'\s*\n\s*userAssignedIdentities:", function);
    }

    [Fact]
    public void TheSchedulerDefaultsTickEveryMinuteAndTheTickIntervalIsThatPeriod()
    {
        foreach (var (tick, interval) in new[] { ParameterDefaults("infra/main.bicep") })
        {
            var schedule = new CronSchedule(tick, TimeZoneInfo.Utc);
            var start = new DateTimeOffset(2026, 1, 1, 0, 0, 30, TimeSpan.Zero);
            var first = schedule.GetNextOccurrence(start)!.Value;
            var second = schedule.GetNextOccurrence(first)!.Value;

            Assert.Equal(TimeSpan.FromMinutes(1), second - first);
            Assert.Equal(second - first, TimeSpan.Parse(interval, System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    [Fact]
    public void EveryRoleGuidIsAKnownBuiltInRoleNamedCorrectlyBesideIt()
    {
        var found = 0;
        foreach (var file in InfraFiles.TemplateFiles())
        {
            foreach (var line in InfraFiles.Read(file).Split('\n'))
            {
                foreach (Match guid in GuidLiteral().Matches(line))
                {
                    found++;
                    var id = guid.Value;
                    Assert.True(KnownRoles.TryGetValue(id, out var name), $"{file}: {id} is not one of the reviewed built-in roles.");
                    var comment = line[(line.IndexOf("//", guid.Index, StringComparison.Ordinal) is var at and >= 0 ? at + 2 : line.Length)..].Trim();
                    Assert.True(comment == name, $"{file}: {id} is {name}, but the comment beside it says '{comment}'.");
                }
            }
        }

        Assert.Equal(KnownRoles.Count, found);
    }

    [Fact]
    public void NoTemplateGrantsOwnerContributorOrAnAccessAdministratorRole()
    {
        foreach (var file in InfraFiles.TemplateFiles())
        {
            var text = InfraFiles.Read(file);
            foreach (var (id, name) in BroadRoles)
            {
                Assert.False(text.Contains(id, StringComparison.OrdinalIgnoreCase), $"{file} references {name} ({id}).");
            }
        }
    }

    [Fact]
    public void EachRoleAssignmentIsScopedToOneResourceAndNamedByThatResourcePrincipalAndRole()
    {
        var rbac = InfraFiles.Resources("infra/app/rbac.bicep");
        var assignments = AllResources().Where(r => r.Type == "Microsoft.Authorization/roleAssignments").ToList();

        Assert.NotEmpty(assignments);
        Assert.All(assignments, assignment =>
        {
            Assert.Equal("infra/app/rbac.bicep", assignment.File);
            Assert.Contains("for assignment in", InfraFiles.Read(assignment.File)[..InfraFiles.Read(assignment.File).IndexOf(assignment.Body, StringComparison.Ordinal)].Split("resource ").Last(), StringComparison.Ordinal);
            var scope = Regex.Match(assignment.Body, @"scope:\s*(?<symbol>\w+)").Groups["symbol"].Value;
            var target = Assert.Single(rbac, r => r.Symbol == scope);
            Assert.True(target.Existing, $"{assignment.Symbol} is scoped to {scope}, which is not a resource of the deployment.");
            Assert.Matches($@"name:\s*guid\({scope}\.id,\s*assignment\.principalId,\s*assignment\.roleId\)", assignment.Body);
        });
        Assert.Equal(
            ["Microsoft.Insights/components", "Microsoft.KeyVault/vaults", "Microsoft.Storage/storageAccounts"],
            assignments.Select(a => rbac.Single(r => r.Symbol == Regex.Match(a.Body, @"scope:\s*(?<s>\w+)").Groups["s"].Value).Type).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void NoSecureParameterFlowsIntoAnOutputAndNoOutputIsNamedLikeASecret()
    {
        foreach (var file in InfraFiles.BicepFiles())
        {
            var secure = InfraFiles.Parameters(file).Where(p => p.Secure).Select(p => p.Name).ToList();
            foreach (var (name, value) in InfraFiles.Outputs(file))
            {
                Assert.DoesNotMatch(@"(?i)secret|password|key$|keys|connectionstring|token", name);
                Assert.DoesNotMatch(@"(?i)listKeys|listSecrets|listConnectionStrings|\.ConnectionString", value);
                foreach (var parameter in secure)
                {
                    Assert.False(Regex.IsMatch(value, $@"\b{parameter}\b"), $"{file}: output {name} exposes the @secure() parameter {parameter}.");
                }
            }

            Assert.All(InfraFiles.Parameters(file).Where(p => p.Secure), p => Assert.Null(p.Default));
        }
    }

    [Fact]
    public void NoTemplateHoldsAnAccountKeySharedAccessSignatureOrSecretLookingLiteral()
    {
        foreach (var file in InfraFiles.TemplateFiles().Append("azure.yaml").Concat(WorkflowFiles()))
        {
            var text = InfraFiles.Read(file);
            Assert.DoesNotMatch(@"(?i)AccountKey\s*=|SharedAccessSignature|\bsig=|listKeys\(|InstrumentationKey\s*=|client-secret|AZURE_CREDENTIALS", text);
            Assert.DoesNotMatch(@"'[A-Za-z0-9+/]{40,}={0,2}'", text);
        }
    }

    [Fact]
    public void TheFunctionAppIsHttpsOnlyWithTls12AndNeitherFtpNorBasicPublishingCredentials()
    {
        var app = Single("infra/app/function.bicep", "Microsoft.Web/sites");

        Assert.Matches(@"httpsOnly:\s*true", app.Body);
        Assert.Matches(@"\bminTlsVersion:\s*'1\.2'", app.Body);
        Assert.Matches(@"scmMinTlsVersion:\s*'1\.2'", app.Body);
        Assert.Matches(@"ftpsState:\s*'Disabled'", app.Body);
        var policies = InfraFiles.Resources("infra/app/function.bicep").Where(r => r.Type == "basicPublishingCredentialsPolicies").ToList();
        Assert.Equal(["ftp", "scm"], policies.Select(p => Regex.Match(p.Body, @"name:\s*'(?<n>\w+)'").Groups["n"].Value).Order(StringComparer.Ordinal));
        Assert.All(policies, p => Assert.Matches(@"allow:\s*false", p.Body));
    }

    [Fact]
    public void TheFunctionAppRunsDotnetIsolated10OnALinuxFlexConsumptionPlan()
    {
        var plan = Single("infra/app/function.bicep", "Microsoft.Web/serverfarms");
        var app = Single("infra/app/function.bicep", "Microsoft.Web/sites");

        Assert.Matches(@"name:\s*'FC1'\s*\n\s*tier:\s*'FlexConsumption'", plan.Body);
        Assert.Matches(@"reserved:\s*true", plan.Body);
        Assert.Matches(@"kind:\s*'functionapp,linux'", app.Body);
        Assert.Matches(@"runtime:\s*\{\s*name:\s*'dotnet-isolated'\s*\n\s*version:\s*'10\.0'", app.Body);
        Assert.Matches(@"instanceMemoryMB:\s*instanceMemoryMB", app.Body);
        Assert.Matches(@"maximumInstanceCount:\s*maximumInstanceCount", app.Body);
        Assert.Matches(@"TargetFramework>net10\.0<", InfraFiles.Read("Directory.Build.props"));
    }

    [Fact]
    public void TheHttpFunctionsKeepTheAlwaysReadyInstancesAndConcurrencyTheParametersSayAndScaleToZeroByDefault()
    {
        var app = Single("infra/app/function.bicep", "Microsoft.Web/sites");
        var defaults = InfraFiles.Parameters("infra/main.bicep").ToDictionary(p => p.Name, p => p.Default, StringComparer.Ordinal);

        Assert.Matches(@"alwaysReady:\s*alwaysReadyInstanceCount\s*==\s*0\s*\?\s*\[\]\s*:\s*\[\s*\{\s*name:\s*'http'\s*\n\s*instanceCount:\s*alwaysReadyInstanceCount", app.Body);
        Assert.Matches(@"triggers:\s*\{\s*http:\s*\{\s*perInstanceConcurrency:\s*httpPerInstanceConcurrency", app.Body);
        Assert.Equal("0", defaults["alwaysReadyInstanceCount"]);
        Assert.Equal("16", defaults["httpPerInstanceConcurrency"]);
    }

    [Fact]
    public void TheKeyVaultAuthorizesByRbacAndKeepsDeletedSecretsUnpurgeable()
    {
        var vault = Single("infra/app/keyvault.bicep", "Microsoft.KeyVault/vaults");

        Assert.Matches(@"enableRbacAuthorization:\s*true", vault.Body);
        Assert.Matches(@"enableSoftDelete:\s*true", vault.Body);
        Assert.Matches(@"enablePurgeProtection:\s*true", vault.Body);
        Assert.Matches(@"publicNetworkAccess:\s*publicNetworkAccess", vault.Body);
        Assert.DoesNotContain("accessPolicies", vault.Body, StringComparison.Ordinal);
    }

    [Fact]
    public void TheStorageAccountRefusesSharedKeysPublicBlobsAndOldTls()
    {
        var storage = Single("infra/app/storage.bicep", "Microsoft.Storage/storageAccounts");

        Assert.Matches(@"allowSharedKeyAccess:\s*false", storage.Body);
        Assert.Matches(@"allowBlobPublicAccess:\s*false", storage.Body);
        Assert.Matches(@"minimumTlsVersion:\s*'TLS1_2'", storage.Body);
        Assert.Matches(@"supportsHttpsTrafficOnly:\s*true", storage.Body);
        Assert.Matches(@"defaultToOAuthAuthentication:\s*true", storage.Body);
    }

    [Fact]
    public void ApplicationInsightsAndLogAnalyticsAcceptOnlyEntraAuthentication()
    {
        Assert.Matches(@"DisableLocalAuth:\s*true", Single("infra/app/monitoring.bicep", "Microsoft.Insights/components").Body);
        Assert.Matches(@"disableLocalAuth:\s*true", Single("infra/app/monitoring.bicep", "Microsoft.OperationalInsights/workspaces").Body);
    }

    [Fact]
    public void EveryResourceUsesAGenerallyAvailableApiVersion()
    {
        var resources = AllResources();

        Assert.NotEmpty(resources);
        // Child resources declared inside their parent (`resource x 'config'`) take the parent's version.
        // Diagnostic settings have no generally available version that can target a workspace.
        Assert.All(
            resources.Where(r => r.Type.Contains('/', StringComparison.Ordinal) && r.Type != "Microsoft.Insights/diagnosticSettings"),
            r => Assert.Matches(@"^\d{4}-\d{2}-\d{2}$", r.ApiVersion));
        Assert.All(resources.Where(r => r.Type == "Microsoft.Insights/diagnosticSettings"), r => Assert.Equal("2021-05-01-preview", r.ApiVersion));
    }

    [Fact]
    public void AzdDeploysTheFunctionsProjectAsTheApiServiceTheTemplateTags()
    {
        var azure = InfraFiles.Read("azure.yaml");
        var project = Regex.Match(azure, @"(?m)^\s+project:\s*(?<path>\S+)\s*$").Groups["path"].Value;

        Assert.True(File.Exists(Path.Combine(InfraFiles.PathOf(project), "JobRelay.Functions.csproj")), $"azure.yaml points at {project}, which holds no JobRelay.Functions.csproj.");
        Assert.Matches(@"(?m)^  api:\s*$", azure);
        Assert.Matches(@"(?m)^\s+host:\s*function\s*$", azure);
        Assert.Matches(@"(?m)^\s+language:\s*dotnet\s*$", azure);
        Assert.Matches(@"(?m)^\s+path:\s*infra\s*$", azure);
        Assert.Matches(@"serviceName:\s*'api'", InfraFiles.Read("infra/main.bicep"));
        Assert.Matches(@"'azd-service-name':\s*serviceName", InfraFiles.Read("infra/app/function.bicep"));
    }

    [Fact]
    public void TheCatalogShipsInsideTheDeploymentPackageAndTheGuideNeverPointsOutsideIt()
    {
        // Flex Consumption has no persistent content share: the catalog reaches an instance only inside the package.
        var catalogPath = InfraFiles.Parameters("infra/main.bicep").Single(p => p.Name == "catalogPath").Default!.Trim('\'');
        var project = System.Xml.Linq.XDocument.Parse(InfraFiles.Read("src/JobRelay.Functions/JobRelay.Functions.csproj"));
        var shipped = project.Descendants("None")
            .Where(item => (string?)item.Attribute("Link") == catalogPath)
            .ToList();

        Assert.False(Path.IsPathRooted(catalogPath));
        Assert.Equal(new CatalogOptions().Path, catalogPath);
        var item = Assert.Single(shipped);
        Assert.Equal(@"..\..\triggers.json", (string?)item.Attribute("Include"));
        Assert.Equal("PreserveNewest", (string?)item.Attribute("CopyToPublishDirectory"));
        Assert.Equal("catalogPath", InfraFiles.TopLevelKeys(InfraFiles.FunctionAppSettingsBlock()).Single(p => p.Key == AppSettingNames.CatalogPath).Value);

        var guide = InfraFiles.Read("docs/deploy.md");
        Assert.DoesNotMatch(@"(?i)absolute", guide);
        Assert.Contains("azd deploy api", guide, StringComparison.Ordinal);
        Assert.DoesNotMatch(@"(?i)absolute", string.Join('\n', InfraFiles.BicepFiles().Select(InfraFiles.Read)));
    }

    [Fact]
    public void TheDeployWorkflowSignsInWithOidcAndStoresNoAzureSecret()
    {
        var deploy = InfraFiles.Read(".github/workflows/deploy.yml");

        Assert.Matches(@"id-token:\s*write", deploy);
        Assert.Contains("--federated-credential-provider github", deploy, StringComparison.Ordinal);
        Assert.DoesNotContain("secrets.", deploy, StringComparison.Ordinal);
        Assert.Contains("azd provision --no-prompt", deploy, StringComparison.Ordinal);
        Assert.Contains("azd deploy --no-prompt", deploy, StringComparison.Ordinal);
        Assert.Matches(@"JOBRELAY_GRANT_VAULT_OPERATOR:\s*'false'", deploy);
        Assert.Contains("bool(readEnvironmentVariable('JOBRELAY_GRANT_VAULT_OPERATOR', 'true'))", InfraFiles.Read(InfraFiles.ParametersFile), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheTemplatesCompileWithTheBicepCliWithoutAWarning()
    {
        var bicep = await BicepCli.LocateAsync();

        foreach (var (verb, file) in new[] { ("build", "infra/main.bicep"), ("build-params", InfraFiles.ParametersFile) })
        {
            var result = await BicepCli.RunAsync(bicep, [verb, InfraFiles.PathOf(file), "--stdout"], AzdEnvironment.Typical);

            Assert.True(result.ExitCode == 0, $"bicep {verb} {file} failed:\n{result.Diagnostics}");
            // API-version age is measured against today's date, so it is reported by `bicep lint`, not failed on here.
            var diagnostics = result.Diagnostics.Split('\n')
                .Where(line => line.Contains(" : Warning ", StringComparison.Ordinal) || line.Contains(" : Error ", StringComparison.Ordinal))
                .Where(line => !line.Contains("use-recent-api-versions", StringComparison.Ordinal))
                .ToList();
            Assert.True(diagnostics.Count == 0, $"bicep {verb} {file}:\n{string.Join('\n', diagnostics)}");
        }
    }

    private static bool BindsToOptionsProperty(string setting)
    {
        var separator = setting.LastIndexOf("__", StringComparison.Ordinal);
        if (separator < 0)
        {
            return false;
        }

        var section = setting[..separator].Replace("__", ":", StringComparison.Ordinal);
        var property = setting[(separator + 2)..];
        return typeof(AppSettingNames).Assembly.GetTypes()
            .Where(type => type.GetField("SectionName", BindingFlags.Public | BindingFlags.Static) is { IsLiteral: true } field
                && string.Equals((string?)field.GetRawConstantValue(), section, StringComparison.Ordinal))
            .Any(type => type.GetProperty(property, BindingFlags.Public | BindingFlags.Instance) is { CanWrite: true });
    }

    private static (string Tick, string Interval) ParameterDefaults(string file)
    {
        var text = InfraFiles.Read(file);
        return (Value("schedulerTick"), Value("schedulerTickInterval"));

        string Value(string name) =>
            Regex.Match(text, $@"(?m)^param\s+{name}\b[^=\n]*=\s*'(?<value>[^']*)'").Groups["value"] is { Success: true } group
                ? group.Value
                : throw new InvalidOperationException($"{file} sets no literal {name}.");
    }

    private static List<BicepResource> AllResources() => InfraFiles.BicepFiles().SelectMany(InfraFiles.Resources).ToList();

    private static BicepResource Single(string file, string type) =>
        Assert.Single(InfraFiles.Resources(file), r => r.Type == type && !r.Existing);

    private static IEnumerable<string> WorkflowFiles() =>
        Directory.EnumerateFiles(InfraFiles.PathOf(".github/workflows"), "*.yml")
            .Select(path => Path.GetRelativePath(InfraFiles.RepoRoot, path).Replace(Path.DirectorySeparatorChar, '/'));

    [GeneratedRegex(@"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")]
    private static partial Regex GuidLiteral();
}

/// <summary>
/// Runs the infrastructure tests on their own, after the parallel ones: the Bicep compile starts a restore and the
/// CLI, which should not compete for the CPU with timing-sensitive tests.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class InfrastructureTestGroup
{
    public const string Name = "Infrastructure";
}
