using System.CommandLine;
using JobRelay.Cli;

try
{
    var parse = JobRelayCommandLine.Create().Parse(args);

    // serve drains on SIGTERM and Ctrl+C through its host, for as long as JobRelay:Serve:ShutdownTimeout allows;
    // the command line's own handling would cut that short after two seconds and exit 143.
    var drainsItself = parse.CommandResult.Command.Name == "serve";
    return await parse.InvokeAsync(new InvocationConfiguration
    {
        EnableDefaultExceptionHandler = false,
        ProcessTerminationTimeout = drainsItself ? null : TimeSpan.FromSeconds(2),
    });
}
catch (CliStartupException ex)
{
    await Console.Error.WriteLineAsync(ex.Message);
    return 1;
}
catch (OperationCanceledException)
{
    return 130;
}
