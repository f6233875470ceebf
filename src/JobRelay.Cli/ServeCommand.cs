using System.CommandLine;
using System.Security.Cryptography;
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

    public static Command Create()
    {
        var urls = new Option<string>("--urls") { Description = "Where to listen.", DefaultValueFactory = _ => DefaultUrl };
        var apiKey = new Option<string?>("--api-key") { Description = "The key the runs, catalog, status and readiness routes require in x-functions-key (default: JobRelay:Serve:ApiKey; 'sandbox' with --sandbox; otherwise a random key, printed at start)." };
        var command = new Command("serve", "Serve webhooks, API runs, job status and cron schedules locally.")
        {
            JobRelayCommandLine.TriggersOption, urls, JobRelayCommandLine.SandboxOption, apiKey, JobRelayCommandLine.DataOption, JobRelayCommandLine.StoreOption,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var sandboxMode = parse.GetValue(JobRelayCommandLine.SandboxOption);
            await using var sandbox = sandboxMode
                ? await SandboxSession.StartAsync(parse.GetValue(JobRelayCommandLine.TriggersOption)?.FullName, cancellationToken)
                : null;

            var builder = WebApplication.CreateSlimBuilder();
            CliConfiguration.AddSources(builder.Configuration, parse, sandbox?.Configuration);
            builder.WebHost.UseUrls(parse.GetValue(urls)!);
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);
            builder.Logging.ClearProviders().AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss ";
            });
            builder.Logging.AddFilter("Microsoft", LogLevel.Warning).AddFilter("System", LogLevel.Warning);
            builder.Services.AddJobRelay(builder.Configuration);
            builder.Services.AddJobRelaySchedulerLoop();
            builder.Services.AddJobRelaySweepLoop();
            builder.Services.AddProblemDetails();

            var key = parse.GetValue(apiKey)
                ?? builder.Configuration["JobRelay:Serve:ApiKey"]
                ?? (sandboxMode ? SandboxApiKey : Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)));

            var app = builder.Build();
            app.UseStatusCodePages();
            app.MapJobRelay(key);
            try
            {
                await app.StartAsync(cancellationToken);
            }
            catch (OptionsValidationException ex)
            {
                throw new CliStartupException(ex.Failures);
            }
            catch (IOException ex) when (ex.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
            {
                throw new CliStartupException([$"{parse.GetValue(urls)} is already in use: stop the other process or pass --urls http://127.0.0.1:<port>."]);
            }

            if (sandbox is not null)
            {
                await sandbox.SubscribeChainsAsync(app.Services, cancellationToken);
            }

            Banner.Print(app, key, sandbox, builder.Configuration);
            await app.WaitForShutdownAsync(cancellationToken);
            return 0;
        });
        return command;
    }
}
