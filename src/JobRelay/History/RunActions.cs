using JobRelay.Model;
using JobRelay.Platforms;
using JobRelay.Runs;
using JobRelay.State;
using Microsoft.Extensions.Logging;

namespace JobRelay.History;

/// <summary>What an operator action answers: the run it produced or acted on, and a warning to read first, if any.</summary>
public sealed record RunActionResult(RunView Run, string? Warning);

/// <summary>The answer to a replay or a job control: the run produced or acted on.</summary>
internal sealed record RunActionAnswer(RunView Run);

/// <summary>What a control of a run's job came to: the run (with the job's status read after, when applied) and the platform's outcome.</summary>
public sealed record RunControlResult(RunView Run, JobControl Control, JobControlOutcome Outcome);

/// <summary>The answer to a start-again: the new run, and the warning that the first attempt's job may exist.</summary>
internal sealed record StartAgainAnswer(RunView Run, string Warning);

/// <summary>
/// The operator's actions on a run: start again (a run of unknown outcome, confirmed), replay, and the controls of its
/// job on its platform (cancel, approve, reject, restart), through the platform's capabilities. Each is
/// appended to the run's history with the name of the API key used, whether it succeeded or failed. New runs go
/// through the same runner as every API run, with a fresh run id and the acted-on run as their parent.
/// </summary>
public sealed partial class RunActions
{
    public const string StartAgainWarning =
        "The first attempt's job may exist on the platform too: check the platform for a job of this trigger started around the first attempt's time before starting again, and cancel one of them if both run.";

    private readonly IRelayStore _store;
    private readonly TriggerRunner _runner;
    private readonly JobPlatforms _platforms;
    private readonly TimeProvider _clock;
    private readonly ILogger<RunActions> _logger;

    internal RunActions(IRelayStore store, TriggerRunner runner, JobPlatforms platforms, TimeProvider clock, ILogger<RunActions> logger)
    {
        _store = store;
        _runner = runner;
        _platforms = platforms;
        _clock = clock;
        _logger = logger;
    }

    /// <summary>
    /// Starts a run of unknown outcome again. Only with <paramref name="confirmed"/>: the first attempt's job may exist,
    /// and then both run.
    /// </summary>
    public async Task<RunActionResult> StartAgainAsync(string runId, bool confirmed, string by, CancellationToken cancellationToken)
    {
        var run = await FindAsync(runId, cancellationToken);
        if (run.State != RunState.OutcomeUnknown)
        {
            throw new RelayException(RelayErrorKind.Conflict,
                $"Run {run.RunId} is {RunStateNames.Of(run.State)}: only a run of unknown outcome is started again (replay starts any run's trigger again).");
        }

        if (!confirmed)
        {
            throw new RelayException(RelayErrorKind.InvalidInput,
                "confirm must be true: the first attempt's job may already exist on the platform, and starting again could run it twice.") { Parameter = "confirm" };
        }

        var started = await StartFromAsync(run, RunOrigin.StartAgain, "start-again", by, cancellationToken);
        return new RunActionResult(started, StartAgainWarning);
    }

    /// <summary>Starts the run's trigger again from its stored, non-secret arguments, as a new run.</summary>
    public async Task<RunActionResult> ReplayAsync(string runId, string by, CancellationToken cancellationToken)
    {
        var run = await FindAsync(runId, cancellationToken);
        return new RunActionResult(await StartFromAsync(run, RunOrigin.Replay, "replay", by, cancellationToken), null);
    }

    /// <summary>
    /// Applies a control to the run's job on its platform (cancel, approve, reject, restart) and appends it, with its
    /// outcome, to the run's history under <paramref name="by"/>. A control the platform does not offer, or refuses
    /// for this job, is an outcome, never an exception; a run without a job is a conflict.
    /// </summary>
    public async Task<RunControlResult> ControlAsync(string runId, JobControl control, string by, CancellationToken cancellationToken)
    {
        var run = await FindAsync(runId, cancellationToken);
        var (current, outcome) = await ControlJobAsync(run, control, by, cancellationToken);
        return new RunControlResult(RunWire.View(current), control, outcome);
    }

