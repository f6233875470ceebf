using System.CommandLine;
using JobRelay.Hosting;
using JobRelay.Http;
using JobRelay.Scheduling;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobRelay.Cli;

/// <summary><c>jobrelay serve</c>: the same HTTP surface and scheduler as the Functions app, on Kestrel.</summary>
internal static class ServeCommand
{
    public const string DefaultUrl = "http://127.0.0.1:5080";
    public const string SandboxApiKey = "sandbox";

    /// <summary>Where the sandbox listens when the default port is taken and no <c>--urls</c> was given: a free port.</summary>
    public const string FallbackUrl = "http://127.0.0.1:0";

    private static readonly TimeSpan SecretsCheckWait = TimeSpan.FromSeconds(5);

    public static Command Create()
    {
        var urls = new Option<string>("--urls") { Description = "Where to listen, such as http://127.0.0.1:5081 (with --sandbox, a free port when the default one is taken).", DefaultValueFactory = _ => DefaultUrl };
        var apiKey = new Option<string?>("--api-key") { Description = "The key the runs, catalog, status and readiness routes require in x-functions-key (default: JobRelay:Serve:ApiKey; 'sandbox' with --sandbox; otherwise a random key, printed at start; a key you give is never printed)." };
        var sandboxOption = JobRelayCommandLine.SandboxOption();
        var command = new Command("serve", "Serve webhooks, API runs, job status and cron schedules locally.")
        {
            JobRelayCommandLine.TriggersOption(SandboxCatalog.BuiltIn), urls, sandboxOption, apiKey, JobRelayCommandLine.DataOption, JobRelayCommandLine.StoreOption,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var sandboxMode = parse.Sandbox();
            await using var sandbox = sandboxMode
                ? await SandboxSession.StartAsync(parse.Triggers()?.FullName, cancellationToken)
                : null;

            var url = parse.GetValue(urls)!;
            var urlsGiven = parse.GetResult(urls) is { Implicit: false };
            var app = Build(parse, sandbox, url, parse.GetValue(apiKey), out var key, out var configuration);
            try
            {
                if (sandbox is null && !File.Exists(configuration.CatalogPath()))
                {
                    throw new CliStartupException([InitCommand.NoCatalogMessage(configuration.CatalogPath())]);
                }

                if (!await TryStartAsync(app, cancellationToken))
                {
                    if (sandbox is null || urlsGiven)
                    {
                        throw new CliStartupException([$"{url} is already in use: stop the other process or pass --urls http://127.0.0.1:<port>."]);
                    }

                    await app.DisposeAsync();
                    await Console.Out.WriteLineAsync($"{url} is already in use; the sandbox listens on a free port instead (choose one with --urls).");
                    app = Build(parse, sandbox, FallbackUrl, parse.GetValue(apiKey), out key, out configuration);
                    if (!await TryStartAsync(app, cancellationToken))
                    {
                        throw new CliStartupException(["No free loopback port was found: pass --urls http://127.0.0.1:<port>."]);
                    }
                }

                if (sandbox is not null)
                {
                    await sandbox.SubscribeChainsAsync(app.Services, cancellationToken);
                }

                Banner.Print(app, key, sandbox, configuration, await UnreadableSecretsAsync(app, cancellationToken));

                // SIGTERM and Ctrl+C reach the host's console lifetime (Program.cs leaves them to it for serve), which
                // stops accepting and lets requests in flight finish within JobRelay:Serve:ShutdownTimeout.
                await app.WaitForShutdownAsync(cancellationToken);
                return 0;
            }
            finally
            {
                await app.DisposeAsync();
            }
        });
        return command;
    }

    private static WebApplication Build(ParseResult parse, SandboxSession? sandbox, string url, string? apiKeyOption, out ServeApiKey key, out IConfiguration configuration)
    {
        var builder = WebApplication.CreateSlimBuilder();
        CliConfiguration.AddSources(builder.Configuration, parse, sandbox?.Configuration);
        if (sandbox is not null && string.IsNullOrEmpty(builder.Configuration["JobRelay:Outbound:DashboardUrl"]) && url != FallbackUrl)
        {
            // The sandbox's Slack and Teams messages link each run on this host's dashboard.
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["JobRelay:Outbound:DashboardUrl"] = url.TrimEnd('/') + "/dashboard" });
        }

        // The catalog's first check is the longest step of the start: it runs while the host is built, and the
        // start-up validation below finds it warm.
        _ = CatalogWarmUp.Start(builder.Configuration);

        builder.WebHost.UseUrls(url);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);
        builder.Logging.ClearProviders().AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        });
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning).AddFilter("System", LogLevel.Warning);

        // A start that fails is reported by serve in one line; the host's own report repeats it with a stack trace.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);
        builder.Services.AddJobRelay(builder.Configuration);
        builder.Services.AddJobRelaySchedulerLoop();
        builder.Services.AddJobRelaySweepLoop();
        builder.Services.AddJobRelaySecretsStartupCheck();
        builder.Services.AddJobRelayCatalogWarningLog();
        builder.Services.AddJobRelayWebHost(builder.Configuration);
        builder.Services.AddJobRelayServeTelemetry(builder.Configuration);
        builder.Services.AddJobRelayOpenApi();

        key = ServeApiKey.Choose(apiKeyOption, builder.Configuration["JobRelay:Serve:ApiKey"], sandbox is not null);
        configuration = builder.Configuration;

        WebApplication app;
        try
        {
            app = builder.Build();
        }
        catch (OptionsValidationException ex)
        {
            throw new CliStartupException(ex.Failures);
        }

        app.UseJobRelayWebHost();
        app.MapJobRelay(key.Value);
        app.MapJobRelayOpenApi();
        return app;
    }

    /// <summary>Starts the host; false when its address is taken.</summary>
    private static async Task<bool> TryStartAsync(WebApplication app, CancellationToken cancellationToken)
    {
        try
        {
            CliStartup.Validate(app.Services);
            await app.StartAsync(cancellationToken);
            return true;
        }
        catch (OptionsValidationException ex)
        {
            throw new CliStartupException(ex.Failures);
        }
        catch (IOException ex) when (ex.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
        {
            // The services that started before the server (the scheduler, the sweep) stop before the host is disposed.
            await app.StopAsync(CancellationToken.None);
            return false;
        }
    }

    /// <summary>The secrets the start-up check could not read, or null when it has not finished in a few seconds (a slow vault).</summary>
    private static async Task<IReadOnlyList<UnreadableSecret>?> UnreadableSecretsAsync(WebApplication app, CancellationToken cancellationToken)
    {
        try
        {
            return await app.Services.GetRequiredService<SecretsStartupCheck>().Completion.WaitAsync(SecretsCheckWait, cancellationToken);
        }
        catch (TimeoutException)
        {
            return null;
        }
    }
}
