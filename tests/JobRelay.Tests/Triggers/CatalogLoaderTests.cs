using System.Text.Json.Nodes;
using JobRelay.Model;
using JobRelay.Triggers;

namespace JobRelay.Tests.Triggers;

public sealed class CatalogLoaderTests
{
    private const string Platforms = """
        "platforms": {
          "kbc": { "type": "keboola", "stack": "eu-frankfurt-aws", "tokenSecret": "kbc-token" },
          "eye": { "type": "theeye", "customer": "acme", "accessTokenSecret": "eye-token" }
        }
        """;

    private static CatalogLoadResult LoadTriggers(string triggers) => TriggerCatalogLoader.Parse($$"""{ {{Platforms}}, "triggers": { {{triggers}} } }""");

    private static TriggerCatalog Valid(string triggers)
    {
        var result = LoadTriggers(triggers);
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        return result.Catalog!;
    }

    [Fact]
    public void TheShippedExampleCatalogLoadsWithoutErrors()
    {
        var result = TriggerCatalogLoader.Parse(File.ReadAllText(RepoFile("triggers.json")));

        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        Assert.Equal(4, result.Catalog!.Triggers.Count);
        Assert.Equal(new Uri("https://queue.eu-central-1.keboola.com/"), result.Catalog.Platforms["keboola"].Url);
        Assert.Equal(new Uri("https://supervisor.theeye.io/"), result.Catalog.Platforms["theeye"].Url);
    }

    [Fact]
    public void AKeboolaTriggerKeepsEveryJobField()
    {
        var catalog = Valid("""
            "full": {
              "platform": "kbc",
              "description": "all of it",
              "enabled": false,
              "keboola": {
                "component": "keboola.ex-db-snowflake", "mode": "forceRun", "config": 493493, "configRowIds": ["1", 2],
                "configData": { "parameters": { "x": 1 } }, "tag": "1.2.3", "branchId": 77, "variables": { "a": "b" },
                "backend": { "type": "large", "context": "wh" }, "delay": 60, "parallelism": "infinity", "parentRunId": "123"
              }
            }
            """);

        var trigger = catalog.Triggers["full"];
        var job = trigger.Keboola!;
        Assert.False(trigger.Enabled);
        Assert.Equal(PlatformKind.Keboola, trigger.PlatformKind);
        Assert.Equal("493493", job.Config!.Source);
        Assert.Equal(["1", "2"], job.ConfigRowIds!.Select(r => r.Source));
        Assert.Equal("77", job.BranchId!.Source);
        Assert.Equal("infinity", job.Parallelism);
        Assert.Equal(60, job.DelaySeconds);
        Assert.Equal("large", job.BackendType!.Source);
    }

    [Fact]
    public void ATheeyeTriggerWithASecretKeyKeepsItsTaskArgumentsAndSecretName()
    {
        var catalog = Valid("""
            "eye-task": {
              "platform": "eye",
              "arguments": { "who": { "default": "world" } },
              "theeye": { "task": "t1", "taskArguments": ["{{who}}", null, 3], "auth": "taskSecretKey", "secretKeySecret": "task-key" }
            }
            """);

        var job = catalog.Triggers["eye-task"].TheEye!;
        Assert.Equal(TheEyeAuthentication.TaskSecretKey, job.Authentication);
        Assert.Equal("task-key", job.SecretKeySecret);
        Assert.Equal(3, job.TaskArguments.Count);
        Assert.Null(job.TaskArguments[1]);
    }

