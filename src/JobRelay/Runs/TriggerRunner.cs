using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using JobRelay.Diagnostics;
using JobRelay.Hosting;
using JobRelay.Model;
using JobRelay.Platforms;
using JobRelay.State;
using JobRelay.Triggers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobRelay.Runs;

/// <summary>
/// Starts a trigger's job on its platform and reads the status of jobs it started: the one act every entry point ends
/// in. Every start is a run in the store: claimed under its key before the platform is called, marked as calling right
/// before the call, and settled with the platform's answer, so a crash at any point leaves a record, never silence.
/// </summary>
public sealed class TriggerRunner
{
    private static readonly Dictionary<string, JsonNode?> NoArguments = [];
    private readonly CatalogSource _catalog;
    private readonly JobPlatforms _platforms;
    private readonly IRelayStore _store;
    private readonly StoreOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<TriggerRunner> _logger;
    private readonly OutcomeCounter _counter;
    private readonly WatchOptions _watch;

    internal TriggerRunner(CatalogSource catalog, JobPlatforms platforms, IRelayStore store, IOptions<StoreOptions> options, IOptions<WatchOptions> watch, TimeProvider timeProvider, ILogger<TriggerRunner> logger, OutcomeCounter counter)
    {
        _counter = counter;
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(watch);
        _watch = watch.Value;
        _catalog = catalog;
        _platforms = platforms;
        _store = store;
        _options = options.Value;
        _timeProvider = timeProvider;
        _logger = logger;
    }

    /// <summary>The catalog the runner works from.</summary>
    public TriggerCatalog Catalog => _catalog.Catalog;

    /// <summary>The trigger of that name, or a <see cref="RelayErrorKind.NotFound"/> failure.</summary>
    public TriggerDefinition GetTrigger(string name)
        => Catalog.Triggers.TryGetValue(name, out var trigger)
            ? trigger
            : throw new RelayException(RelayErrorKind.NotFound, $"Trigger '{name}' is not in the catalog.");

    /// <summary>Builds the trigger's job from <paramref name="arguments"/> and starts it now, as a run of its own.</summary>
    public async Task<RelayRun> RunAsync(
        string triggerName,
        IReadOnlyDictionary<string, JsonNode?> arguments,
        RunOrigin origin,
        CancellationToken cancellationToken)
    {
        var runId = NewRunId();
        var outcome = await StartOnceAsync(new RequestKey(runId), triggerName, arguments, origin, parentRunId: null, queueWhenUnavailable: false, cancellationToken, runId);
        return outcome.Run ?? throw new InvalidOperationException($"Run {runId} was not started and raised no failure.");
    }

    /// <summary>
    /// Writes a run pending, due now, without calling the platform: the sweep of any instance starts it once. The API's
    /// queue mode, for callers that would rather not wait for the platform.
    /// </summary>
    internal async Task<RunRecord> EnqueueAsync(
        string triggerName,
        IReadOnlyDictionary<string, JsonNode?> arguments,
        RunOrigin origin,
        CancellationToken cancellationToken)
    {
        var trigger = GetTrigger(triggerName);
        if (!trigger.Enabled)
        {
            throw new RelayException(RelayErrorKind.Forbidden, $"Trigger '{trigger.Name}' is disabled in the catalog.");
        }

        var runId = NewRunId();
        var claim = await ClaimAsync(new NewRun(new RequestKey(runId), runId, trigger.Name, OriginName(origin), Serialize(arguments)), cancellationToken);
        var lease = claim.Lease ?? throw new InvalidOperationException($"Run {runId} was settled as it was claimed.");
        var now = _timeProvider.GetUtcNow();
        var deadline = now + _options.PendingDeadline;
        const string Reason = "queued at the caller's request";
        await SettleAsync(lease, RunSettlement.Pending(Reason, now, deadline), CancellationToken.None);
        RunLog.Queued(_logger, trigger.Name, runId, origin);
        return claim.Run with { State = RunState.Pending, Reason = Reason, NextAttemptAt = now, Deadline = deadline, Version = lease.Version + 1 };
    }

