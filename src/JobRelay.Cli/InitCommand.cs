using System.CommandLine;
using JobRelay.Triggers;

namespace JobRelay.Cli;

/// <summary>
/// <c>jobrelay init</c>: a commented starter <c>triggers.json</c> (one trigger per platform and a sample webhook)
/// and the schema it names, so that an editor completes and checks it.
/// </summary>
internal static class InitCommand
{
    public const string CatalogFileName = "triggers.json";

    /// <summary>The starter catalog. The loader skips comments, so the catalog explains itself where it is edited.</summary>
    public const string StarterCatalog = """
        // JobRelay trigger catalog: everything JobRelay may start. Every field is described in triggers.schema.json.
        //   jobrelay validate                                   check it
        //   jobrelay serve --sandbox --triggers triggers.json   run it against the built-in Keboola and TheEye emulators
        //   jobrelay serve                                      run it for real (secrets from Key Vault or configuration)
        // Secrets are named here, never written: each name is a Key Vault secret, or locally the setting
        // JobRelay__Secrets__Values__<name> (with '_' for '-').
        {
          "$schema": "./triggers.schema.json",
          "platforms": {
            // A Keboola project, by stack (or by "url" for a single-tenant stack). eventSecret authenticates job-end events.
            "keboola": {
              "type": "keboola",
              "stack": "eu-frankfurt-aws",
              "tokenSecret": "keboola-storage-token",
              "eventSecret": "keboola-events-token"
            },
            // A TheEye organisation on https://supervisor.theeye.io (set "url" for another supervisor).
            "theeye": {
              "type": "theeye",
              "customer": "my-organisation",
              "accessTokenSecret": "theeye-access-token"
            }
          },
          "triggers": {
            // A Keboola configuration every night at 02:30 Prague time: 6-field cron, seconds first.
            "nightly-load": {
              "description": "Load yesterday's data every night",
              "platform": "keboola",
              "keboola": { "component": "keboola.ex-db-snowflake", "config": "123456" },
              "schedule": { "cron": "0 30 2 * * *", "timeZone": "Europe/Prague" }
            },
            // A TheEye task when a signed GitHub push reaches main: POST /api/hooks/deploy-on-push.
            // The pushed commit becomes the task's first argument.
            "deploy-on-push": {
              "description": "Deploy when main is pushed on GitHub",
              "platform": "theeye",
              "arguments": { "commit": { "from": "body:$.after", "required": true } },
              "theeye": { "task": "64f1c0ffee0123456789abcd", "taskArguments": ["{{commit}}"] },
              "webhook": {
                "scheme": "github",
                "secrets": ["github-webhook-secret"],
                "events": ["push"],
                "filters": [{ "field": "body:$.ref", "equals": "refs/heads/main" }]
              }
            },
            // Chaining: the Keboola job that follows a successful nightly load, given the load's job id.
            "after-nightly-load": {
              "description": "Rebuild the report when the nightly load succeeds",
              "platform": "keboola",
              "arguments": { "sourceJob": { "from": "event:$.job.id", "required": true } },
              "keboola": { "component": "keboola.orchestrator", "config": "654321", "variables": { "source_job": "{{sourceJob}}" } },
              "after": [{ "trigger": "nightly-load", "states": ["succeeded"] }]
            }
          }
        }

        """;

    public static Command Create()
    {
        // No default value: help would print it, and the working folder is wherever help was asked from.
        var folder = new Argument<DirectoryInfo?>("folder")
        {
            Description = "Where to write triggers.json and triggers.schema.json (default: the working folder).",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var force = new Option<bool>("--force") { Description = "Overwrite an existing triggers.json." };
        var command = new Command("init", "Write a commented starter triggers.json, with one trigger per platform and a sample webhook.")
        {
            folder, force,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var target = parse.GetValue(folder) ?? new DirectoryInfo(Directory.GetCurrentDirectory());
            target.Create();
            var catalogPath = Path.Combine(target.FullName, CatalogFileName);
            if (File.Exists(catalogPath) && !parse.GetValue(force))
            {
                await Console.Error.WriteLineAsync($"{catalogPath} already exists: check it with 'jobrelay validate', or pass --force to replace it.");
                return 1;
            }

            await File.WriteAllTextAsync(catalogPath, StarterCatalog, cancellationToken);
            await File.WriteAllTextAsync(Path.Combine(target.FullName, CatalogSchema.FileName), CatalogSchema.Json, cancellationToken);
            Console.WriteLine($"Wrote {catalogPath} and {CatalogSchema.FileName} beside it.");
            Console.WriteLine("Next:");
            Console.WriteLine("  jobrelay validate                                   check the catalog");
            Console.WriteLine("  jobrelay serve --sandbox --triggers triggers.json   try it against the built-in emulators");
            return 0;
        });
        return command;
    }

    /// <summary>What <c>validate</c> and <c>serve</c> say when there is no catalog where they look.</summary>
    public static string NoCatalogMessage(string path)
        => $"There is no trigger catalog at {path}. Create a starter one with 'jobrelay init', or name a catalog with --triggers FILE.";
}
