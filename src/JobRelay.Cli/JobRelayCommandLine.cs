using System.CommandLine;
using System.CommandLine.Parsing;

namespace JobRelay.Cli;

/// <summary>The <c>jobrelay</c> command and its verbs.</summary>
public static class JobRelayCommandLine
{
    private const string TriggersName = "--triggers";
    private const string SandboxName = "--sandbox";

    internal static readonly Option<DirectoryInfo?> DataOption = new("--data")
    {
        Description = "The folder JobRelay keeps its state in: runs, delivery claims, pending starts, TheEye job secrets (default: JobRelay:Store:DataFolder, else ./.jobrelay).",
    };

    internal static readonly Option<string?> StoreOption = new("--store")
    {
        Description = "Where the state lives: sqlite (a file in --data, the default) or tables (Azure Table Storage at JobRelay:Store:TableServiceUri, shared by several machines).",
    };

    public static RootCommand Create()
    {
        var root = new RootCommand("JobRelay turns webhooks, schedules and job-end events into jobs on Keboola and TheEye.");
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(ValidateCommand.Create());
        root.Subcommands.Add(InitCommand.Create());
        root.Subcommands.Add(FireCommand.Create());
        root.Subcommands.Add(StatusCommand.Create());
        root.Subcommands.Add(SubscribeCommand.Create());
        root.Subcommands.Add(RunsCommand.Create());
        root.Subcommands.Add(EventsCommand.Create());
        return root;
    }

    /// <summary>
    /// The <c>--triggers</c> option. Each command gets its own instance, so that its help speaks of <c>--sandbox</c>
    /// only where the command takes it, and says which catalog the sandbox runs without one.
    /// </summary>
    internal static Option<FileInfo?> TriggersOption(SandboxCatalog sandbox) => new(TriggersName, "-t")
    {
        Description = sandbox switch
        {
            SandboxCatalog.FolderOrBuiltIn => "The trigger catalog file (default: JobRelay:Catalog:Path, else triggers.json; with --sandbox, that file when it exists, else the built-in sandbox catalog).",
            SandboxCatalog.BuiltIn => "The trigger catalog file (default: JobRelay:Catalog:Path, else triggers.json; with --sandbox, the built-in sandbox catalog).",
            _ => "The trigger catalog file (default: JobRelay:Catalog:Path, else triggers.json).",
        },
    };

    internal static Option<bool> SandboxOption() => new(SandboxName)
    {
        Description = "Start in-process Keboola and TheEye emulators on loopback, point every platform at them and use their credentials: no account needed.",
    };

    /// <summary>The <c>--triggers</c> value of the invoked command, or null when it was not given (or the command has no such option).</summary>
    internal static FileInfo? Triggers(this ParseResult parse)
        => parse.CommandResult.Command.Options.OfType<Option<FileInfo?>>().FirstOrDefault(o => o.Name == TriggersName) is { } option
            ? parse.GetValue(option)
            : null;

    /// <summary>
    /// Reads an absolute http or https URL. The command line has no conversion of its own to <see cref="Uri"/>: without
    /// this parser the value would fail only when the command reads it.
    /// </summary>
    internal static Uri? ParseHttpUrl(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : string.Empty;
        if (Uri.TryCreate(text, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttps || url.Scheme == Uri.UriSchemeHttp) && url.Host.Length > 0)
        {
            return url;
        }

        var name = result.Parent is OptionResult option ? option.Option.Name : "the value";
        result.AddError($"{name} must be an absolute http or https URL, such as https://my-app.azurewebsites.net; '{text}' is not.");
        return null;
    }

    /// <summary>Whether the invoked command was given <c>--sandbox</c>.</summary>
    internal static bool Sandbox(this ParseResult parse)
        => parse.CommandResult.Command.Options.OfType<Option<bool>>().FirstOrDefault(o => o.Name == SandboxName) is { } option
            && parse.GetValue(option);
}

/// <summary>Which catalog a command runs with <c>--sandbox</c> and no <c>--triggers</c>.</summary>
internal enum SandboxCatalog
{
    /// <summary>The command takes no <c>--sandbox</c>.</summary>
    None,

    /// <summary>The built-in sandbox catalog (<c>serve</c>, whose walkthrough uses it).</summary>
    BuiltIn,

    /// <summary>The folder's catalog when there is one, else the built-in one (the one-shot commands).</summary>
    FolderOrBuiltIn,
}
