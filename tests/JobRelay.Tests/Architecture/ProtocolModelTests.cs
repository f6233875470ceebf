using System.Text.RegularExpressions;
using JobRelay.State;
using JobRelay.Tests.Triggers;

namespace JobRelay.Tests.Architecture;

/// <summary>
/// The Promela model (spec/relay-protocol.pml) and the transition table the stores apply
/// (<see cref="RunTransitions"/>, <see cref="WatchTransitions"/>) describe one protocol: the same transitions, from the
/// same states to the same states, the same writes on disk before what depends on them. spin checks the model in CI
/// (spec/check); these tests keep the model from drifting away from the code it speaks for.
/// </summary>
public sealed partial class ProtocolModelTests
{
    private static readonly string Model = File.ReadAllText(CatalogLoaderTests.RepoFile("spec/relay-protocol.pml"));

    [Fact]
    public void TheModelHasExactlyTheRunTransitionsOfTheTableFromAndToTheSameStates()
    {
        var table = RunTransitions.All.Select(t => Row(t.Name, t.FromNames, t.ToName)).Order(StringComparer.Ordinal);
        var model = Headers("transition").Select(h => Row(h.Name, h.From, h.To)).Order(StringComparer.Ordinal);

        Assert.Equal(table, model);
    }

    [Fact]
    public void TheModelHasExactlyTheWatchTransitionsOfTheTableFromAndToTheSameWatchStates()
    {
        var table = WatchTransitions.Rows.Select(r => Row(r.Transition.ToString(), [r.From.ToString()], r.To.ToString())).Order(StringComparer.Ordinal);
        var model = Headers("watch-transition").Select(h => Row(h.Name, h.From, h.To)).Order(StringComparer.Ordinal);

        Assert.Equal(table, model);
    }

    [Fact]
    public void EachTransitionHeaderStandsOnTheInlineOfItsName()
    {
        var headed = HeaderOnInline().Matches(Model).Select(m => (Header: m.Groups["header"].Value, Inline: m.Groups["inline"].Value)).ToList();

        Assert.All(headed, pair => Assert.Equal(pair.Header, pair.Inline));
        Assert.Equal(
            Headers("transition").Concat(Headers("watch-transition")).Select(h => h.Name).Order(StringComparer.Ordinal),
            headed.Select(pair => pair.Inline).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void TheWritesTheTableMakesDurableAreTheOnesTheModelNeverLosesToAnOsCrash()
    {
        foreach (var transition in RunTransitions.All)
        {
            var body = InlineBody(transition.Name);
            var synced = body.Contains("SYNCED", StringComparison.Ordinal) || body.Contains("STARTING_WRITE", StringComparison.Ordinal);
            Assert.True(transition.IsDurable == synced, $"{transition.Name}: durable in the table: {transition.IsDurable}; synced in the model: {synced}.");
        }
    }

    [Fact]
    public void TheStartArmsTheWatchInTheModelAsInTheTable()
    {
        Assert.True(RunTransitions.Start.Effects.HasFlag(RunEffects.ArmWatch));
        Assert.Contains("Watch()", InlineBody(nameof(RunTransitions.Start)), StringComparison.Ordinal);
    }

    [Fact]
    public void CiChecksTheModelAndEachOldRuleTheModelKeeps()
    {
        var ci = File.ReadAllText(CatalogLoaderTests.RepoFile(".ci/run"));
        var check = File.ReadAllText(CatalogLoaderTests.RepoFile("spec/check"));

        Assert.Contains("spec/check", ci, StringComparison.Ordinal);
        foreach (var rule in OldRule().Matches(Model).Select(m => m.Value).Distinct(StringComparer.Ordinal))
        {
            Assert.Contains("-D" + rule + " ", check, StringComparison.Ordinal);
        }
    }

    private static string Row(string name, IEnumerable<string> from, string to) => $"{name}: {string.Join('|', from.Order(StringComparer.Ordinal))} -> {to}";

    private static IEnumerable<(string Name, string[] From, string To)> Headers(string kind)
        => Header().Matches(Model)
            .Where(m => m.Groups["kind"].Value == kind)
            .Select(m => (m.Groups["name"].Value, m.Groups["from"].Value.Split('|', StringSplitOptions.TrimEntries), m.Groups["to"].Value));

    private static string InlineBody(string name)
    {
        var start = Model.IndexOf($"inline {name}() {{", StringComparison.Ordinal);
        Assert.True(start >= 0, $"The model has no inline {name}.");
        var end = Model.IndexOf("\n}\n", start, StringComparison.Ordinal);
        return Model[start..end];
    }

    [GeneratedRegex(@"/\* @(?<kind>transition|watch-transition) (?<name>\w+): (?<from>[\w| ]+?) -> (?<to>\w+) \*/")]
    private static partial Regex Header();

    [GeneratedRegex(@"/\* @(?:transition|watch-transition) (?<header>\w+):[^\n]*\*/\s*\ninline (?<inline>\w+)\(")]
    private static partial Regex HeaderOnInline();

    [GeneratedRegex(@"\bOLD_[A-Z_]+\b")]
    private static partial Regex OldRule();
}
