using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobRelay.Cli;

/// <summary>The engine, without a web server, for one-shot commands (<c>fire</c>, <c>status</c>, <c>subscribe</c>, <c>runs</c>).</summary>
internal sealed class CliEngine : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly SandboxSession? _sandbox;

    private CliEngine(IHost host, SandboxSession? sandbox)
    {
        _host = host;
        _sandbox = sandbox;
    }

    public IServiceProvider Services => _host.Services;

    /// <summary>
    /// The engine without emulators, whatever the command's options, with <paramref name="settings"/> over its
    /// configuration sources: for commands that only read the stored state.
    /// </summary>
    public static Task<CliEngine> StartStoredAsync(ParseResult parse, IReadOnlyDictionary<string, string?> settings, CancellationToken cancellationToken)
        => StartAsync(parse, sandbox: null, settings, cancellationToken);

    public static Task<CliEngine> StartAsync(ParseResult parse, CancellationToken cancellationToken)
        => StartAsync(parse, settings: null, cancellationToken);

    /// <summary>The engine, with the emulators when the command was given <c>--sandbox</c>, and <paramref name="settings"/> over its configuration.</summary>
    public static async Task<CliEngine> StartAsync(ParseResult parse, IReadOnlyDictionary<string, string?>? settings, CancellationToken cancellationToken)
    {
        SandboxSession? sandbox = null;
        if (parse.Sandbox())
        {
            // A one-shot command runs the catalog of the folder it is run in, as serve without --sandbox would.
            var catalog = SandboxSession.FolderCatalog(parse);
            sandbox = await SandboxSession.StartAsync(catalog, cancellationToken);
            Console.WriteLine(catalog is null
                ? "Sandbox: the built-in sandbox catalog (there is no triggers.json here; name one with --triggers), against the built-in emulators."
                : $"Sandbox: the catalog {catalog}, against the built-in emulators.");
        }

        return await StartAsync(parse, sandbox, settings, cancellationToken);
    }

    private static async Task<CliEngine> StartAsync(ParseResult parse, SandboxSession? sandbox, IReadOnlyDictionary<string, string?>? settings, CancellationToken cancellationToken)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        CliConfiguration.AddSources(builder.Configuration, parse, sandbox?.Configuration, settings);

        // A one-shot command's output is its answer: log lines go to standard error.
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning)
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Services.AddJobRelay(builder.Configuration);
        var host = builder.Build();
        try
        {
            CliStartup.Validate(host.Services);
            await host.StartAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is OptionsValidationException or CliStartupException)
        {
            host.Dispose();
            if (sandbox is not null)
            {
                await sandbox.DisposeAsync();
            }

            throw ex as CliStartupException ?? new CliStartupException(((OptionsValidationException)ex).Failures);
        }

        return new CliEngine(host, sandbox);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        if (_sandbox is not null)
        {
            await _sandbox.DisposeAsync();
        }
    }
}

/// <summary>Checks settings and catalog before the host starts, so that a bad one is reported as its errors alone.</summary>
internal static class CliStartup
{
    /// <summary>
    /// Runs every start-up validation (the catalog's among them) ahead of the host, whose own start would log the
    /// failure with a stack trace before the command could print it.
    /// </summary>
    public static void Validate(IServiceProvider services)
    {
        try
        {
            services.GetService<IStartupValidator>()?.Validate();
        }
        catch (OptionsValidationException ex)
        {
            throw new CliStartupException(ex.Failures);
        }
        catch (AggregateException ex) when (ex.InnerExceptions.All(e => e is OptionsValidationException))
        {
            throw new CliStartupException(ex.InnerExceptions.SelectMany(e => ((OptionsValidationException)e).Failures));
        }
    }
}

/// <summary>The settings or catalog did not pass validation at start; every failure is listed.</summary>
internal sealed class CliStartupException(IEnumerable<string> failures)
    : Exception("JobRelay cannot start:" + Environment.NewLine + string.Join(Environment.NewLine, failures.Select(f => "  " + f)));