    /// <summary>
    /// Applies <paramref name="control"/> to the run's job through its platform's capability, and appends it (or its
    /// failure) to the run's history under <paramref name="by"/>: the operator's key, or JobRelay itself when a job
    /// ran past its trigger's maxDuration. The operator's cancel and the watch's cancel both come here.
    /// </summary>
    /// <returns>The run, with the job's status read right after when the platform applied the control; and the outcome.</returns>
    /// <param name="saveStatus">Whether the status read after the control is written to the run here; the watch writes
    /// it with its own check instead.</param>
    internal async Task<(RunRecord Run, JobControlOutcome Outcome)> ControlJobAsync(RunRecord run, JobControl control, string by, CancellationToken cancellationToken, bool saveStatus = true)
    {
        ArgumentNullException.ThrowIfNull(run);
        var action = JobControlNames.Of(control);
        if (run is not { Platform: { } platformName, JobId: { } jobId })
        {
            throw new RelayException(RelayErrorKind.Conflict, $"Run {run.RunId} has no job to {action}: it is {RunStateNames.Of(run.State)}.");
        }

        JobControlOutcome outcome;
        try
        {
            var platform = _platforms.Get(platformName);
            outcome = control switch
            {
                JobControl.Cancel => await platform.CancelJobAsync(jobId, cancellationToken),
                JobControl.Approve => await platform.ApproveJobAsync(jobId, cancellationToken),
                JobControl.Reject => await platform.RejectJobAsync(jobId, cancellationToken),
                JobControl.Restart => platform.Controls.Contains(JobControl.Restart)
                    ? await platform.RestartJobAsync(jobId, _runner.RequestOf(run), cancellationToken)
                    : JobControlOutcome.NotOffered(platform, control),
                _ => throw new ArgumentOutOfRangeException(nameof(control), control, null),
            };
        }
        catch (RelayException ex)
        {
            await AuditAsync(run, action, by, $"the {action} of job {jobId} failed: {ex.Message}", CancellationToken.None);
            throw;
        }

        switch (outcome)
        {
            case JobControlOutcome.Applied applied:
                var status = applied.Status;
                var checkedAt = Now();
                if (saveStatus)
                {
                    await _store.SaveJobStatusAsync(run.RunId, status, checkedAt, cancellationToken);
                }

                await AuditAsync(run, action, by, $"{applied.Summary}; the job is {status.RawStatus}", cancellationToken);
                return (run with { JobState = status.State, RawStatus = status.RawStatus, JobUrl = status.Url ?? run.JobUrl, JobCheckedAt = checkedAt }, outcome);
            case JobControlOutcome.NotSupported notSupported:
                await AuditAsync(run, action, by, $"not supported: {notSupported.Reason}", cancellationToken);
                return (run, outcome);
            case JobControlOutcome.Refused refused:
                await AuditAsync(run, action, by, $"refused by the platform (HTTP {refused.PlatformStatusCode}): {refused.Reason}", cancellationToken);
                return (run, outcome);
            default:
                throw new InvalidOperationException($"Unknown control outcome {outcome.GetType().Name}.");
        }
    }

    private async Task<RunView> StartFromAsync(RunRecord run, RunOrigin origin, string action, string by, CancellationToken cancellationToken)
    {
        RunOutcome outcome;
        try
        {
            outcome = await _runner.StartAgainFromAsync(run, origin, cancellationToken);
        }
        catch (RelayException ex)
        {
            await AuditAsync(run, action, by, $"failed: {ex.Message}", CancellationToken.None);
            throw;
        }

        await AuditAsync(run, action, by, $"new run {outcome.Record.RunId}", cancellationToken);
        return RunWire.View(outcome.Record);
    }

    private async Task<RunRecord> FindAsync(string runId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(runId);
        return await _store.FindRunAsync(runId, cancellationToken)
            ?? throw new RelayException(RelayErrorKind.NotFound, $"No run '{runId}' is recorded (runs are kept for the retention window only).");
    }

    private async Task AuditAsync(RunRecord run, string action, string by, string detail, CancellationToken cancellationToken)
    {
        await _store.AppendActionAsync(new RunAction(run.RunId, Now(), action, by, detail), cancellationToken);
        ActionTaken(_logger, action, run.RunId, run.Trigger, by, detail);
    }

    private DateTimeOffset Now() => DateTimeOffset.FromUnixTimeMilliseconds(_clock.GetUtcNow().ToUnixTimeMilliseconds());

    [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "Operator action {Action} on run {RunId} of trigger {Trigger} by key {By}: {Detail}")]
    private static partial void ActionTaken(ILogger logger, string action, string runId, string trigger, string by, string detail);
}
