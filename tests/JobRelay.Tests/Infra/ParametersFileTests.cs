using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace JobRelay.Tests.Infra;

/// <summary>
/// The one parameters file azd reads for infra/main.bicep, compiled with the Bicep CLI the way azd compiles it: with
/// the azd environment's values as process environment variables.
/// </summary>
[Collection(InfrastructureTestGroup.Name)]
public partial class ParametersFileTests
{
    [Fact]
    public void TheBicepparamIsTheOnlyParametersFileSoAzdCannotPreferAnotherOne()
    {
        var azure = InfraFiles.Read("azure.yaml");
        var infraPath = Regex.Match(azure, @"(?m)^\s+path:\s*(?<p>\S+)\s*$").Groups["p"].Value;
        var module = Regex.Match(azure, @"(?m)^\s+module:\s*(?<m>\S+)\s*$").Groups["m"].Value;

        Assert.Equal(InfraFiles.ParametersFile, $"{infraPath}/{module}.bicepparam");
        Assert.Matches(@"(?m)^using 'main\.bicep'\s*$", InfraFiles.Read(InfraFiles.ParametersFile));
        var parameterFiles = Directory.EnumerateFiles(InfraFiles.PathOf(infraPath), "*", SearchOption.TopDirectoryOnly)
            .Select(Path.GetFileName)
            .Where(name => name!.EndsWith(".bicepparam", StringComparison.Ordinal) || name.EndsWith(".parameters.json", StringComparison.Ordinal))
            .ToList();
        Assert.Equal(["main.bicepparam"], parameterFiles);
        Assert.DoesNotContain("main.parameters.json", azure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EveryParameterWithoutADefaultIsFedFromTheAzdEnvironment()
    {
        var compiled = await CompileAsync(AzdEnvironment.Typical);
        var withoutDefault = InfraFiles.Parameters("infra/main.bicep").Where(p => p.Default is null).Select(p => p.Name).ToList();

        Assert.NotEmpty(withoutDefault);
        Assert.All(withoutDefault, name => Assert.True(compiled.ContainsKey(name), $"{InfraFiles.ParametersFile} does not set {name}, which has no default in main.bicep."));
        Assert.All(withoutDefault, name => Assert.True(EnvironmentReads().ContainsKey(name), $"{name} is set in {InfraFiles.ParametersFile}, but not from the azd environment."));

        Assert.Equal(AzdEnvironment.Typical["AZURE_ENV_NAME"], compiled["environmentName"].GetString());
        Assert.Equal(AzdEnvironment.Typical["AZURE_LOCATION"], compiled["location"].GetString());
        Assert.Equal(AzdEnvironment.Typical["AZURE_PRINCIPAL_ID"], compiled["vaultOperatorPrincipalId"].GetString());
        Assert.Equal(AzdEnvironment.Typical["JOBRELAY_ALERT_EMAIL"], compiled["alertEmailAddress"].GetString());
    }

    [Fact]
    public async Task EveryValueReadFromTheEnvironmentReachesItsParameter()
    {
        var environment = new Dictionary<string, string?>(AzdEnvironment.Typical, StringComparer.Ordinal)
        {
            ["JOBRELAY_VAULT_OPERATOR_TYPE"] = "Group",
            ["JOBRELAY_GRANT_VAULT_OPERATOR"] = "false",
            ["JOBRELAY_KEY_VAULT_PUBLIC_ACCESS"] = "Disabled",
            ["JOBRELAY_MAX_INSTANCES"] = "1",
            ["JOBRELAY_ALWAYS_READY"] = "1",
            ["JOBRELAY_HTTP_CONCURRENCY"] = "8",
        };

        var compiled = await CompileAsync(environment);

        foreach (var (parameter, read) in EnvironmentReads())
        {
            Assert.True(environment.ContainsKey(read.Variable), $"The test sets no value for {read.Variable}.");
            Assert.Equal(environment[read.Variable], Text(compiled[parameter]));
        }

        Assert.Equal(1, compiled["maximumInstanceCount"].GetInt32());
        Assert.Equal(1, compiled["alwaysReadyInstanceCount"].GetInt32());
        Assert.Equal(8, compiled["httpPerInstanceConcurrency"].GetInt32());
        Assert.False(compiled["grantVaultOperator"].GetBoolean());
    }

    [Fact]
    public void AKnobLeftUnsetFallsBackToTheTemplateDefault()
    {
        var defaults = InfraFiles.Parameters("infra/main.bicep").ToDictionary(p => p.Name, p => p.Default, StringComparer.Ordinal);
        var knobs = EnvironmentReads().Where(pair => pair.Value.Default is not null).ToList();

        Assert.NotEmpty(knobs);
        foreach (var (parameter, read) in knobs)
        {
            var templateDefault = defaults[parameter];
            Assert.True(templateDefault is not null, $"{parameter} reads {read.Variable} with a default, but main.bicep gives it none.");
            Assert.Equal(templateDefault!.Trim('\''), read.Default);
        }
    }

    [Fact]
    public async Task WithoutTheAzdEnvironmentTheCompileStopsAndNamesEachMissingVariable()
    {
        var required = EnvironmentReads().Values.Where(read => read.Default is null).Select(read => read.Variable).ToList();
        var environment = AzdEnvironment.Typical.ToDictionary(pair => pair.Key, pair => required.Contains(pair.Key) ? null : pair.Value, StringComparer.Ordinal);

        var bicep = await BicepCli.LocateAsync();
        var result = await BicepCli.RunAsync(bicep, ["build-params", InfraFiles.PathOf(InfraFiles.ParametersFile), "--stdout"], environment);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Equal(["AZURE_ENV_NAME", "AZURE_LOCATION", "JOBRELAY_ALERT_EMAIL"], required.Order(StringComparer.Ordinal));
        Assert.All(required, variable => Assert.Contains($"Environment variable \"{variable}\" does not exist", result.Diagnostics, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(1, true)]
    [InlineData(1000, true)]
    [InlineData(1001, false)]
    public async Task TheMaximumInstanceCountTakesWhatFlexConsumptionAllows(int count, bool accepted)
    {
        // A literal value, because the Bicep compiler checks @minValue and @maxValue only against values it can see.
        var folder = InfraFiles.PathOf("infra/obj");
        Directory.CreateDirectory(folder);
        var file = Path.Combine(folder, $"instances-{count}-{Guid.NewGuid():N}.bicepparam");
        await File.WriteAllTextAsync(
            file,
            $"using '../main.bicep'\nparam environmentName = 'e'\nparam location = 'swedencentral'\nparam alertEmailAddress = 'ops@example.com'\nparam maximumInstanceCount = {count}\n");
        try
        {
            var bicep = await BicepCli.LocateAsync();
            var result = await BicepCli.RunAsync(bicep, ["build-params", file, "--stdout"]);

            Assert.True((result.ExitCode == 0) == accepted, $"maximumInstanceCount = {count}: exit {result.ExitCode}\n{result.Diagnostics}");
        }
        finally
        {
            File.Delete(file);
        }

        foreach (var template in new[] { "infra/main.bicep", "infra/app/function.bicep" })
        {
            Assert.Matches(@"@minValue\(1\)\s*\n@maxValue\(1000\)\s*\nparam maximumInstanceCount int", InfraFiles.Read(template));
        }
    }

    [Fact]
    public void TheDeployWorkflowSetsEveryVariableTheParametersFileRequires()
    {
        var deploy = InfraFiles.Read(".github/workflows/deploy.yml");

        foreach (var read in EnvironmentReads().Values.Where(read => read.Default is null))
        {
            Assert.Matches($@"(?m)^\s+{read.Variable}:\s*\$\{{\{{\s*vars\.{read.Variable}\s*\}}\}}\s*$", deploy);
        }
    }

    [Fact]
    public void TheDeployGuideDocumentsEveryVariableTheParametersFileReads()
    {
        var guide = InfraFiles.Read("docs/deploy.md");

        Assert.All(EnvironmentReads().Values, read => Assert.Contains($"`{read.Variable}`", guide, StringComparison.Ordinal));
        Assert.DoesNotContain("main.parameters.json", guide, StringComparison.Ordinal);
    }

    /// <summary>Each parameter the parameters file reads from an environment variable, with the variable and its default.</summary>
    private static Dictionary<string, (string Variable, string? Default)> EnvironmentReads() =>
        EnvironmentRead().Matches(InfraFiles.Read(InfraFiles.ParametersFile))
            .ToDictionary(
                match => match.Groups["param"].Value,
                match => (match.Groups["variable"].Value, match.Groups["default"].Success ? match.Groups["default"].Value : null),
                StringComparer.Ordinal);

    private static async Task<Dictionary<string, JsonElement>> CompileAsync(IReadOnlyDictionary<string, string?> environment)
    {
        var bicep = await BicepCli.LocateAsync();
        var result = await BicepCli.RunAsync(bicep, ["build-params", InfraFiles.PathOf(InfraFiles.ParametersFile), "--stdout"], environment);
        Assert.True(result.ExitCode == 0, $"bicep build-params {InfraFiles.ParametersFile} failed:\n{result.Diagnostics}");

        var stdout = result.Output[..^result.Diagnostics.Length];
        using var output = JsonDocument.Parse(stdout);
        using var parameters = JsonDocument.Parse(output.RootElement.GetProperty("parametersJson").GetString()!);
        return parameters.RootElement.GetProperty("parameters").EnumerateObject()
            .ToDictionary(p => p.Name, p => p.Value.GetProperty("value").Clone(), StringComparer.Ordinal);
    }

    private static string Text(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Number => value.GetInt64().ToString(CultureInfo.InvariantCulture),
        _ => value.GetString()!,
    };

    [GeneratedRegex(@"(?m)^param\s+(?<param>\w+)\s*=\s*(\w+\()?readEnvironmentVariable\('(?<variable>[A-Z0-9_]+)'(,\s*'(?<default>[^']*)')?\)")]
    private static partial Regex EnvironmentRead();
}

/// <summary>Environment variables as azd sets them when it compiles the parameters file.</summary>
internal static class AzdEnvironment
{
    /// <summary>A fresh azd environment: name, region and signed-in principal, plus the alert address set with <c>azd env set</c>.</summary>
    public static readonly IReadOnlyDictionary<string, string?> Typical = new Dictionary<string, string?>(StringComparer.Ordinal)
    {
        ["AZURE_ENV_NAME"] = "jobrelay-drift",
        ["AZURE_LOCATION"] = "northeurope",
        ["AZURE_PRINCIPAL_ID"] = "6f0e8d2c-3b1a-4c5d-9e7f-0a1b2c3d4e5f",
        ["JOBRELAY_ALERT_EMAIL"] = "ops@example.com",
        ["JOBRELAY_VAULT_OPERATOR_TYPE"] = null,
        ["JOBRELAY_GRANT_VAULT_OPERATOR"] = null,
        ["JOBRELAY_KEY_VAULT_PUBLIC_ACCESS"] = null,
        ["JOBRELAY_MAX_INSTANCES"] = null,
    };
}