    [Fact]
    public void SchedulesWebhooksAndAfterRulesAreRead()
    {
        var catalog = Valid("""
            "first": {
              "platform": "kbc", "keboola": { "component": "c", "config": "1" },
              "schedule": { "cron": "0 30 2 * * *", "timeZone": "Europe/Prague" },
              "webhook": { "scheme": "hmac", "secrets": ["s-1", "s-2"], "header": "X-Sig", "algorithm": "sha1", "encoding": "base64", "prefix": "sha1=",
                           "toleranceSeconds": 60, "deliveryId": "header:X-Id", "events": ["push"],
                           "filters": [{ "field": "body:$.ref", "equals": "main" }, { "field": "header:X-Kind", "in": ["a", "b"] }, { "field": "query:q", "matches": "^x" }] }
            },
            "second": {
              "platform": "eye", "theeye": { "task": "t" },
              "after": [{ "trigger": "first", "states": ["failed", "cancelled"] }, { "platform": "kbc", "component": "c", "config": 1 }]
            }
            """);

        var first = catalog.Triggers["first"];
        Assert.Equal("Europe/Prague", first.Schedule!.TimeZone.Id);
        Assert.Equal(WebhookScheme.Hmac, first.Webhook!.Scheme);
        Assert.Equal(["s-1", "s-2"], first.Webhook.Secrets);
        Assert.Equal(WebhookHmacAlgorithm.Sha1, first.Webhook.Algorithm);
        Assert.Equal(WebhookSignatureEncoding.Base64, first.Webhook.Encoding);
        Assert.Equal(TimeSpan.FromSeconds(60), first.Webhook.Tolerance);
        Assert.Equal(3, first.Webhook.Filters.Count);
        var after = catalog.Triggers["second"].After;
        Assert.Equal([JobState.Failed, JobState.Cancelled], after[0].States);
        Assert.Equal("1", after[1].Config);
        Assert.Equal([JobState.Succeeded], after[1].States);
    }

    [Fact]
    public void CommentsAndTrailingCommasAreAllowed()
    {
        var result = TriggerCatalogLoader.Parse("""
            {
              // the platforms
              "platforms": { "k": { "type": "keboola", "stack": "us-virginia-aws", "tokenSecret": "t", }, },
              "triggers": {},
            }
            """);

        Assert.True(result.IsValid, string.Join("\n", result.Errors));
    }

    [Fact]
    public void ASingleTenantConnectionUrlBecomesItsQueueEndpoint()
    {
        var result = TriggerCatalogLoader.Parse("""
            { "platforms": { "k": { "type": "keboola", "url": "https://connection.acme.keboola.com", "tokenSecret": "t" } }, "triggers": {} }
            """);

        Assert.Equal(new Uri("https://queue.acme.keboola.com/"), result.Catalog!.Platforms["k"].Url);
    }

    [Fact]
    public void LoopbackHttpIsAllowedForLocalUse()
    {
        var result = TriggerCatalogLoader.Parse("""
            { "platforms": { "k": { "type": "keboola", "url": "http://127.0.0.1:5081/keboola", "tokenSecret": "t" } }, "triggers": {} }
            """);

        Assert.Equal(new Uri("http://127.0.0.1:5081/keboola/"), result.Catalog!.Platforms["k"].Url);
    }

    [Fact]
    public void MalformedJsonIsOneErrorWithItsLine()
    {
        var result = TriggerCatalogLoader.Parse("{\n  \"platforms\": {\n    \"k\": \n}", "bad.json");

        var error = Assert.Single(result.Errors);
        Assert.Equal("$", error.Path);
        Assert.Contains("'bad.json' is not valid JSON (line 4", error.Message, StringComparison.Ordinal);
        Assert.Null(result.Catalog);
    }

    [Fact]
    public void EveryErrorOfACatalogIsReportedAtOnceWithItsPath()
    {
        var result = LoadTriggers("""
            "a": { "platform": "nowhere", "keboola": { "component": "c" } },
            "b": { "platform": "kbc", "keboola": { "component": "c", "colour": "red" } },
            "c": { "platform": "eye", "theeye": { "task": "t" }, "schedule": { "cron": "* * * *" } }
            """);

        Assert.Equal(
            ["$.triggers.a.platform", "$.triggers.b.keboola.colour", "$.triggers.c.schedule.cron"],
            result.Errors.Select(e => e.Path));
    }

