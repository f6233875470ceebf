using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using JobRelay.Tests.Support;

namespace JobRelay.Tests.Infra;

/// <summary>
/// The README's first screen names what the tests need, read from what they really use: the Node.js that the
/// pinned Azurite declares in its <c>engines</c> field, and the browser the dashboard's browser tests launch.
/// </summary>
public partial class ReadmePrerequisitesTests
{
    [Fact]
    public void EveryNodeJsVersionTheReadmeNamesIsTheOneThePinnedAzuriteRequires()
    {
        var lockFile = JsonNode.Parse(InfraFiles.Read("package-lock.json"))!;
        var azurite = lockFile["packages"]!["node_modules/azurite"]!;
        var required = MinimumMajor((string)azurite["engines"]!["node"]!);
        var readme = InfraFiles.Read("README.md");

        var named = NodeVersion().Matches(readme).Select(m => int.Parse(m.Groups["major"].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();

        Assert.Contains(named, major => major == required);
        Assert.All(named, major => Assert.Equal(required, major));
        Assert.Contains($"Azurite {(string)azurite["version"]!}", FirstScreen(readme), StringComparison.Ordinal);
        Assert.Equal(required, MinimumMajor((string)JsonNode.Parse(InfraFiles.Read("package.json"))!["engines"]!["node"]!));
        Assert.Equal(required, MinimumMajor((string)lockFile["packages"]![string.Empty]!["engines"]!["node"]!));
    }

    [Fact]
    public void TheFirstScreenNamesDebiansChromiumThatTheBrowserTestsLaunch()
    {
        var firstScreen = FirstScreen(InfraFiles.Read("README.md"));

        Assert.Contains("apt-get install chromium", firstScreen, StringComparison.Ordinal);
        Assert.Contains($"`{HeadlessChromium.ExecutablePath}`", firstScreen, StringComparison.Ordinal);
    }

    /// <summary>What a reader sees before the first horizontal rule.</summary>
    private static string FirstScreen(string readme) => readme[..readme.IndexOf("\n---\n", StringComparison.Ordinal)];

    /// <summary>The major version of an engines range such as <c>&gt;=22.0.0</c>.</summary>
    private static int MinimumMajor(string range)
    {
        var match = MinimumVersion().Match(range);
        Assert.True(match.Success, $"'{range}' is not a '>=' range.");
        return int.Parse(match.Groups["major"].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"^>=\s*(?<major>\d+)")]
    private static partial Regex MinimumVersion();

    [GeneratedRegex(@"Node\.js(?:\]\([^)]*\))?\s+(?<major>\d+)")]
    private static partial Regex NodeVersion();
}
