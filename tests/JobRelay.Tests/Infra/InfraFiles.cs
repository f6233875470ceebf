using System.Text.RegularExpressions;

namespace JobRelay.Tests.Infra;

/// <summary>The repository's infrastructure files, read as text, with the few structural reads the drift tests need.</summary>
internal static partial class InfraFiles
{
    private static readonly Lazy<string> Root = new(FindRepoRoot);

    public static string RepoRoot => Root.Value;

    /// <summary>The parameters file azd compiles for infra/main.bicep (it prefers a .bicepparam over a .json).</summary>
    public const string ParametersFile = "infra/main.bicepparam";

    public static string PathOf(string relativePath) => Path.Combine(RepoRoot, relativePath.Replace('/', Path.DirectorySeparatorChar));

    public static string Read(string relativePath) => File.ReadAllText(PathOf(relativePath));

    /// <summary>Every .bicep file under infra/, by path relative to the repository root.</summary>
    public static IReadOnlyList<string> BicepFiles() =>
        Directory.EnumerateFiles(PathOf("infra"), "*.bicep", SearchOption.AllDirectories)
            .Where(path => !IsBuildOutput(path))
            .Select(path => Path.GetRelativePath(RepoRoot, path).Replace(Path.DirectorySeparatorChar, '/'))
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>Every file under infra/ a reviewer reads: templates, parameter files and the Bicep configuration.</summary>
    public static IReadOnlyList<string> TemplateFiles() =>
        Directory.EnumerateFiles(PathOf("infra"), "*", SearchOption.AllDirectories)
            .Where(path => !IsBuildOutput(path))
            .Where(path => path.EndsWith(".bicep", StringComparison.Ordinal)
                || path.EndsWith(".bicepparam", StringComparison.Ordinal)
                || path.EndsWith(".json", StringComparison.Ordinal))
            .Select(path => Path.GetRelativePath(RepoRoot, path).Replace(Path.DirectorySeparatorChar, '/'))
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>The keys of the function app's <c>appsettings</c> config resource, in the order written.</summary>
    public static IReadOnlyList<string> FunctionAppSettingNames()
    {
        var block = FunctionAppSettingsBlock();
        return TopLevelKeys(block).Select(pair => pair.Key).ToList();
    }

    /// <summary>The <c>properties</c> object of the function app's <c>appsettings</c> config resource.</summary>
    public static string FunctionAppSettingsBlock()
    {
        var text = Read("infra/app/function.bicep");
        var marker = text.IndexOf("name: 'appsettings'", StringComparison.Ordinal);
        Assert.True(marker >= 0, "infra/app/function.bicep has no config resource named 'appsettings'.");
        var properties = text.IndexOf("properties: {", marker, StringComparison.Ordinal);
        Assert.True(properties >= 0, "The appsettings config resource has no properties object.");
        return Braced(text, text.IndexOf('{', properties));
    }

    /// <summary>The key/value pairs written directly inside an object literal (not in nested objects).</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> TopLevelKeys(string objectLiteral)
    {
        var pairs = new List<KeyValuePair<string, string>>();
        var depth = 0;
        foreach (var line in objectLiteral.Split('\n'))
        {
            if (depth == 1)
            {
                var match = KeyLine().Match(line);
                if (match.Success)
                {
                    pairs.Add(new(match.Groups["key"].Value.Trim('\''), match.Groups["value"].Value.Trim()));
                }
            }

            depth += line.Count(c => c == '{') - line.Count(c => c == '}');
        }

        return pairs;
    }

    /// <summary>The text of the balanced <c>{...}</c> starting at <paramref name="openBrace"/>.</summary>
    public static string Braced(string text, int openBrace)
    {
        Assert.Equal('{', text[openBrace]);
        var depth = 0;
        for (var i = openBrace; i < text.Length; i++)
        {
            depth += text[i] switch { '{' => 1, '}' => -1, _ => 0 };
            if (depth == 0)
            {
                return text[openBrace..(i + 1)];
            }
        }

        throw new InvalidOperationException("Unbalanced braces.");
    }