    [Theory]
    [InlineData( // A 5-field cron and a time zone in the wrong case: both, not one after the other is fixed.
        """
        "t": { "platform": "kbc", "keboola": { "component": "c" }, "schedule": { "cron": "30 2 * * *", "timeZone": "europe/prague" } }
        """,
        "$.triggers.t.schedule.cron|$.triggers.t.schedule.timeZone")]
    [InlineData( // An unknown scheme leaves the rest of the webhook block to check: its filters and delivery id.
        """
        "t": { "platform": "kbc", "keboola": { "component": "c" },
               "webhook": { "scheme": "bitbucket", "secrets": ["s"], "deliveryId": "cookie:id", "filters": [{ "field": "body:$.a", "matches": "(" }] } }
        """,
        "$.triggers.t.webhook.deliveryId|$.triggers.t.webhook.filters[0].matches|$.triggers.t.webhook.scheme")]
    [InlineData( // A platform that is not in the catalog leaves the job block to check.
        """
        "t": { "platform": "kbc-typo", "keboola": { "component": "{{nope}}" } }
        """,
        "$.triggers.t.keboola.component|$.triggers.t.platform")]
    [InlineData( // A trigger without a platform too.
        """
        "t": { "theeye": { "task": "{{nope}}" } }
        """,
        "$.triggers.t.platform|$.triggers.t.theeye.task")]
    [InlineData( // A chaining cycle is found beside an error in another trigger.
        """
        "a": { "platform": "kbc", "keboola": { "component": "c1" }, "after": [{ "trigger": "b" }] },
        "b": { "platform": "kbc", "keboola": { "component": "c2" }, "after": [{ "trigger": "a" }] },
        "c": { "platform": "kbc", "keboola": { "component": "c3", "mode": "fast" } }
        """,
        "$.triggers.a.after|$.triggers.c.keboola.mode")]
    [InlineData( // An argument with a bad name still has its source checked.
        """
        "t": { "platform": "kbc", "keboola": { "component": "c" }, "arguments": { "-a": { "from": "event:$.job.id" } } }
        """,
        "$.triggers.t.arguments.-a|$.triggers.t.arguments.-a.from")]
    [InlineData( // A trigger with a bad name still has its fields checked.
        """
        "-t": { "platform": "kbc", "keboola": { "component": "c", "delayedStartTime": "tomorrow" } }
        """,
        "$.triggers.-t|$.triggers.-t.keboola.delayedStartTime")]
    public void EveryIndependentErrorIsReportedInOneRunWithItsPath(string triggers, string paths)
    {
        var result = LoadTriggers(triggers);

        Assert.Null(result.Catalog);
        Assert.Equal(paths.Split('|'), result.Errors.Select(e => e.Path));
    }

    [Fact]
    public void APlatformWithABadNameStillHasItsEndpointChecked()
    {
        var result = TriggerCatalogLoader.Parse("""
            { "platforms": { "-k": { "type": "keboola", "url": "https://", "tokenSecret": "t" } }, "triggers": {} }
            """);

        Assert.Equal(["$.platforms.-k", "$.platforms.-k.url"], result.Errors.Select(e => e.Path));
    }

    [Theory]
    [InlineData( // A typo in an 'after' trigger: not also "the trigger has no 'after' rules" for its event argument.
        """
        "parent": { "platform": "kbc", "keboola": { "component": "p" } },
        "t": { "platform": "kbc", "keboola": { "component": "c" }, "arguments": { "job": { "from": "event:$.job.id" } }, "after": [{ "trigger": "parnet" }] }
        """,
        "$.triggers.t.after[0].trigger", "'parnet' is not a trigger of the catalog")]
    [InlineData( // An argument declared wrongly: its templates do not say it is undeclared.
        """
        "t": { "platform": "kbc", "keboola": { "component": "{{a}}" }, "arguments": { "a": 1 } }
        """,
        "$.triggers.t.arguments.a", "must be an object")]
    [InlineData( // A platform in error: the trigger that names it does not say it is unknown.
        """
        "t": { "platform": "broken", "keboola": { "component": "c" } }
        """,
        "$.platforms.broken.url", "must use https")]
    [InlineData( // Nor does an 'after' rule that names it.
        """
        "t": { "platform": "kbc", "keboola": { "component": "c" }, "after": [{ "platform": "broken", "component": "x" }] }
        """,
        "$.platforms.broken.url", "must use https")]
    public void ADependentErrorIsReportedOnceAtItsRoot(string triggers, string path, string message)
    {
        // The platform "broken" is declared only where a trigger names it, so that its error is the one expected.
        var broken = triggers.Contains("\"broken\"", StringComparison.Ordinal)
            ? """, "broken": { "type": "keboola", "url": "http://queue.keboola.com", "tokenSecret": "kbc-token" }"""
            : string.Empty;
        var result = TriggerCatalogLoader.Parse($$"""
            { "platforms": { "kbc": { "type": "keboola", "stack": "eu-frankfurt-aws", "tokenSecret": "kbc-token" }{{broken}} },
              "triggers": { {{triggers}} } }
            """);

        Assert.Equal([$"{path}: {message}"], result.Errors.Select(e => e.Path + ": " + (e.Message.Contains(message, StringComparison.Ordinal) ? message : e.Message)));
    }

