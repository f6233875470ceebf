using System.CommandLine;
using JobRelay.Cli;

try
{
    return await JobRelayCommandLine.Create().Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
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