    /// <summary>Each <c>resource</c> declaration of a file: its symbol, type, API version and body.</summary>
    public static IReadOnlyList<BicepResource> Resources(string relativePath)
    {
        var text = Read(relativePath);
        var resources = new List<BicepResource>();
        foreach (Match match in ResourceDeclaration().Matches(text))
        {
            // For a loop (`= [for x in xs: {`) the first brace after the declaration opens the body, as it does for `= {`.
            var body = Braced(text, text.IndexOf('{', match.Index + match.Length));
            resources.Add(new BicepResource(
                relativePath,
                match.Groups["symbol"].Value,
                match.Groups["type"].Value,
                match.Groups["version"].Value,
                match.Groups["existing"].Success,
                body));
        }

        return resources;
    }

    /// <summary>Every parameter declared in a file, with whether it is <c>@secure()</c> and whether it has a default.</summary>
    public static IReadOnlyList<BicepParameter> Parameters(string relativePath)
    {
        var lines = Read(relativePath).Split('\n');
        var parameters = new List<BicepParameter>();
        var decorators = new List<string>();
        foreach (var raw in lines)
        {
            var line = raw.Trim();
            if (line.StartsWith('@'))
            {
                decorators.Add(line);
                continue;
            }

            var match = ParameterDeclaration().Match(line);
            if (match.Success)
            {
                parameters.Add(new BicepParameter(
                    match.Groups["name"].Value,
                    decorators.Any(d => d.StartsWith("@secure(", StringComparison.Ordinal)),
                    match.Groups["default"].Success ? match.Groups["default"].Value.Trim() : null));
                decorators.Clear();
            }
            else if (TopLevelStatement().IsMatch(line))
            {
                decorators.Clear();
            }
        }

        return parameters;
    }

    /// <summary>Every <c>output</c> declaration of a file: name and value expression.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Outputs(string relativePath) =>
        OutputDeclaration().Matches(Read(relativePath))
            .Select(match => KeyValuePair.Create(match.Groups["name"].Value, match.Groups["value"].Value.Trim()))
            .ToList();

    private static bool IsBuildOutput(string path)
    {
        var separator = Path.DirectorySeparatorChar;
        return path.Contains($"{separator}obj{separator}", StringComparison.Ordinal) || path.Contains($"{separator}bin{separator}", StringComparison.Ordinal);
    }

    private static string FindRepoRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Functions.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No Functions.sln above {AppContext.BaseDirectory}.");
    }

    [GeneratedRegex(@"^\s*(?<key>'[^']+'|[A-Za-z_][A-Za-z0-9_]*)\s*:\s*(?<value>.*?)\s*(//.*)?$")]
    private static partial Regex KeyLine();

    [GeneratedRegex(@"(?m)^\s*resource\s+(?<symbol>\w+)\s+'(?<type>[^@']+)(@(?<version>[^']+))?'\s*(?<existing>existing)?\s*=\s*")]
    private static partial Regex ResourceDeclaration();

    [GeneratedRegex(@"^param\s+(?<name>\w+)\s+\w+(\s*=\s*(?<default>.+))?$")]
    private static partial Regex ParameterDeclaration();

    [GeneratedRegex(@"^(var|resource|module|output|targetScope|type|func|using|import|metadata)\b")]
    private static partial Regex TopLevelStatement();

    [GeneratedRegex(@"(?m)^output\s+(?<name>\w+)\s+\w+\s*=\s*(?<value>.+)$")]
    private static partial Regex OutputDeclaration();
}

internal sealed record BicepResource(string File, string Symbol, string Type, string ApiVersion, bool Existing, string Body);

internal sealed record BicepParameter(string Name, bool Secure, string? Default);
