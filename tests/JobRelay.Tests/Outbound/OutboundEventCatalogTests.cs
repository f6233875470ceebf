using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using JobRelay.Model;
using JobRelay.Outbound;
using JobRelay.State;
using JobRelay.Tests.Infra;

namespace JobRelay.Tests.Outbound;

/// <summary>The one catalog of outbound event types, the payload built from a run, and the two descriptions of it: events.schema.json and the OpenAPI webhooks.</summary>
public sealed class OutboundEventCatalogTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    // The schema registers its $id once per process: every test evaluates the one instance.
    private static readonly Lazy<JsonSchema> RepositorySchema = new(() => JsonSchema.FromText(InfraFiles.Read("events.schema.json")));

    private static readonly string[] Expected =
        ["run.accepted", "run.pending", "job.started", "job.succeeded", "job.failed", "job.cancelled", "job.overdue", "run.outcome-unknown", "run.refused", "job.lost"];

    [Fact]
    public void The_catalog_lists_the_ten_types_of_a_runs_life_each_with_a_description()
    {
        Assert.Equal(Expected, OutboundEventTypes.Names);
        Assert.All(OutboundEventTypes.All, type => Assert.False(string.IsNullOrWhiteSpace(type.Description), type.Name));
        Assert.True(OutboundEventTypes.IsKnown("job.failed"));
        Assert.False(OutboundEventTypes.IsKnown("Job.Failed"));
        Assert.False(OutboundEventTypes.IsKnown("job.failure"));
    }

    [Fact]
    public void The_repository_schema_and_the_openapi_webhooks_name_exactly_the_catalogs_types()
    {
        var schema = JsonNode.Parse(InfraFiles.Read("events.schema.json"))!;
        var openApi = JsonNode.Parse(InfraFiles.Read("src/JobRelay.Functions/openapi.json"))!;

        Assert.Equal(Expected, schema["properties"]!["type"]!["enum"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal(Expected, openApi["webhooks"]!.AsObject().Select(p => p.Key));
        Assert.Equal(Expected, openApi["components"]!["schemas"]!["OutboundEvent"]!["properties"]!["type"]!["enum"]!.AsArray().Select(n => n!.GetValue<string>()));
        foreach (var (name, item) in openApi["webhooks"]!.AsObject())
        {
            var post = item!["post"]!;
            Assert.Equal("#/components/schemas/OutboundEvent", post["requestBody"]!["content"]!["application/json"]!["schema"]!["$ref"]!.GetValue<string>());
            Assert.Equal(["webhook-id", "webhook-timestamp", "webhook-signature"], post["parameters"]!.AsArray().Select(p => p!["name"]!.GetValue<string>()));
            Assert.Equal(OutboundEventTypes.All.Single(t => t.Name == name).Description, post["summary"]!.GetValue<string>());
        }
    }

    [Fact]
    public void The_openapi_payload_schema_has_the_members_and_required_lists_of_the_repository_schema()
    {
        var schema = JsonNode.Parse(InfraFiles.Read("events.schema.json"))!;
        var openApi = JsonNode.Parse(InfraFiles.Read("src/JobRelay.Functions/openapi.json"))!["components"]!["schemas"]!["OutboundEvent"]!;
        var data = schema["$defs"]!["data"]!;

        AssertSameMembers(schema, openApi);
        AssertSameMembers(data, openApi["properties"]!["data"]!);
        AssertSameMembers(data["properties"]!["times"]!, openApi["properties"]!["data"]!["properties"]!["times"]!);
        AssertSameMembers(data["properties"]!["links"]!, openApi["properties"]!["data"]!["properties"]!["links"]!);
    }

    [Theory]
    [InlineData("run.accepted")]
    [InlineData("run.pending")]
    [InlineData("job.started")]
    [InlineData("job.succeeded")]
    [InlineData("job.failed")]
    [InlineData("job.cancelled")]
    [InlineData("job.overdue")]
    [InlineData("run.outcome-unknown")]
    [InlineData("run.refused")]
    [InlineData("job.lost")]
    public void An_event_of_each_type_built_from_a_run_is_valid_by_the_repository_schema(string type)
    {
        var schema = RepositorySchema.Value;
        var body = OutboundEvents.Serialize(OutboundEvents.Of(Ended(JobState.Failed), type, Now));

        var result = schema.Evaluate(JsonDocument.Parse(body).RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = true });

        Assert.True(result.IsValid, body + "\n" + string.Join("\n", (result.Details ?? []).Where(d => d.Errors is not null).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"))));
    }

    [Fact]
    public void A_failed_jobs_event_carries_the_run_its_job_its_times_its_chain_parent_delivery_key_and_arguments()
    {
        var run = Ended(JobState.Failed);

        var body = JsonNode.Parse(OutboundEvents.Serialize(OutboundEvents.Of(run, "job.failed", Now.AddMinutes(5))))!;

        Assert.Equal("evt_run-1_job.failed", body["id"]!.GetValue<string>());
        Assert.Equal("job.failed", body["type"]!.GetValue<string>());
        var data = body["data"]!;
        Assert.Equal("run-1", data["runId"]!.GetValue<string>());
        Assert.Equal("nightly-load", data["trigger"]!.GetValue<string>());
        Assert.Equal("chain", data["origin"]!.GetValue<string>());
        Assert.Equal("kbc", data["platform"]!.GetValue<string>());
        Assert.Equal("4242", data["jobId"]!.GetValue<string>());
        Assert.Equal("https://queue.example/jobs/4242", data["jobUrl"]!.GetValue<string>());
        Assert.Equal("started", data["state"]!.GetValue<string>());
        Assert.Equal("failed", data["jobState"]!.GetValue<string>());
        Assert.Equal("parent-run", data["parentRunId"]!.GetValue<string>());
        Assert.Equal("delivery:d-17", data["deliveryKey"]!.GetValue<string>());
        Assert.Equal("""{"day":"2026-12-01"}""", data["arguments"]!.ToJsonString());
        Assert.Equal(90, data["times"]!["durationSeconds"]!.GetValue<double>());
        Assert.Equal(Now.AddSeconds(30), data["times"]!["jobStarted"]!.GetValue<DateTimeOffset>());
        Assert.Equal("/api/runs/run-1", data["links"]!["run"]!.GetValue<string>());
    }

    [Fact]
    public void The_event_id_depends_on_the_run_and_the_type_alone_so_every_retry_carries_the_same()
    {
        var first = OutboundEvents.Of(Ended(JobState.Failed), "job.failed", Now);
        var again = OutboundEvents.Of(Ended(JobState.Failed) with { UpdatedAt = Now.AddHours(1) }, "job.failed", Now.AddHours(1));

        Assert.Equal(first.Id, again.Id);
        Assert.NotEqual(first.Id, OutboundEvents.Of(Ended(JobState.Failed), "job.started", Now).Id);
    }

    [Fact]
    public void A_type_outside_the_catalog_is_refused_when_an_event_is_built()
        => Assert.Throws<ArgumentException>(() => OutboundEvents.Of(Ended(JobState.Failed), "job.exploded", Now));

    [Fact]
    public void Each_state_change_reports_the_event_of_its_type_and_a_write_that_changes_nothing_reported_reports_none()
    {
        var claimed = Run(RunState.Claimed);
        var starting = claimed with { State = RunState.Starting, Attempts = 1 };
        var started = starting with { State = RunState.Started, Watch = WatchState.Watching, JobState = JobState.Running };

        Assert.Equal("run.accepted", OutboundEvents.TypeOf(null, claimed));
        Assert.Null(OutboundEvents.TypeOf(null, claimed with { State = RunState.Ignored }));
        Assert.Null(OutboundEvents.TypeOf(claimed, starting));
        Assert.Equal("run.pending", OutboundEvents.TypeOf(starting, starting with { State = RunState.Pending }));
        Assert.Null(OutboundEvents.TypeOf(starting with { Attempts = 2 }, starting with { State = RunState.Pending, Attempts = 2 }));
        Assert.Equal("job.started", OutboundEvents.TypeOf(starting, started));
        Assert.Equal("run.refused", OutboundEvents.TypeOf(starting, starting with { State = RunState.Refused }));
        Assert.Equal("run.outcome-unknown", OutboundEvents.TypeOf(starting, starting with { State = RunState.OutcomeUnknown }));
        Assert.Null(OutboundEvents.TypeOf(started, started with { WatchChecks = 3 }));
        Assert.Equal("job.overdue", OutboundEvents.TypeOf(started, started with { OverdueAt = Now }));
        Assert.Null(OutboundEvents.TypeOf(started with { OverdueAt = Now }, started with { OverdueAt = Now, WatchChecks = 4 }));
        Assert.Equal("job.succeeded", OutboundEvents.TypeOf(started, started with { Watch = WatchState.Ended, JobState = JobState.Succeeded }));
        Assert.Equal("job.failed", OutboundEvents.TypeOf(started, started with { Watch = WatchState.Ended, JobState = JobState.Failed }));
        Assert.Equal("job.cancelled", OutboundEvents.TypeOf(started, started with { Watch = WatchState.Ended, JobState = JobState.Cancelled }));
        Assert.Equal("job.lost", OutboundEvents.TypeOf(started, started with { Watch = WatchState.Lost }));
        Assert.Null(OutboundEvents.TypeOf(started, started with { Watch = WatchState.Abandoned }));
    }

    private static void AssertSameMembers(JsonNode repository, JsonNode openApi)
    {
        Assert.Equal(repository["properties"]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal), openApi["properties"]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.Equal(repository["required"]!.AsArray().Select(n => n!.GetValue<string>()).Order(StringComparer.Ordinal), openApi["required"]!.AsArray().Select(n => n!.GetValue<string>()).Order(StringComparer.Ordinal));
    }

    private static RunRecord Run(RunState state) => new()
    {
        Key = new DeliveryKey("nightly-load", "d-17"),
        RunId = "run-1",
        Trigger = "nightly-load",
        Origin = "chain",
        ParentRunId = "parent-run",
        Arguments = """{"day":"2026-12-01"}""",
        State = state,
        Version = 1,
        CreatedAt = Now,
        UpdatedAt = Now,
    };

    private static RunRecord Ended(JobState jobState) => Run(RunState.Started) with
    {
        Platform = "kbc",
        JobId = "4242",
        JobUrl = new Uri("https://queue.example/jobs/4242"),
        JobState = jobState,
        Watch = WatchState.Ended,
        JobStartedAt = Now.AddSeconds(30),
        JobFinishedAt = Now.AddSeconds(120),
        UpdatedAt = Now.AddSeconds(121),
    };
}
