using System.CommandLine;
using JobRelay.Model;
using JobRelay.Runs;
using JobRelay.Web;
using Microsoft.Extensions.DependencyInjection;

namespace JobRelay.Cli;

/// <summary><c>jobrelay status</c>: a job's current status, normalised, read from its platform.</summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        var trigger = new Argument<string>("trigger") { Description = "The trigger whose platform ran the job." };
        var jobId = new Argument<string>("job-id") { Description = "The platform's job id." };
        var command = new Command("status", "Read a job's current status from its platform.")
        {
            trigger, jobId, JobRelayCommandLine.TriggersOption(withSandbox: false), JobRelayCommandLine.DataOption, JobRelayCommandLine.StoreOption,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            await using var engine = await CliEngine.StartAsync(parse, cancellationToken);
            var runner = engine.Services.GetRequiredService<TriggerRunner>();
            try
            {
                var definition = runner.GetTrigger(parse.GetValue(trigger)!);
                var status = await runner.GetStatusAsync(definition.Name, parse.GetValue(jobId)!, cancellationToken);
                var response = JobStatusResponse.From(definition.Name, definition.Platform, status);
                Console.WriteLine($"{response.JobId}: {response.State} ({response.RawStatus}){(response.IsFinal ? ", final" : string.Empty)}");
                if (response.Url is not null)
                {
                    Console.WriteLine($"  {response.Url}");
                }

                if (response.Message is { Length: > 0 })
                {
                    Console.WriteLine($"  {response.Message}");
                }

                return 0;
            }
            catch (RelayException ex)
            {
                await Console.Error.WriteLineAsync($"error: {ex.Message}");
                return 1;
            }
        });
        return command;
    }
}