    /// <summary>A run of this trigger as the store holds it; a run of another trigger is not found.</summary>
    internal async Task<RunRecord> GetOwnRunAsync(string triggerName, string runId, CancellationToken cancellationToken)
    {
        var trigger = GetTrigger(triggerName);
        var run = await _store.FindRunAsync(runId, cancellationToken);
        return run is not null && string.Equals(run.Trigger, trigger.Name, StringComparison.Ordinal)
            ? run
            : throw new RelayException(RelayErrorKind.NotFound, $"Trigger '{trigger.Name}' has no run '{runId}'.");
    }

    /// <summary>
    /// Reads the current status of a job this trigger started, as the store remembers it: a job of another trigger, or
    /// one JobRelay did not start (or has forgotten, past the retention window), is not found.
    /// </summary>
    public async Task<JobStatus> GetStatusOfOwnJobAsync(string triggerName, string jobId, CancellationToken cancellationToken)
    {
        var trigger = GetTrigger(triggerName);
        var run = await _store.FindRunByJobAsync(trigger.Platform, jobId, cancellationToken);
        if (run is null || run.Trigger != trigger.Name)
        {
            throw new RelayException(RelayErrorKind.NotFound, $"Trigger '{trigger.Name}' started no job '{jobId}' that JobRelay remembers: the status route answers for the jobs of its own trigger only.");
        }

        return await _platforms.Get(trigger.Platform).GetJobStatusAsync(jobId, cancellationToken);
    }

    /// <summary>Reads the current status of a job of the trigger's platform.</summary>
    public Task<JobStatus> GetStatusAsync(string triggerName, string jobId, CancellationToken cancellationToken)
    {
        var trigger = GetTrigger(triggerName);
        return _platforms.Get(trigger.Platform).GetJobStatusAsync(jobId, cancellationToken);
    }

    /// <summary>
    /// Starts the trigger's job once for <paramref name="key"/>: the first claimant starts it; a concurrent or later
    /// one gets the original's run (waiting a while for one in flight). With <paramref name="queueWhenUnavailable"/>,
    /// a start the platform provably did not get is kept pending for the sweep instead of failing.
    /// </summary>
    internal async Task<RunOutcome> StartOnceAsync(
        ClaimKey key,
        string triggerName,
        IReadOnlyDictionary<string, JsonNode?> arguments,
        RunOrigin origin,
        string? parentRunId,
        bool queueWhenUnavailable,
        CancellationToken cancellationToken,
        string? runId = null)
    {
        var trigger = GetTrigger(triggerName);
        if (!trigger.Enabled)
        {
            throw new RelayException(RelayErrorKind.Forbidden, $"Trigger '{trigger.Name}' is disabled in the catalog.");
        }

        var claim = await ClaimAsync(
            new NewRun(key, runId ?? NewRunId(), trigger.Name, OriginName(origin), Serialize(arguments)) { ParentRunId = parentRunId, TraceParent = CurrentTraceParent() },
            cancellationToken);
        if (claim.Status != ClaimStatus.First)
        {
            _counter.Count(trigger.Name, CountedOutcome.Duplicate);
            return new RunOutcome(claim.Run, IsFirst: false);
        }

        return await StartClaimedAsync(claim.Lease!, claim.Run, queueWhenUnavailable, cancellationToken, senderWaits: true);
    }

    /// <summary>
    /// Starts <paramref name="earlier"/>'s trigger again from its stored arguments, as a new run of its own whose parent
    /// is the earlier run: claimed, marked and settled like every other start.
    /// </summary>
    internal Task<RunOutcome> StartAgainFromAsync(RunRecord earlier, RunOrigin origin, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(earlier);
        var runId = NewRunId();
        return StartOnceAsync(new RequestKey(runId), earlier.Trigger, Deserialize(earlier.Arguments), origin, earlier.RunId, queueWhenUnavailable: false, cancellationToken, runId);
    }

