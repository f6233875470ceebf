using System.Reflection;
using System.Text.RegularExpressions;
using JobRelay.Model;

namespace JobRelay.Tests.ArchitectureRules;

/// <summary>
/// The engine's public types are the ones its hosts name, and the ones those types' public members expose. Widening
/// the list is a decision made in <c>PublicTypes.approved.txt</c>, in the same change.
/// </summary>
public sealed class PublicSurfaceTests
{
    private const string ApprovedFile = "tests/JobRelay.Tests/Architecture/PublicTypes.approved.txt";

    private static readonly Assembly Engine = typeof(RelayException).Assembly;

    [Fact]
    public void ThePublicTypesAreExactlyTheApprovedOnes()
    {
        var approved = File.ReadAllLines(Path.Combine(RepositoryRoot(), ApprovedFile))
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .ToList();
        var actual = PublicTypeNames();

        var added = actual.Except(approved, StringComparer.Ordinal).ToList();
        var removed = approved.Except(actual, StringComparer.Ordinal).ToList();

        Assert.True(
            added.Count == 0 && removed.Count == 0,
            $"The engine's public types differ from {ApprovedFile}. Newly public: [{string.Join(", ", added)}]. " +
            $"No longer public: [{string.Join(", ", removed)}].");
        Assert.Equal(approved.Order(StringComparer.Ordinal), approved);
    }

    [Fact]
    public void EveryPublicTypeIsNamedByAHostOrExposedByAnotherPublicType()
    {
        var hostSources = string.Join(
            '\n',
            new[] { "src/JobRelay.Functions", "src/JobRelay.Cli" }
                .SelectMany(folder => Directory.EnumerateFiles(Path.Combine(RepositoryRoot(), folder), "*.cs", SearchOption.AllDirectories))
                .Where(path => !path.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
                .Select(File.ReadAllText));
        var exported = Engine.GetExportedTypes();
        var exposed = exported.SelectMany(ExposedTypes).ToHashSet();

        var unexplained = exported
            .Where(type => !type.IsNested)
            .Where(type => !exposed.Contains(type) && !Regex.IsMatch(hostSources, $@"\b{Regex.Escape(SimpleName(type))}\b"))
            .Where(type => !(type.IsAbstract && type.IsSealed && ExtensionMethodNamedByHost(type, hostSources)))
            .Select(type => type.FullName)
            .ToList();

        Assert.Empty(unexplained);
    }

    private static List<string> PublicTypeNames() =>
        Engine.GetExportedTypes().Select(type => type.FullName!).Order(StringComparer.Ordinal).ToList();

    private static bool ExtensionMethodNamedByHost(Type type, string hostSources) =>
        type.GetMethods(BindingFlags.Public | BindingFlags.Static)
            .Any(method => Regex.IsMatch(hostSources, $@"\.{Regex.Escape(method.Name)}\b"));

    /// <summary>The engine types a public member of <paramref name="type"/> names in its signature.</summary>
    private static IEnumerable<Type> ExposedTypes(Type type)
    {
        const BindingFlags members = BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        var named = new List<Type>();
        if (type.BaseType is { } baseType)
        {
            named.Add(baseType);
        }

        named.AddRange(type.GetInterfaces());
        foreach (var method in type.GetMethods(members))
        {
            named.Add(method.ReturnType);
            named.AddRange(method.GetParameters().Select(p => p.ParameterType));
        }

        foreach (var constructor in type.GetConstructors())
        {
            named.AddRange(constructor.GetParameters().Select(p => p.ParameterType));
        }

        named.AddRange(type.GetProperties(members).Select(p => p.PropertyType));
        named.AddRange(type.GetFields(members).Select(f => f.FieldType));
        return named.SelectMany(Unwrap).Where(t => t.Assembly == Engine && t != type);
    }

    private static IEnumerable<Type> Unwrap(Type type)
    {
        if (type.HasElementType)
        {
            return Unwrap(type.GetElementType()!);
        }

        return type.IsGenericType
            ? new[] { type.GetGenericTypeDefinition() }.Concat(type.GetGenericArguments().SelectMany(Unwrap))
            : [type];
    }

    private static string SimpleName(Type type) => type.Name.Split('`')[0];

    private static string RepositoryRoot()
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
}
