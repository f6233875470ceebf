using System.CommandLine;
using Microsoft.Extensions.Configuration;

namespace JobRelay.Cli;

/// <summary>
/// Where the command's settings come from, lowest first: built-in defaults, <c>jobrelay.local.json</c> in the working
/// folder, user secrets, environment variables, then the command's own options (and the sandbox's endpoints and
/// credentials). Secrets come from this configuration unless <c>JobRelay:KeyVault:VaultUri</c> is set.
/// </summary>
internal static class CliConfiguration
{
    public const string LocalFile = "jobrelay.local.json";

    public static IConfigurationRoot Build(ParseResult parse, IReadOnlyDictionary<string, string?>? sandbox)
    {
        var builder = new ConfigurationBuilder();
        AddSources(builder, parse, sandbox);
        return builder.Build();
    }

    /// <param name="settings">The command's own settings, over every source but its options.</param>
    public static void AddSources(IConfigurationBuilder builder, ParseResult parse, IReadOnlyDictionary<string, string?>? sandbox, IReadOnlyDictionary<string, string?>? settings = null)
    {
        builder
            .AddInMemoryCollection(new Dictionary<string, string?> { ["JobRelay:Catalog:Path"] = "triggers.json" })
            .AddJsonFile(Path.GetFullPath(LocalFile), optional: true, reloadOnChange: false)
            .AddUserSecrets(typeof(CliConfiguration).Assembly, optional: true)
            .AddEnvironmentVariables();
        if (sandbox is not null)
        {
            // Sandbox jobs live only as long as the emulators: their runs are kept apart from real ones.
            builder.AddInMemoryCollection(new Dictionary<string, string?> { ["JobRelay:Store:DataFolder"] = SandboxDataFolder });
            builder.AddInMemoryCollection(sandbox);
        }

        if (settings is not null)
        {
            builder.AddInMemoryCollection(settings);
        }

        if (parse.GetValue(JobRelayCommandLine.DataOption) is { } data)
        {
            builder.AddInMemoryCollection(new Dictionary<string, string?> { ["JobRelay:Store:DataFolder"] = data.FullName });
        }

        if (parse.GetValue(JobRelayCommandLine.StoreOption) is { } store)
        {
            builder.AddInMemoryCollection(new Dictionary<string, string?> { ["JobRelay:Store:Kind"] = store });
        }

        if (parse.Triggers() is { } triggers)
        {
            builder.AddInMemoryCollection(new Dictionary<string, string?> { ["JobRelay:Catalog:Path"] = triggers.FullName });
        }
    }

    /// <summary>The sandbox's data folder, under the working folder: its runs are kept apart from real ones.</summary>
    public static string SandboxDataFolder => Path.Combine(".jobrelay", "sandbox");

    public static string CatalogPath(this IConfiguration configuration)
        => Path.GetFullPath(configuration["JobRelay:Catalog:Path"] ?? "triggers.json");
}