    /// <summary>The job request of a run, built again from its trigger and stored, non-secret arguments (for a restart of its job).</summary>
    internal JobRequest RequestOf(RunRecord run)
    {
        ArgumentNullException.ThrowIfNull(run);
        return TriggerJobFactory.Create(GetTrigger(run.Trigger), Catalog, Deserialize(run.Arguments));
    }

    /// <summary>Counts a delivery refused before any claim (a bad signature or token), off the store's hot path.</summary>
    internal void CountRejected(string triggerName) => _counter.Count(triggerName, CountedOutcome.Rejected);

    /// <summary>Records that <paramref name="key"/> starts no job (filtered out); a duplicate gets the original's outcome.</summary>
    internal async Task<RunOutcome> IgnoreOnceAsync(ClaimKey key, string triggerName, RunOrigin origin, string reason, CancellationToken cancellationToken)
    {
        var claim = await ClaimAsync(new NewRun(key, NewRunId(), triggerName, OriginName(origin), "{}") { IgnoredReason = reason }, cancellationToken);
        if (claim.Status != ClaimStatus.First)
        {
            _counter.Count(triggerName, CountedOutcome.Duplicate);
        }

        return new RunOutcome(claim.Run, IsFirst: claim.Status == ClaimStatus.First);
    }

    /// <summary>
    /// Starts a run this instance holds the claim of: a fresh claim, or one the sweep took (a pending start, or a
    /// claim abandoned before its platform call).
    /// </summary>
    /// <param name="senderWaits">Whether the caller answers the sender of the request now: only then may a refused
    /// start be released for the sender to send again, rather than recorded as refused.</param>
    internal async Task<RunOutcome> StartClaimedAsync(RunLease lease, RunRecord run, bool queueWhenUnavailable, CancellationToken cancellationToken, bool senderWaits = false)
    {
        var origin = ParseOrigin(run.Origin);
        using var activity = RelayTelemetry.Source.StartActivity("trigger run", ActivityKind.Internal);
        activity?.SetTag("jobrelay.trigger", run.Trigger);
        activity?.SetTag("jobrelay.origin", origin.ToString());
        activity?.SetTag("jobrelay.run_id", run.RunId);

        TriggerDefinition trigger;
        JobRequest request;
        IJobPlatform platform;
        try
        {
            trigger = GetTrigger(run.Trigger);
            if (!trigger.Enabled)
            {
                throw new RelayException(RelayErrorKind.Forbidden, $"Trigger '{trigger.Name}' is disabled in the catalog.");
            }

            request = TriggerJobFactory.Create(trigger, Catalog, Deserialize(run.Arguments));
            platform = _platforms.Get(trigger.Platform);
        }
        catch (RelayException ex)
        {
            RunLog.JobNotStarted(_logger, run.Trigger, "-", origin, ex.Kind, ex.Message);
            await GiveUpAsync(lease, run, ex, senderWaits, CancellationToken.None);
            throw;
        }

        activity?.SetTag("jobrelay.platform", platform.Name);
        var calling = await _store.BeginStartAsync(lease, _options.StartLease, cancellationToken);
        if (calling is null)
        {
            // Another instance took the claim over: its answer is this run's answer.
            var current = await _store.FindAsync(run.Key, cancellationToken) ?? run;
            return new RunOutcome(current, IsFirst: false);
        }

        StartedJob started;
        try
        {
            started = await platform.StartJobAsync(request, cancellationToken);
        }
        catch (RelayException ex) when (queueWhenUnavailable && NothingWasSent(ex))
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.Kind.ToString());
            var kept = await KeepPendingAsync(calling, run, ex);
            CountStart(run.Trigger, platform.Name, RunStateNames.Of(kept.Record.State));
            return kept;
        }
        catch (RelayException ex)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.Kind.ToString());
            RunLog.JobNotStarted(_logger, trigger.Name, trigger.Platform, origin, ex.Kind, ex.Message);
            CountStart(run.Trigger, platform.Name, await GiveUpAsync(calling, run, ex, senderWaits, CancellationToken.None));
            throw;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Whatever broke the call (a cancelled request, an unexpected failure) may have struck after it was sent.
            await SettleAsync(calling, RunSettlement.OutcomeUnknown("the start was interrupted; the platform may have received it"), CancellationToken.None);
            CountStart(run.Trigger, platform.Name, "outcome-unknown");
            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            // Answered as what it is, an outcome unknown, and never as an unexpected failure of JobRelay's own.
            throw new RelayException(
                RelayErrorKind.OutcomeUnknown,
                $"The start of trigger '{run.Trigger}' on platform '{platform.Name}' was interrupted ({ex.GetType().Name}); the job may or may not have been created: check the platform before starting it again.",
                ex)
            { Platform = platform.Name };
        }

        // A job the platform ended as soon as it created it is still a job: recorded as started, with its failed
        // status and why, so that nothing sends it again. The start arms the job's watch in the same write: no started
        // job is left unfollowed (one that already ended is checked at once, and its chains run from the watch).
        var endedAtOnce = started.Status is { IsFinal: true, State: not JobState.Succeeded } ? started.Status.Message ?? $"the job ended at once ({started.Status.RawStatus})" : null;
        var now = _timeProvider.GetUtcNow();
        var settlement = RunSettlement.Started(platform.Name, started.Status, started.JobSecret) with
        {
            Reason = endedAtOnce,
            WatchNextAt = WatchSchedule.FirstCheck(now, trigger, _watch, started.Status),
        };
        await SettleAsync(calling, settlement, CancellationToken.None);
        var record = run with
        {
            State = RunState.Started,
            Version = calling.Version + 1,
            LeaseUntil = null,
            Platform = platform.Name,
            JobId = started.JobId,
            JobState = started.Status.State,
            RawStatus = started.Status.RawStatus,
            JobUrl = started.Status.Url,
            JobStartedAt = started.Status.StartedAt,
            Reason = endedAtOnce,
            UpdatedAt = now,
            Watch = WatchState.Watching,
            WatchNextAt = settlement.WatchNextAt,
        };
        activity?.SetTag("jobrelay.job_id", started.JobId);
        CountStart(run.Trigger, platform.Name, "started");
        RunLog.JobStarted(_logger, run.Trigger, platform.Name, started.JobId, run.RunId, origin);
        return new RunOutcome(record, IsFirst: true) { StartedStatus = started.Status };
    }

    /// <summary>Claims, waiting a while for a claim in flight elsewhere to settle.</summary>
    private async Task<ClaimResult> ClaimAsync(NewRun run, CancellationToken cancellationToken)
    {
        using var activity = RelayTelemetry.Source.StartActivity("run claim", ActivityKind.Internal);
        activity?.SetTag("jobrelay.trigger", run.Trigger);
        activity?.SetTag("jobrelay.claim.kind", run.Key.Kind.ToString());
        var waitUntil = _timeProvider.GetUtcNow() + _options.InFlightWait;
        var pause = TimeSpan.FromMilliseconds(10);
        while (true)
        {
            var claim = await _store.ClaimAsync(run, _options.ClaimLease, cancellationToken);
            if (claim.Status != ClaimStatus.InFlight)
            {
                activity?.SetTag("jobrelay.claim.status", claim.Status.ToString());
                activity?.SetTag("jobrelay.run_id", claim.Run.RunId);
                return claim;
            }

            if (_timeProvider.GetUtcNow() >= waitUntil)
            {
                RunLog.StillInFlight(_logger, run.Key, claim.Run.RunId);
                throw new RelayException(RelayErrorKind.InFlight,
                    $"An identical request (run {claim.Run.RunId}) is being started right now; send it again shortly to get its outcome.")
                {
                    RetryAfter = TimeSpan.FromSeconds(2),
                };
            }

            await Task.Delay(pause, _timeProvider, cancellationToken);
            pause = TimeSpan.FromMilliseconds(Math.Min(pause.TotalMilliseconds * 2, 250));
        }
    }

    private async Task<RunOutcome> KeepPendingAsync(RunLease lease, RunRecord run, RelayException ex)
    {
        var now = _timeProvider.GetUtcNow();
        var deadline = run.Deadline ?? now + _options.PendingDeadline;
        var attempts = run.Attempts + 1;
        var backoff = TimeSpan.FromTicks(Math.Min(_options.RetryMaxDelay.Ticks, _options.RetryBaseDelay.Ticks * (1L << Math.Min(attempts - 1, 20))));
        var wait = ex.RetryAfter is { } asked && asked > backoff ? asked : backoff;
        if (now + wait > deadline)
        {
            RunLog.PendingExpired(_logger, run.Trigger, run.RunId, attempts, ex.Message);
            await SettleAsync(lease, RunSettlement.Refused($"the platform stayed unavailable until the deadline: {ex.Message}"), CancellationToken.None);
            return new RunOutcome(run with { State = RunState.Refused, Reason = ex.Message, Attempts = attempts, Version = lease.Version + 1 }, IsFirst: true);
        }

        var next = now + wait;
        RunLog.KeptPending(_logger, run.Trigger, run.RunId, attempts, next, ex.Message);
        await SettleAsync(lease, RunSettlement.Pending(ex.Message, next, deadline), CancellationToken.None);
        return new RunOutcome(run with { State = RunState.Pending, Reason = ex.Message, Attempts = attempts, NextAttemptAt = next, Deadline = deadline, Version = lease.Version + 1 }, IsFirst: true);
    }

    /// <summary>
    /// Ends a run that did not start. A start that may have reached the platform is settled as unknown and never resent.
    /// One that provably did not is released when its sender can send it again (a delivery, a job-end event), and
    /// recorded as refused otherwise.
    /// </summary>
    /// <returns>What became of the start, as the job-start metric names it.</returns>
    private async Task<string> GiveUpAsync(RunLease lease, RunRecord run, RelayException ex, bool senderWaits, CancellationToken cancellationToken)
    {
        if (ex.Kind is RelayErrorKind.OutcomeUnknown or RelayErrorKind.InvalidPlatformResponse)
        {
            await SettleAsync(lease, RunSettlement.OutcomeUnknown(ex.Message), cancellationToken);
            return "outcome-unknown";
        }

        if (senderWaits && run.Key.Kind is ClaimKind.Delivery or ClaimKind.ChainEvent)
        {
            await _store.ReleaseAsync(lease, cancellationToken);
            return "released";
        }

        await SettleAsync(lease, RunSettlement.Refused(ex.Message), cancellationToken);
        return "refused";
    }

    /// <summary>
    /// Whether a failed start provably sent nothing the platform acted on, so that it may be sent again: the platform
    /// was unreachable or said it is unavailable, or its credential could not be read from the secret store (that
    /// read comes before the call, and a re-read after a refused credential follows a call the platform refused).
    /// </summary>
    private static bool NothingWasSent(RelayException ex) => ex.Kind is RelayErrorKind.PlatformUnavailable or RelayErrorKind.SecretStoreUnavailable;

    private static void CountStart(string trigger, string platform, string result)
        => RelayTelemetry.JobStarts.Add(1, new TagList
        {
            { "jobrelay.trigger", trigger },
            { "jobrelay.platform", platform },
            { "jobrelay.outcome", result },
        });

    private Task<bool> SettleAsync(RunLease lease, RunSettlement settlement, CancellationToken cancellationToken)
        => _store.SettleAsync(lease, settlement, cancellationToken);

    internal static RunOrigin ParseOrigin(string name)
        => Enum.TryParse<RunOrigin>(name.Replace("-", "", StringComparison.Ordinal), ignoreCase: true, out var origin) ? origin : RunOrigin.Api;

    internal static string OriginName(RunOrigin origin) => origin == RunOrigin.StartAgain ? "start-again" : origin.ToString().ToLowerInvariant();

    /// <summary>The run recorded under a claim key, if the store still holds one.</summary>
    internal Task<RunRecord?> FindClaimAsync(ClaimKey key, CancellationToken cancellationToken)
        => _store.FindAsync(key, cancellationToken);

    /// <summary>The run a platform's job belongs to, when JobRelay started that job and still remembers it.</summary>
    internal Task<RunRecord?> FindRunOfJobAsync(string platform, string jobId, CancellationToken cancellationToken)
        => _store.FindRunByJobAsync(platform, jobId, cancellationToken);

    private static string? CurrentTraceParent()
        => Activity.Current is { IdFormat: ActivityIdFormat.W3C } current ? current.Id : null;

    private static string Serialize(IReadOnlyDictionary<string, JsonNode?> arguments)
    {
        var json = new JsonObject();
        foreach (var (name, value) in arguments)
        {
            json[name] = value?.DeepClone();
        }

        return json.ToJsonString();
    }

    private static Dictionary<string, JsonNode?> Deserialize(string arguments)
    {
        if (JsonNode.Parse(arguments) is not JsonObject json || json.Count == 0)
        {
            return NoArguments;
        }

        var values = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        foreach (var (name, value) in json)
        {
            values[name] = value?.DeepClone();
        }

        return values;
    }

    private static string NewRunId() => Guid.CreateVersion7().ToString("n");
}

