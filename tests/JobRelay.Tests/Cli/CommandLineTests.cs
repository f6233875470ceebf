using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using JobRelay.Cli;
using JobRelay.Model;
using JobRelay.Triggers;
using JobRelay.Webhooks;
using static JobRelay.Tests.Webhooks.WebhookTestKit;

namespace JobRelay.Tests.Cli;

public sealed partial class CommandLineTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("jobrelay-cli-");

    public static TheoryData<string> Commands()
    {
        var data = new TheoryData<string>();
        foreach (var path in CommandPaths(JobRelayCommandLine.Create(), []))
        {
            data.Add(string.Join(' ', path));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public async Task EveryCommandsHelpNamesExactlyTheOptionsItTakes(string commandPath)
    {
        var root = JobRelayCommandLine.Create();
        var path = commandPath.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Command command = root;
        foreach (var name in path)
        {
            command = command.Subcommands.Single(c => c.Name == name);
        }

        using var output = new StringWriter(CultureInfo.InvariantCulture);
        var exit = await root.Parse([.. path, "--help"]).InvokeAsync(new InvocationConfiguration { Output = output, Error = output });

        var help = output.ToString();
        Assert.Equal(0, exit);
        var taken = command.Options.Concat(root.Options.Where(o => o.Recursive))
            .SelectMany(o => o.Aliases.Append(o.Name)).Where(n => n.StartsWith("--", StringComparison.Ordinal)).ToHashSet(StringComparer.Ordinal);
        var mentioned = OptionName().Matches(help).Select(m => m.Value).ToHashSet(StringComparer.Ordinal);
        Assert.Empty(mentioned.Except(taken));
        Assert.All(command.Options.Where(o => !o.Hidden), o => Assert.Contains(o.Name, help, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ValidateRefusesSandboxAndItsHelpNeverOffersItWhileStatusTakesIt()
    {
        var root = JobRelayCommandLine.Create();
        Assert.Contains(root.Parse(["validate", "--sandbox"]).Errors, e => e.Message.Contains("--sandbox", StringComparison.Ordinal));
        Assert.Empty(root.Parse(["status", "nightly-load", "1000001", "--sandbox"]).Errors);

        using var validateHelp = new StringWriter(CultureInfo.InvariantCulture);
        await root.Parse(["validate", "--help"]).InvokeAsync(new InvocationConfiguration { Output = validateHelp });
        Assert.DoesNotContain("sandbox", validateHelp.ToString(), StringComparison.Ordinal);

        using var statusHelp = new StringWriter(CultureInfo.InvariantCulture);
        await JobRelayCommandLine.Create().Parse(["status", "--help"]).InvokeAsync(new InvocationConfiguration { Output = statusHelp });
        Assert.Contains("--sandbox", statusHelp.ToString(), StringComparison.Ordinal);
        Assert.Contains("with --sandbox, that file when it exists, else the built-in sandbox catalog", statusHelp.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task InitWritesACommentedStarterCatalogThatValidatesWithOneTriggerPerPlatformAndAWebhook()
    {
        var exit = await Invoke("init", _folder.FullName);

        Assert.Equal(0, exit);
        var text = await File.ReadAllTextAsync(Path.Combine(_folder.FullName, "triggers.json"));
        Assert.StartsWith("// JobRelay trigger catalog", text, StringComparison.Ordinal);
        Assert.Contains("\"$schema\": \"./triggers.schema.json\"", text, StringComparison.Ordinal);
        Assert.Equal(CatalogSchema.Json, await File.ReadAllTextAsync(Path.Combine(_folder.FullName, "triggers.schema.json")));

        var load = await TriggerCatalogLoader.LoadFileAsync(Path.Combine(_folder.FullName, "triggers.json"), CancellationToken.None);
        Assert.Empty(load.Errors);
        var catalog = load.Catalog!;
        Assert.Equal(["keboola", "theeye"], catalog.Platforms.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(
            [("after-nightly-load", "keboola"), ("deploy-on-push", "theeye"), ("nightly-load", "keboola")],
            catalog.Triggers.Values.OrderBy(t => t.Name, StringComparer.Ordinal).Select(t => (t.Name, t.Platform)));
        Assert.Equal(WebhookScheme.GitHub, catalog.Triggers["deploy-on-push"].Webhook!.Scheme);
        Assert.NotNull(catalog.Triggers["nightly-load"].Schedule);
        Assert.Equal(0, await Invoke("validate", "--triggers", Path.Combine(_folder.FullName, "triggers.json")));
    }

    [Fact]
    public async Task InitHelpPrintsNoPathOfTheMachineItRunsOn()
    {
        using var output = new StringWriter(CultureInfo.InvariantCulture);

        Assert.Equal(0, await JobRelayCommandLine.Create().Parse(["init", "--help"]).InvokeAsync(new InvocationConfiguration { Output = output }));

        var help = output.ToString();
        Assert.Contains("(default: the working folder)", help, StringComparison.Ordinal);
        Assert.DoesNotContain(Directory.GetCurrentDirectory(), help, StringComparison.Ordinal);
        Assert.DoesNotContain("[default:", help, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InitLeavesAnExistingCatalogAloneUnlessForced()
    {
        var catalogPath = Path.Combine(_folder.FullName, "triggers.json");
        await File.WriteAllTextAsync(catalogPath, "{}");

        Assert.Equal(1, await Invoke("init", _folder.FullName));
        Assert.Equal("{}", await File.ReadAllTextAsync(catalogPath));
        Assert.Equal(0, await Invoke("init", _folder.FullName, "--force"));
        Assert.Equal(InitCommand.StarterCatalog, await File.ReadAllTextAsync(catalogPath));
    }

    [Fact]
    public async Task ValidateWithoutACatalogPointsAtInit()
    {
        var missing = Path.Combine(_folder.FullName, "triggers.json");

        Assert.Equal(1, await Invoke("validate", "--triggers", missing));
        Assert.Equal(
            $"There is no trigger catalog at {missing}. Create a starter one with 'jobrelay init', or name a catalog with --triggers FILE.",
            InitCommand.NoCatalogMessage(missing));
    }

    [Fact]
    public async Task TheSandboxGivesStandardWebhooksAndSvixTriggersASecretThatVerifies()
    {
        var catalogPath = Path.Combine(_folder.FullName, "triggers.json");
        await File.WriteAllTextAsync(catalogPath, """
            {
              "platforms": { "eye": { "type": "theeye", "customer": "acme", "accessTokenSecret": "eye-token" } },
              "triggers": {
                "standard": { "platform": "eye", "theeye": { "task": "t" }, "webhook": { "scheme": "standardWebhooks", "secrets": ["standard-secret"] } },
                "svix": { "platform": "eye", "theeye": { "task": "t" }, "webhook": { "scheme": "svix", "secrets": ["svix-secret"] } },
                "token": { "platform": "eye", "theeye": { "task": "t" }, "webhook": { "scheme": "token", "secrets": ["token-secret"] } }
              }
            }
            """);

        await using var session = await SandboxSession.StartAsync(catalogPath, CancellationToken.None);

        Assert.Equal(SandboxSession.SigningSecret, session.Configuration["JobRelay:Secrets:Values:standard-secret"]);
        Assert.Equal(SandboxSession.SigningSecret, session.Configuration["JobRelay:Secrets:Values:svix-secret"]);
        Assert.Equal(SandboxSession.WebhookSecret, session.Configuration["JobRelay:Secrets:Values:token-secret"]);
        var clock = ClockAtUnix(1_760_000_000);
        const string body = """{"type":"invoice.paid"}""";
        var key = Convert.FromBase64String(SandboxSession.SigningSecret["whsec_".Length..]);
        var signature = "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"msg_1.1760000000.{body}")));
        var delivery = Delivery(body, [("svix-id", "msg_1"), ("svix-timestamp", "1760000000"), ("svix-signature", signature)]);
        var verified = Verifier(WebhookScheme.Svix, clock).Verify(delivery, new WebhookVerifierSettings(WebhookScheme.Svix), ActiveSecrets(SandboxSession.SigningSecret));
        Assert.Equal("msg_1", AssertVerified(verified).DeliveryId);
    }

    public void Dispose() => _folder.Delete(recursive: true);

    private static Task<int> Invoke(params string[] args)
        => JobRelayCommandLine.Create().Parse(args).InvokeAsync(new InvocationConfiguration { Output = TextWriter.Null, Error = TextWriter.Null });

    private static IEnumerable<string[]> CommandPaths(Command command, string[] path)
    {
        foreach (var sub in command.Subcommands)
        {
            string[] subPath = [.. path, sub.Name];
            yield return subPath;
            foreach (var deeper in CommandPaths(sub, subPath))
            {
                yield return deeper;
            }
        }
    }

    [GeneratedRegex(@"(?<![\w-])--[a-z][a-z-]*")]
    private static partial Regex OptionName();
}
