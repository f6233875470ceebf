using System.Text.Json.Nodes;
using JobRelay.Model;
using JobRelay.Platforms;
using JobRelay.Triggers;

namespace JobRelay.Tests.Triggers;

public sealed class TriggerJobFactoryTests
{
    private static readonly TriggerCatalog Catalog = Load("""
        {
          "platforms": {
            "kbc": { "type": "keboola", "stack": "us-virginia-aws", "tokenSecret": "kbc-token" },
            "eye": { "type": "theeye", "customer": "acme", "accessTokenSecret": "eye-token" }
          },
          "triggers": {
            "full": {
              "platform": "kbc",
              "arguments": {
                "customer": { "required": true, "overridable": true, "from": "body:$.customer.id" },
                "size": { "default": "small", "overridable": true },
                "row": { "default": 7 },
                "when": { "overridable": true }
              },
              "keboola": {
                "component": "keboola.app", "mode": "debug", "config": "1", "configRowIds": ["{{row}}", "8"],
                "configData": { "parameters": { "customer": "{{customer}}", "label": "customer {{customer}}", "n": 3 } },
                "tag": "2.0.0", "branchId": 55, "variables": { "customer_id": "{{customer}}", "fixed": "x" },
                "backend": { "type": "{{size}}", "context": "wh" }, "delayedStartTime": "{{when}}", "parallelism": 10, "parentRunId": "999"
              }
            },
            "eye": {
              "platform": "eye",
              "arguments": { "repo": { "from": "header:X-Repo", "required": true }, "count": { "from": "query:n", "default": 1 } },
              "theeye": { "task": "task-1", "taskArguments": ["{{repo}}", null, "{{count}}", "n={{count}}"] }
            }
          }
        }
        """);

