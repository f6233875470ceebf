using System.CommandLine;

namespace JobRelay.Cli;

/// <summary>The <c>jobrelay</c> command and its verbs.</summary>
public static class JobRelayCommandLine
{
    internal static readonly Option<FileInfo?> TriggersOption = new("--triggers", "-t")
    {
        Description = "The trigger catalog file (default: JobRelay:Catalog:Path, else triggers.json; with --sandbox, the built-in sandbox catalog).",
    };

    internal static readonly Option<bool> SandboxOption = new("--sandbox")
    {
        Description = "Start in-process Keboola and TheEye emulators on loopback, point every platform at them and use their credentials: no account needed.",
    };

    internal static readonly Option<DirectoryInfo?> DataOption = new("--data")
    {
        Description = "The folder JobRelay keeps its state in: runs, delivery claims, pending starts, TheEye job secrets (default: JobRelay:Store:DataFolder, else ./.jobrelay; with --sandbox, ./.jobrelay/sandbox).",
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
        root.Subcommands.Add(FireCommand.Create());
        root.Subcommands.Add(StatusCommand.Create());
        root.Subcommands.Add(SubscribeCommand.Create());
        return root;
    }
}
