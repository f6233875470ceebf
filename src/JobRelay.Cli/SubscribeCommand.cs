using System.CommandLine;
using JobRelay.Chaining;
using JobRelay.Model;
using Microsoft.Extensions.DependencyInjection;

namespace JobRelay.Cli;

/// <summary>
/// <c>jobrelay subscribe keboola TRIGGER --url PUBLIC_URL</c>: creates the Keboola notification subscriptions that
/// deliver the job-end events the trigger's <c>after</c> rules wait for.
/// </summary>
internal static class SubscribeCommand
{
    public static Command Create()
    {
        var trigger = new Argument<string>("trigger") { Description = "The chained trigger whose 'after' rules follow Keboola jobs." };
        var url = new Option<Uri>("--url")
        {
            Description = "JobRelay's public base URL, such as https://my-app.azurewebsites.net (the events route and its token are added).",
            Required = true,
            CustomParser = JobRelayCommandLine.ParseHttpUrl,
        };
        var keboola = new Command("keboola", "Subscribe to Keboola job-end notifications for a chained trigger.")
        {
            trigger, url, JobRelayCommandLine.TriggersOption(SandboxCatalog.FolderOrBuiltIn), JobRelayCommandLine.SandboxOption(),
        };
        keboola.SetAction(async (parse, cancellationToken) =>
        {
            await using var engine = await CliEngine.StartAsync(parse, cancellationToken);
            try
            {
                var created = await engine.Services.GetRequiredService<KeboolaSubscriptions>()
                    .SubscribeAsync(parse.GetValue(trigger)!, parse.GetValue(url)!, cancellationToken);
                foreach (var subscription in created)
                {
                    var plan = subscription.Plan;
                    Console.WriteLine($"Subscribed {plan.EventType} of {plan.Jobs} on {plan.Platform} (subscription {subscription.Id})");
                }

                return 0;
            }
            catch (RelayException ex)
            {
                await Console.Error.WriteLineAsync($"error: {ex.Message}");
                return ex.Kind is RelayErrorKind.InvalidInput or RelayErrorKind.NotFound ? 2 : 1;
            }
        });
        return new Command("subscribe", "Create the platform subscriptions that deliver job-end events for chaining.") { keboola };
    }
}