    [Fact]
    public void AKeboolaJobGetsEveryFieldWithArgumentsApplied()
    {
        var values = new Dictionary<string, JsonNode?> { ["customer"] = 42, ["when"] = "2026-12-01T02:00:00Z" };

        var job = Assert.IsType<KeboolaJobRequest>(TriggerJobFactory.Create(Catalog.Triggers["full"], Catalog, values));

        Assert.Equal("full", job.Trigger);
        Assert.Equal("keboola.app", job.Component);
        Assert.Equal("debug", job.Mode);
        Assert.Equal("1", job.Config);
        Assert.Equal(["7", "8"], job.ConfigRowIds!);
        Assert.Equal("""{"parameters":{"customer":42,"label":"customer 42","n":3}}""", job.ConfigData!.ToJsonString());
        Assert.Equal("2.0.0", job.Tag);
        Assert.Equal("55", job.BranchId);
        Assert.Equal([new KeboolaVariableValue("customer_id", "42"), new KeboolaVariableValue("fixed", "x")], job.VariableValues!);
        Assert.Equal(new KeboolaBackend("small", "wh"), job.Backend);
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 2, 0, 0, TimeSpan.Zero), job.DelayedStartTime);
        Assert.Equal("10", job.Parallelism);
        Assert.Equal("999", job.ParentRunId);
    }

    [Fact]
    public void AMissingRequiredArgumentIsAMappingFailureNamingItAndItsSource()
    {
        var ex = Assert.Throws<RelayException>(() => TriggerJobFactory.Create(Catalog.Triggers["full"], Catalog, new Dictionary<string, JsonNode?>()));

        Assert.Equal(RelayErrorKind.MappingFailed, ex.Kind);
        Assert.Contains("argument 'customer'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("body:$.customer.id", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ATemplatedDateThatIsNotADateIsAMappingFailure()
    {
        var values = new Dictionary<string, JsonNode?> { ["customer"] = 1, ["when"] = "soon" };

        var ex = Assert.Throws<RelayException>(() => TriggerJobFactory.Create(Catalog.Triggers["full"], Catalog, values));

        Assert.Equal(RelayErrorKind.MappingFailed, ex.Kind);
        Assert.Contains("keboola.delayedStartTime", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ATheeyeJobKeepsArgumentTypesAndNullSlots()
    {
        var values = new Dictionary<string, JsonNode?> { ["repo"] = "acme/docs", ["count"] = 3 };

        var job = Assert.IsType<TheEyeJobRequest>(TriggerJobFactory.Create(Catalog.Triggers["eye"], Catalog, values));

        Assert.Equal("task-1", job.TaskId);
        Assert.Equal("""["acme/docs",null,3,"n=3"]""", new JsonArray([.. job.TaskArguments.Select(a => a?.DeepClone())]).ToJsonString());
        Assert.Equal(TheEyeAuthentication.AccessToken, job.Authentication);
    }

    [Fact]
    public void OverridesSetOnlyOverridableArguments()
    {
        var values = TriggerJobFactory.ApplyOverrides(Catalog.Triggers["full"], new JsonObject { ["customer"] = 5, ["size"] = "large" });

        Assert.Equal(5, (int)values["customer"]!);
        Assert.Equal("large", (string?)values["size"]);
    }

    [Fact]
    public void OverridingAFixedArgumentIsForbiddenByName()
    {
        var ex = Assert.Throws<RelayException>(() => TriggerJobFactory.ApplyOverrides(Catalog.Triggers["full"], new JsonObject { ["row"] = 1 }));

        Assert.Equal(RelayErrorKind.Forbidden, ex.Kind);
        Assert.Contains("'row'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OverridingAnUnknownArgumentListsTheOverridableOnes()
    {
        var ex = Assert.Throws<RelayException>(() => TriggerJobFactory.ApplyOverrides(Catalog.Triggers["full"], new JsonObject { ["colour"] = "red" }));

        Assert.Equal(RelayErrorKind.InvalidInput, ex.Kind);
        Assert.Contains("no argument 'colour'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("customer, size, when", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MappingReadsBodyHeaderAndQuerySourcesAndLeavesAbsentOnesOut()
    {
        var context = new Values(JsonNode.Parse("""{"customer":{"id":"c-9"}}"""), headers: new() { ["X-Repo"] = "acme/site" });

        var full = TriggerJobFactory.MapArguments(Catalog.Triggers["full"], context);
        var eye = TriggerJobFactory.MapArguments(Catalog.Triggers["eye"], context);

        Assert.Equal("c-9", (string?)full["customer"]);
        Assert.Single(full);
        Assert.Equal("acme/site", (string?)eye["repo"]);
        Assert.False(eye.ContainsKey("count"));
    }

    [Theory]
    [InlineData("$.a.b[1]", """{"a":{"b":[1,{"c":true}]}}""", """{"c":true}""")]
    [InlineData("$['odd.key']", """{"odd.key":"x"}""", "\"x\"")]
    [InlineData("$", """{"a":1}""", """{"a":1}""")]
    [InlineData("$.missing", """{"a":1}""", null)]
    [InlineData("$.a[5]", """{"a":[1]}""", null)]
    public void JsonPathsSelectWhatTheyName(string path, string json, string? expected)
    {
        Assert.True(JsonPath.TryParse(path, out var parsed, out _));

        Assert.Equal(expected, parsed!.Select(JsonNode.Parse(json))?.ToJsonString());
    }

    [Theory]
    [InlineData("a.b", "must start with '$'")]
    [InlineData("$..a", "empty name")]
    [InlineData("$.a[x]", "bad index")]
    [InlineData("$['a", "unclosed")]
    public void BadJsonPathsSayWhatIsWrong(string path, string message)
    {
        Assert.False(JsonPath.TryParse(path, out _, out var error));
        Assert.Contains(message, error, StringComparison.Ordinal);
    }

    private static TriggerCatalog Load(string json)
    {
        var result = TriggerCatalogLoader.Parse(json);
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        return result.Catalog!;
    }

    private sealed class Values(JsonNode? body, Dictionary<string, string>? headers = null) : IValueContext
    {
        public JsonNode? Body => body;

        public JsonNode? JobEvent => null;

        public string? Header(string name) => headers?.GetValueOrDefault(name);

        public string? Query(string name) => null;

        public string? Route(string name) => null;
    }
}