/// <summary>What became of a start: the run as recorded, and whether this call made it (rather than a duplicate).</summary>
internal sealed record RunOutcome(RunRecord Record, bool IsFirst)
{
    /// <summary>The status the platform answered with, when this call started the job.</summary>
    public JobStatus? StartedStatus { get; init; }

    /// <summary>The started run, or null when the run is not started (ignored, pending, refused, of unknown outcome).</summary>
    public RelayRun? Run => Record is { State: RunState.Started, Platform: { } platform, JobId: { } jobId }
        ? new RelayRun(
            Record.RunId,
            Record.Trigger,
            platform,
            jobId,
            StartedStatus ?? new JobStatus(jobId, Record.JobState ?? JobState.Queued, Record.RawStatus ?? "unknown", Record.JobState is JobState.Succeeded or JobState.Failed or JobState.Cancelled) { Url = Record.JobUrl },
            TriggerRunner.ParseOrigin(Record.Origin),
            Record.UpdatedAt)
        : null;
}

internal static partial class RunLog
{
    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "Started job {JobId} on platform {Platform} for trigger {Trigger} (run {RunId}, {Origin})")]
    public static partial void JobStarted(ILogger logger, string trigger, string platform, string jobId, string runId, RunOrigin origin);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Warning, Message = "No job started on platform {Platform} for trigger {Trigger} ({Origin}): {Kind}: {Reason}")]
    public static partial void JobNotStarted(ILogger logger, string trigger, string platform, RunOrigin origin, RelayErrorKind kind, string reason);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "The platform did not get the start of run {RunId} for trigger {Trigger} (attempt {Attempts}); it stays pending until {NextAttemptAt}: {Reason}")]
    public static partial void KeptPending(ILogger logger, string trigger, string runId, int attempts, DateTimeOffset nextAttemptAt, string reason);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Error, Message = "Run {RunId} for trigger {Trigger} is refused: the platform stayed unavailable until its deadline (attempt {Attempts}): {Reason}")]
    public static partial void PendingExpired(ILogger logger, string trigger, string runId, int attempts, string reason);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Information, Message = "Claim {Key} (run {RunId}) is still being started elsewhere; the caller is asked to retry")]
    public static partial void StillInFlight(ILogger logger, ClaimKey key, string runId);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Information, Message = "Queued run {RunId} of trigger {Trigger} ({Origin}) for the sweep to start")]
    public static partial void Queued(ILogger logger, string trigger, string runId, RunOrigin origin);
}
