using JobRelay.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace JobRelay.Cli;

/// <summary>What <c>jobrelay serve</c> prints once it listens: where, with which key, and what it serves.</summary>
internal static class Banner
{
    public static void Print(WebApplication app, string apiKey, SandboxSession? sandbox, IConfiguration configuration)
    {
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() ?? ServeCommand.DefaultUrl;
        var catalog = app.Services.GetRequiredService<CatalogSource>().Catalog;
        var output = Console.Out;
        output.WriteLine();
        output.WriteLine($"JobRelay is listening on {address}");
        output.WriteLine($"  catalog   {(sandbox is null ? configuration.CatalogPath() : sandbox.CatalogDescription)}");
        output.WriteLine($"  secrets   {(string.IsNullOrEmpty(configuration["JobRelay:KeyVault:VaultUri"]) ? "from configuration (jobrelay.local.json, user secrets, environment)" : "from Key Vault " + configuration["JobRelay:KeyVault:VaultUri"])}");
        var store = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<JobRelay.State.StoreOptions>>().Value;
        output.WriteLine($"  state     {(store.Kind == JobRelay.State.StoreKind.Tables ? "Azure Table Storage, table " + store.TableName : store.SqlitePath)} (kept {store.Retention.TotalDays:0.#} days)");
        output.WriteLine($"  API key   x-functions-key: {apiKey}");
        if (sandbox is not null)
        {
            output.WriteLine($"  sandbox   Keboola emulator {sandbox.KeboolaUrl}, TheEye emulator {sandbox.TheEyeUrl}");
            output.WriteLine($"  chaining  the Keboola emulator notifies {sandbox.ChainedTriggers} chained trigger(s) when their jobs end");
        }

        output.WriteLine();
        output.WriteLine("Triggers:");
        foreach (var trigger in catalog.Triggers.Values.OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            var entry = new List<string> { $"POST {address}/api/triggers/{trigger.Name}/runs" };
            if (trigger.Webhook is not null)
            {
                entry.Add($"hook {address}/api/hooks/{trigger.Name} ({trigger.Webhook.Scheme})");
            }

            if (trigger.Schedule is not null)
            {
                entry.Add($"cron '{trigger.Schedule.Cron}' {trigger.Schedule.TimeZone.Id}");
            }

            output.WriteLine($"  {trigger.Name,-22} {string.Join("; ", entry)}");
        }

        output.WriteLine();
        output.WriteLine("Press Ctrl+C to stop.");
        output.WriteLine();
    }
}
