using JobRelay.Hosting;
using JobRelay.Model;
using JobRelay.State;
using JobRelay.Web;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace JobRelay.Cli;

/// <summary>What <c>jobrelay serve</c> prints once it listens: where, with which key, and what it serves.</summary>
internal static class Banner
{
    public static void Print(WebApplication app, ServeApiKey apiKey, SandboxSession? sandbox, IConfiguration configuration, IReadOnlyList<UnreadableSecret>? unreadable)
    {
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() ?? ServeCommand.DefaultUrl;
        Write(Console.Out, address, app.Services.GetRequiredService<CatalogSource>().Catalog, apiKey, sandbox, configuration, unreadable, app.Services.GetRequiredService<IOptions<StoreOptions>>().Value);
    }

    public static void Write(TextWriter output, string address, TriggerCatalog catalog, ServeApiKey apiKey, SandboxSession? sandbox, IConfiguration configuration, IReadOnlyList<UnreadableSecret>? unreadable = null, StoreOptions? store = null)
    {
        output.WriteLine();
        output.WriteLine($"JobRelay is listening on {address}");
        output.WriteLine($"  catalog   {(sandbox is null ? configuration.CatalogPath() : sandbox.CatalogDescription)}");
        output.WriteLine($"  secrets   {(string.IsNullOrEmpty(configuration["JobRelay:KeyVault:VaultUri"]) ? "from configuration (jobrelay.local.json, user secrets, environment)" : "from Key Vault " + configuration["JobRelay:KeyVault:VaultUri"])}");
        if (unreadable is null)
        {
            output.WriteLine("            still checking that every secret can be read; unreadable ones are logged as warnings");
        }
        else
        {
            foreach (var secret in unreadable)
            {
                output.WriteLine($"  warning   secret '{secret.Name}' cannot be read ({Problems.Describe(secret.Kind).Type}): runs that need it fail until it is set");
            }
        }

        if (store is not null)
        {
            output.WriteLine($"  state     {(store.Kind == StoreKind.Tables ? "Azure Table Storage, table " + store.TableName : store.SqlitePath)} (kept {store.Retention.TotalDays:0.#} days)");
        }

        output.WriteLine($"  API key   x-functions-key: {apiKey.Shown}");
        output.WriteLine($"  dashboard {address}/dashboard (runs, lineage, operator actions; it asks for the API key)");
        if (sandbox is not null)
        {
            output.WriteLine($"  sandbox   Keboola emulator {sandbox.KeboolaUrl}, TheEye emulator {sandbox.TheEyeUrl}");
            output.WriteLine($"  received  GET {sandbox.JobsUrl} lists every job the emulators created, with its request");
            if (catalog.Subscriptions.Count > 0)
            {
                output.WriteLine($"  receiver  GET {sandbox.ReceivedUrl} lists the events delivered to the sandbox (signed webhooks verified, Slack and Teams messages)");
            }
            var chained = catalog.Triggers.Values.Count(t => t.After.Count > 0);
            output.WriteLine($"  chaining  {chained} chained trigger(s) start when JobRelay's watch sees their parent job end"
                + (sandbox.ChainedTriggers > 0 ? $"; the Keboola emulator also notifies {sandbox.ChainedTriggers} of them" : string.Empty));
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