    [Theory]
    [InlineData("""{ "platforms": {}, "triggers": {}, "extra": 1 }""", "$.extra", "not a known field")]
    [InlineData("""{ "triggers": {} }""", "$.platforms", "is required")]
    [InlineData("""{ "platforms": {} }""", "$.triggers", "is required")]
    [InlineData("""[]""", "$", "must be an object")]
    [InlineData("""{ "platforms": { "k": { "type": "keboola", "tokenSecret": "t" } }, "triggers": {} }""", "$.platforms.k", "needs 'stack'")]
    [InlineData("""{ "platforms": { "k": { "type": "keboola", "stack": "mars", "tokenSecret": "t" } }, "triggers": {} }""", "$.platforms.k.stack", "'mars' is not a Keboola stack")]
    [InlineData("""{ "platforms": { "k": { "type": "keboola", "stack": "us-virginia-aws", "url": "https://queue.keboola.com", "tokenSecret": "t" } }, "triggers": {} }""", "$.platforms.k", "both 'stack' and 'url'")]
    [InlineData("""{ "platforms": { "k": { "type": "keboola", "url": "http://queue.keboola.com", "tokenSecret": "t" } }, "triggers": {} }""", "$.platforms.k.url", "must use https")]
    [InlineData("""{ "platforms": { "k": { "type": "keboola", "url": "https://queue.keboola.com/?token=x", "tokenSecret": "t" } }, "triggers": {} }""", "$.platforms.k.url", "never written in it")]
    [InlineData("""{ "platforms": { "k": { "type": "keboola", "url": "queue.keboola.com", "tokenSecret": "t" } }, "triggers": {} }""", "$.platforms.k.url", "not an absolute")]
    [InlineData("""{ "platforms": { "k": { "type": "keboola", "stack": "us-virginia-aws" } }, "triggers": {} }""", "$.platforms.k.tokenSecret", "is required")]
    [InlineData("""{ "platforms": { "k": { "type": "keboola", "stack": "us-virginia-aws", "tokenSecret": "123-abc_def!" } }, "triggers": {} }""", "$.platforms.k.tokenSecret", "never its value")]
    [InlineData("""{ "platforms": { "k": { "type": "jenkins" } }, "triggers": {} }""", "$.platforms.k.type", "'jenkins' is not a platform type")]
    [InlineData("""{ "platforms": { "k": { "stack": "x" } }, "triggers": {} }""", "$.platforms.k.type", "is required")]
    [InlineData("""{ "platforms": { "e": { "type": "theeye" } }, "triggers": {} }""", "$.platforms.e.customer", "is required")]
    [InlineData("""{ "platforms": { "e": { "type": "theeye", "customer": 5 } }, "triggers": {} }""", "$.platforms.e.customer", "must be a string")]
    [InlineData("""{ "platforms": { "bad name": { "type": "theeye", "customer": "c" } }, "triggers": {} }""", "$.platforms['bad name']", "not a valid platform name")]
    [InlineData("""{ "platforms": { "e": { "type": "theeye", "customer": "c", "tokenSecret": "t" } }, "triggers": {} }""", "$.platforms.e.tokenSecret", "not a known field")]
    public void PlatformAndRootErrorsNameTheirPath(string json, string path, string message)
    {
        var result = TriggerCatalogLoader.Parse(json);

        Assert.Null(result.Catalog);
        Assert.Contains(result.Errors, e => e.Path == path && e.Message.Contains(message, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("""{ "keboola": { "component": "c" } }""", "$.triggers.t.platform", "is required")]
    [InlineData("""{ "platform": "kbc" }""", "$.triggers.t.keboola", "is required")]
    [InlineData("""{ "platform": "kbc", "keboola": { "component": "c" }, "theeye": { "task": "t" } }""", "$.triggers.t.theeye", "does not apply")]
    [InlineData("""{ "platform": "kbc", "keboola": { } }""", "$.triggers.t.keboola.component", "is required")]
    [InlineData("""{ "platform": "kbc", "keboola": { "component": "" } }""", "$.triggers.t.keboola.component", "must not be empty")]
    [InlineData("""{ "platform": "kbc", "keboola": { "component": "c", "mode": "fast" } }""", "$.triggers.t.keboola.mode", "not a job mode")]
    [InlineData("""{ "platform": "kbc", "keboola": { "component": "c", "variableValuesId": "1", "variables": { "a": "b" } } }""", "$.triggers.t.keboola", "one or the other")]
    [InlineData("""{ "platform": "kbc", "keboola": { "component": "c", "delayedStartTime": "2026-01-01T00:00:00Z", "delay": 5 } }""", "$.triggers.t.keboola", "one or the other")]
    [InlineData("""{ "platform": "kbc", "keboola": { "component": "c", "delayedStartTime": "tomorrow" } }""", "$.triggers.t.keboola.delayedStartTime", "not an ISO 8601")]
    [InlineData("""{ "platform": "kbc", "keboola": { "component": "c", "delay": -1 } }""", "$.triggers.t.keboola.delay", "between 0")]
    [InlineData("""{ "platform": "kbc", "keboola": { "component": "c", "parallelism": 1 } }""", "$.triggers.t.keboola.parallelism", "from 2 to 100")]
    [InlineData("""{ "platform": "kbc", "keboola": { "component": "c", "parallelism": "many" } }""", "$.triggers.t.keboola.parallelism", "from 2 to 100")]
    [InlineData("""{ "platform": "kbc", "keboola": { "component": "c", "backend": "small" } }""", "$.triggers.t.keboola.backend", "must be an object")]
    [InlineData("""{ "platform": "kbc", "keboola": { "component": "c", "backend": { "type": "huge" } } }""", "$.triggers.t.keboola.backend.type", "not a backend size")]
    [InlineData("""{ "platform": "kbc", "keboola": { "component": "c", "configRowIds": "1" } }""", "$.triggers.t.keboola.configRowIds", "must be an array")]
    [InlineData("""{ "platform": "kbc", "keboola": { "component": "{{nope}}" } }""", "$.triggers.t.keboola.component", "declares no argument 'nope'")]
    [InlineData("""{ "platform": "kbc", "keboola": { "component": "{{open" } }""", "$.triggers.t.keboola.component", "without closing it")]
    [InlineData("""{ "platform": "kbc", "keboola": { "component": "c", "configData": { "p": ["{{gone}}"] } } }""", "$.triggers.t.keboola.configData.p[0]", "declares no argument 'gone'")]
    [InlineData("""{ "platform": "eye", "theeye": { "task": "t", "taskArguments": "x" } }""", "$.triggers.t.theeye.taskArguments", "must be an array")]
    [InlineData("""{ "platform": "eye", "theeye": { "task": "t", "auth": "password" } }""", "$.triggers.t.theeye.auth", "not a TheEye authentication")]
    [InlineData("""{ "platform": "eye", "theeye": { "task": "t", "auth": "secretKey" } }""", "$.triggers.t.theeye.secretKeySecret", "is required with auth")]
    [InlineData("""{ "platform": "eye", "theeye": { "task": "t", "secretKeySecret": "k" } }""", "$.triggers.t.theeye.secretKeySecret", "only with auth")]
    [InlineData("""{ "platform": "kbc", "enabled": "yes", "keboola": { "component": "c" } }""", "$.triggers.t.enabled", "true or false")]
    [InlineData("""{ "platform": "kbc", "keboola": { "component": "c" }, "arguments": { "a": 1 } }""", "$.triggers.t.arguments.a", "must be an object")]
    [InlineData("""{ "platform": "kbc", "keboola": { "component": "c" }, "arguments": { "a": { "required": true, "default": 1 } } }""", "$.triggers.t.arguments.a", "both required and has a default")]
    [InlineData("""{ "platform": "kbc", "keboola": { "component": "c" }, "arguments": { "a": { "from": "cookie:x" } } }""", "$.triggers.t.arguments.a.from", "not a value source")]
    [InlineData("""{ "platform": "kbc", "keboola": { "component": "c" }, "arguments": { "a": { "from": "body:ref" } } }""", "$.triggers.t.arguments.a.from", "must start with '$'")]
    [InlineData("""{ "platform": "kbc", "keboola": { "component": "c" }, "arguments": { "a": { "from": "event:$.job.id" } } }""", "$.triggers.t.arguments.a.from", "no 'after' rules")]
    [InlineData("""{ "platform": "kbc", "keboola": { "component": "c" }, "arguments": { "a": { "overridable": 1 } } }""", "$.triggers.t.arguments.a.overridable", "true or false")]
    [InlineData("""{ "platform": "kbc", "keboola": { "component": "c" }, "schedule": { "cron": "0 0 2 * * *", "timeZone": "Mars/Olympus" } }""", "$.triggers.t.schedule.timeZone", "not an IANA time zone")]
    [InlineData("""{ "platform": "kbc", "keboola": { "component": "c" }, "schedule": { "timeZone": "UTC" } }""", "$.triggers.t.schedule.cron", "is required")]
    [InlineData("""{ "platform": "kbc", "keboola": { "component": "c" }, "webhook": { "scheme": "bitbucket", "secrets": ["s"] } }""", "$.triggers.t.webhook.scheme", "not a webhook scheme")]
    [InlineData("""{ "platform": "kbc", "keboola": { "component": "c" }, "webhook": { "scheme": "github" } }""", "$.triggers.t.webhook.secrets", "is required")]
    [InlineData("""{ "platform": "kbc", "keboola": { "component": "c" }, "webhook": { "scheme": "github", "secrets": [] } }""", "$.triggers.t.webhook.secrets", "at least one")]
    [InlineData("""{ "platform": "kbc", "keboola": { "component": "c" }, "webhook": { "scheme": "github", "secrets": ["whsec_abc/+="] } }""", "$.triggers.t.webhook.secrets[0]", "never its value")]
    [InlineData("""{ "platform": "kbc", "keboola": { "component": "c" }, "webhook": { "scheme": "github", "secrets": ["s"], "header": "X" } }""", "$.triggers.t.webhook.header", "the sender fixes it")]
    [InlineData("""{ "platform": "kbc", "keboola": { "component": "c" }, "webhook": { "scheme": "token", "secrets": ["s"], "algorithm": "sha1" } }""", "$.triggers.t.webhook.algorithm", "only to scheme 'hmac'")]
    [InlineData("""{ "platform": "kbc", "keboola": { "component": "c" }, "webhook": { "scheme": "hmac", "secrets": ["s"], "algorithm": "md5" } }""", "$.triggers.t.webhook.algorithm", "not an HMAC algorithm")]
    [InlineData("""{ "platform": "kbc", "keboola": { "component": "c" }, "webhook": { "scheme": "hmac", "secrets": ["s"], "encoding": "base32" } }""", "$.triggers.t.webhook.encoding", "not a signature encoding")]
    [InlineData("""{ "platform": "kbc", "keboola": { "component": "c" }, "webhook": { "scheme": "hmac", "secrets": ["s"], "toleranceSeconds": 0 } }""", "$.triggers.t.webhook.toleranceSeconds", "between 1")]
    [InlineData("""{ "platform": "kbc", "keboola": { "component": "c" }, "webhook": { "scheme": "hmac", "secrets": ["s"], "filters": [{ "field": "body:$.a" }] } }""", "$.triggers.t.webhook.filters[0]", "exactly one of")]
    [InlineData("""{ "platform": "kbc", "keboola": { "component": "c" }, "webhook": { "scheme": "hmac", "secrets": ["s"], "filters": [{ "field": "body:$.a", "matches": "(" }] } }""", "$.triggers.t.webhook.filters[0].matches", "not a regular expression")]
    [InlineData("""{ "platform": "kbc", "keboola": { "component": "c" }, "webhook": { "scheme": "hmac", "secrets": ["s"], "filters": [{ "field": "body:$.a", "in": [] }] } }""", "$.triggers.t.webhook.filters[0].in", "non-empty array")]
    [InlineData("""{ "platform": "kbc", "keboola": { "component": "c" }, "after": [{ "trigger": "t" }] }""", "$.triggers.t.after[0].trigger", "names the trigger itself")]
    [InlineData("""{ "platform": "kbc", "keboola": { "component": "c" }, "after": [{ "trigger": "ghost" }] }""", "$.triggers.t.after[0].trigger", "not a trigger of the catalog")]
    [InlineData("""{ "platform": "kbc", "keboola": { "component": "c" }, "after": [{ }] }""", "$.triggers.t.after[0]", "either 'trigger'")]
    [InlineData("""{ "platform": "kbc", "keboola": { "component": "c" }, "after": [{ "platform": "eye", "component": "x" }] }""", "$.triggers.t.after[0]", "a TheEye rule names 'task'")]
    [InlineData("""{ "platform": "kbc", "keboola": { "component": "c" }, "after": [{ "platform": "kbc", "task": "x" }] }""", "$.triggers.t.after[0].task", "applies to TheEye")]
    [InlineData("""{ "platform": "kbc", "keboola": { "component": "c" }, "after": [{ "platform": "kbc", "config": "1" }] }""", "$.triggers.t.after[0].component", "is required with 'config'")]
    [InlineData("""{ "platform": "kbc", "keboola": { "component": "c" }, "after": [{ "platform": "kbc", "states": ["done"] }] }""", "$.triggers.t.after[0].states[0]", "not an end state")]
    [InlineData("""{ "platform": "kbc", "keboola": { "component": "c" }, "after": { "trigger": "x" } }""", "$.triggers.t.after", "must be an array")]
    public void TriggerErrorsNameTheirPath(string trigger, string path, string message)
    {
        var result = LoadTriggers($"\"t\": {trigger}");

        Assert.Null(result.Catalog);
        Assert.Contains(result.Errors, e => e.Path == path && e.Message.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public void AnAccessTokenTriggerOnAPlatformWithoutATokenIsAnError()
    {
        var result = TriggerCatalogLoader.Parse("""
            { "platforms": { "e": { "type": "theeye", "customer": "c" } },
              "triggers": { "t": { "platform": "e", "theeye": { "task": "x" } } } }
            """);

        var error = Assert.Single(result.Errors);
        Assert.Equal("$.triggers.t.theeye", error.Path);
        Assert.Contains("names no 'accessTokenSecret'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AChainingCycleThroughTriggerRulesIsRefused()
    {
        var result = LoadTriggers("""
            "a": { "platform": "kbc", "keboola": { "component": "c1" }, "after": [{ "trigger": "c" }] },
            "b": { "platform": "kbc", "keboola": { "component": "c2" }, "after": [{ "trigger": "a" }] },
            "c": { "platform": "eye", "theeye": { "task": "t" }, "after": [{ "trigger": "b", "states": ["failed"] }] }
            """);

        var error = Assert.Single(result.Errors);
        Assert.Equal("$.triggers.a.after", error.Path);
        Assert.Contains("a → b → c → a", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AWatchPolicyAMaxDurationAndOnTimeoutAreReadAsIso8601Durations()
    {
        var result = LoadTriggers("""
            "slow": { "platform": "kbc", "keboola": { "component": "ex", "config": "1" }, "watch": { "firstCheck": "PT5S", "maxInterval": "PT2M" }, "maxDuration": "PT1H30M", "onTimeout": "cancel" }
            """);

        Assert.Empty(result.Errors);
        var slow = result.Catalog!.Triggers["slow"];
        Assert.Equal(new WatchPolicy(TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(2)), slow.Watch);
        Assert.Equal(TimeSpan.FromMinutes(90), slow.MaxDuration);
        Assert.Equal(TimeoutAction.Cancel, slow.OnTimeout);
    }

    [Theory]
    [InlineData(""" "maxDuration": "90 minutes" """, "$.triggers.slow.maxDuration", "ISO 8601 duration")]
    [InlineData(""" "onTimeout": "cancel" """, "$.triggers.slow.onTimeout", "needs 'maxDuration'")]
    [InlineData(""" "watch": { "firstCheck": "PT1M", "maxInterval": "PT10S" } """, "$.triggers.slow.watch.maxInterval", "must not be shorter than firstCheck")]
    [InlineData(""" "onTimeout": "kill", "maxDuration": "PT1H" """, "$.triggers.slow.onTimeout", "")]
    public void AWrongWatchPolicyOrTimeoutIsRefusedAtItsPath(string member, string path, string message)
    {
        var result = LoadTriggers($$"""
            "slow": { "platform": "kbc", "keboola": { "component": "ex", "config": "1" }, {{member}} }
            """);

        var error = Assert.Single(result.Errors);
        Assert.Equal(path, error.Path);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AChainingCycleThroughAPlatformRuleIsRefused()
    {
        var result = LoadTriggers("""
            "loader": { "platform": "kbc", "keboola": { "component": "ex", "config": "1" }, "after": [{ "trigger": "report" }] },
            "report": { "platform": "kbc", "keboola": { "component": "tr", "config": "2" }, "after": [{ "platform": "kbc", "component": "ex" }] }
            """);

        Assert.Contains(result.Errors, e => e.Message.Contains("chaining cycle", StringComparison.Ordinal));
    }

    [Fact]
    public void APlatformRuleThatMatchesAnotherComponentMakesNoCycle()
    {
        Valid("""
            "loader": { "platform": "kbc", "keboola": { "component": "ex", "config": "1" }, "after": [{ "trigger": "report" }] },
            "report": { "platform": "kbc", "keboola": { "component": "tr", "config": "2" }, "after": [{ "platform": "kbc", "component": "ex", "config": "9" }] }
            """);
    }

    [Fact]
    public void PlatformUrlOverridesReplaceOnlyTheNamedEndpoints()
    {
        var catalog = Valid("\"t\": { \"platform\": \"kbc\", \"keboola\": { \"component\": \"c\" } }");

        var moved = catalog.WithPlatformUrls(new Dictionary<string, Uri> { ["kbc"] = new("http://127.0.0.1:9000/keboola/"), ["other"] = new("http://x/") });

        Assert.Equal(new Uri("http://127.0.0.1:9000/keboola/"), moved.Platforms["kbc"].Url);
        Assert.Equal(catalog.Platforms["eye"].Url, moved.Platforms["eye"].Url);
    }

    [Fact]
    public void CatalogSecretsListsEverySecretNameOnce()
    {
        var catalog = Valid("""
            "a": { "platform": "eye", "theeye": { "task": "t", "auth": "secretKey", "secretKeySecret": "task-key" }, "webhook": { "scheme": "github", "secrets": ["gh", "kbc-token"] } }
            """);

        Assert.Equal(["eye-token", "gh", "kbc-token", "task-key"], CatalogSecrets.Names(catalog));
    }

    [Fact]
    public void TheCatalogViewShowsTriggersWithoutSecretNames()
    {
        var catalog = Valid("""
            "a": { "platform": "kbc", "keboola": { "component": "c", "config": "1" }, "arguments": { "x": { "default": 1, "overridable": true } },
                   "webhook": { "scheme": "github", "secrets": ["gh-secret"] }, "schedule": { "cron": "0 0 * * * *" } }
            """);

        var view = CatalogView.Render(catalog);
        var text = view.ToJsonString();

        var trigger = view["triggers"]![0]!;
        Assert.Equal("a", (string?)trigger["name"]);
        Assert.Equal("github", (string?)trigger["webhook"]!["scheme"]);
        Assert.Equal("/api/hooks/a", (string?)trigger["webhook"]!["route"]);
        Assert.True((bool)trigger["arguments"]![0]!["overridable"]!);
        Assert.DoesNotContain("gh-secret", text, StringComparison.Ordinal);
        Assert.DoesNotContain("kbc-token", text, StringComparison.Ordinal);
    }

    [Fact]
    public void TheSchemaListsTheSameStacksAndWebhookSchemesAsTheLoader()
    {
        var schema = JsonNode.Parse(File.ReadAllText(RepoFile("triggers.schema.json")))!;

        var stacks = schema["$defs"]!["keboolaPlatform"]!["properties"]!["stack"]!["enum"]!.AsArray().Select(n => (string)n!);
        var schemes = schema["$defs"]!["webhook"]!["properties"]!["scheme"]!["enum"]!.AsArray().Select(n => (string)n!);

        Assert.Equal(KeboolaStacks.QueueUrls.Keys.Order(), stacks.Order());
        Assert.Equal(WebhookSchemes.Names.Order(), schemes.Order());
    }

    internal static string RepoFile(string name)
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "Functions.sln")))
        {
            folder = folder.Parent;
        }

        return Path.Combine(folder?.FullName ?? throw new InvalidOperationException("Functions.sln not found above the test folder."), name);
    }
}
