using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobRelay.Cli;

/// <summary>The engine, without a web server, for one-shot commands (<c>fire</c>, <c>status</c>).</summary>
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

    public static async Task<CliEngine> StartAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        var sandbox = parse.Sandbox()
            ? await SandboxSession.StartAsync(parse.Triggers()?.FullName, cancellationToken)
            : null;
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        CliConfiguration.AddSources(builder.Configuration, parse, sandbox?.Configuration);
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddJobRelay(builder.Configuration);
        var host = builder.Build();
        try
        {
            await host.StartAsync(cancellationToken);
        }
        catch (OptionsValidationException ex)
        {
            host.Dispose();
            if (sandbox is not null)
            {
                await sandbox.DisposeAsync();
            }

            throw new CliStartupException(ex.Failures);
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

/// <summary>The settings or catalog did not pass validation at start; every failure is listed.</summary>
internal sealed class CliStartupException(IEnumerable<string> failures)
    : Exception("JobRelay cannot start:" + Environment.NewLine + string.Join(Environment.NewLine, failures.Select(f => "  " + f)));
