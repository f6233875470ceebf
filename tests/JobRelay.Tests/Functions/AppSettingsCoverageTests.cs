using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using JobRelay.Functions;
using JobRelay.Tests.Infra;

namespace JobRelay.Tests.Functions;

/// <summary>
/// Every setting the Functions app's code reads — found by reading the code, not a list — is either set by the
/// Bicep or documented in docs/configuration.md with the default the code really uses.
/// </summary>
public partial class AppSettingsCoverageTests
{
    private const string DynamicSuffix = "__<name>";

    /// <summary><c>jobrelay serve</c>'s own Kestrel host (limits, proxies, shutdown): the Functions host has its own.</summary>
    private const string ServeSection = "JobRelay:Serve";

    [Fact]
    public void TheScanFindsTheSettingsEveryAppNeeds()
    {
        var read = SettingsTheCodeReads().Keys;

        Assert.Contains("JobRelay__KeyVault__VaultUri", read);
        Assert.Contains("JobRelay__Catalog__Path", read);
        Assert.Contains("JOBRELAY_TICK", read);
        Assert.Contains("JobRelay__Secrets__Values" + DynamicSuffix, read);
    }

    [Fact]
    public void EverySettingTheFunctionsAppReadsIsSetByTheBicepOrDocumentedWithADefault()
    {
        var setByBicep = InfraFiles.FunctionAppSettingNames().ToHashSet(StringComparer.OrdinalIgnoreCase);
        var documented = DocumentedSettings();

        var uncovered = SettingsTheCodeReads().Keys
            .Where(key => !setByBicep.Contains(key) && !documented.ContainsKey(key))
            .ToList();

        Assert.True(uncovered.Count == 0, "Read by the code, but neither set in infra/app/function.bicep nor listed in docs/configuration.md: " + string.Join(", ", uncovered));
    }

    [Fact]
    public void EveryDocumentedDefaultIsTheDefaultTheCodeUses()
    {
        var documented = DocumentedSettings();

        foreach (var (key, codeDefault) in SettingsTheCodeReads())
        {
            if (documented.TryGetValue(key, out var documentedDefault) && codeDefault is not null)
            {
                Assert.True(codeDefault == documentedDefault, $"docs/configuration.md gives {key} the default '{documentedDefault}', the code '{codeDefault}'.");
            }
        }
    }

    [Fact]
    public void EverySettingTheDocumentationListsIsReadByTheCodeOrTheHost()
    {
        var read = SettingsTheCodeReads().Keys.ToHashSet(StringComparer.OrdinalIgnoreCase);

        var stale = DocumentedSettings().Keys.Where(key => !read.Contains(key) && key != "AZURE_CLIENT_ID").ToList();

        Assert.True(stale.Count == 0, "docs/configuration.md lists settings nothing reads: " + string.Join(", ", stale));
    }

    /// <summary>
    /// Each setting in its app-setting form, with the code's default where one is written (null: none, or not knowable
    /// from the code): options classes found by their <c>SectionName</c>, literal keys in the source, and the
    /// <c>%setting%</c> references in the generated functions.metadata.
    /// </summary>
    private static Dictionary<string, string?> SettingsTheCodeReads()
    {
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var assemblies = new[] { typeof(JobRelayServiceCollectionExtensions).Assembly, typeof(FunctionsAppSetup).Assembly };
        foreach (var type in assemblies.SelectMany(assembly => assembly.GetTypes()))
        {
            if (type.GetField("SectionName", BindingFlags.Public | BindingFlags.Static) is not { IsLiteral: true } field)
            {
                continue;
            }

            var sectionName = (string)field.GetRawConstantValue()!;
            if (sectionName.StartsWith(ServeSection, StringComparison.Ordinal))
            {
                continue;
            }

            var section = sectionName.Replace(":", "__", StringComparison.Ordinal);
            var instance = type.GetConstructor(Type.EmptyTypes) is not null ? Activator.CreateInstance(type) : null;
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                var isMap = typeof(IDictionary).IsAssignableFrom(property.PropertyType);
                if (!isMap && property.SetMethod is not { IsPublic: true })
                {
                    continue;
                }

                var key = $"{section}__{property.Name}{(isMap ? DynamicSuffix : string.Empty)}";
                settings[key] = isMap ? "none" : Format(instance is null ? null : property.GetValue(instance));
            }
        }

        foreach (var file in SourceFiles())
        {
            foreach (Match match in LiteralKey().Matches(File.ReadAllText(file)))
            {
                settings.TryAdd(match.Groups["key"].Value.Replace(":", "__", StringComparison.Ordinal), null);
            }
        }

        foreach (var function in FunctionsMetadataTests.Metadata())
        {
            foreach (Match match in SettingReference().Matches(function!.ToJsonString()))
            {
                settings.TryAdd(match.Groups["key"].Value, null);
            }
        }

        return settings;
    }

    private static IEnumerable<string> SourceFiles() =>
        new[] { "src/JobRelay", "src/JobRelay.Functions" }
            .SelectMany(folder => Directory.EnumerateFiles(InfraFiles.PathOf(folder), "*.cs", SearchOption.AllDirectories))
            .Where(path => !path.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !path.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal));

    private static Dictionary<string, string> DocumentedSettings()
    {
        var rows = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (Match match in DocumentedRow().Matches(InfraFiles.Read("docs/configuration.md")))
        {
            rows[match.Groups["key"].Value] = match.Groups["default"].Value.Trim();
        }

        Assert.NotEmpty(rows);
        return rows;
    }

    private static string? Format(object? value) => value switch
    {
        null => "none",
        TimeSpan span => span.ToString("c", CultureInfo.InvariantCulture),
        bool flag => flag ? "true" : "false",
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };

    [GeneratedRegex(@"(?:[Cc]onfiguration\[|GetEnvironmentVariable\(|GetSection\(|GetValue<[^>]+>\()""(?<key>[A-Za-z_][A-Za-z0-9_:]*)""")]
    private static partial Regex LiteralKey();

    [GeneratedRegex("%(?<key>[A-Za-z_][A-Za-z0-9_]*)%")]
    private static partial Regex SettingReference();

    [GeneratedRegex(@"^\| `(?<key>[^`]+)` \| (?<default>[^|]+) \|", RegexOptions.Multiline)]
    private static partial Regex DocumentedRow();
}
