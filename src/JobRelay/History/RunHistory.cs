using System.Buffers.Text;
using System.Globalization;
using System.Text;
using JobRelay.Hosting;
using JobRelay.Model;
using JobRelay.Platforms;
using JobRelay.State;
using Microsoft.Extensions.Logging;

namespace JobRelay.History;

/// <summary>A listing of runs as asked for: every filter optional, newest first, a page at a time.</summary>
public sealed record RunQuery
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 200;

    public string? Trigger { get; init; }

    public string? Platform { get; init; }

    /// <summary>An origin as the API names it (<see cref="RunWire.Origins"/>).</summary>
    public string? Origin { get; init; }

    /// <summary>A run state as the API names it (<see cref="RunWire.States"/>).</summary>
    public string? State { get; init; }

    /// <summary>Runs created at or after this time.</summary>
    public DateTimeOffset? From { get; init; }

    /// <summary>Runs created before this time.</summary>
    public DateTimeOffset? To { get; init; }

    public int Limit { get; init; } = DefaultLimit;

    /// <summary>The <see cref="RunList.Next"/> of the previous page.</summary>
    public string? Cursor { get; init; }

    /// <summary>
    /// Reads a query from named text values (a query string, command-line options); a value that cannot be read is a
    /// <see cref="RelayErrorKind.InvalidInput"/> failure naming its parameter.
    /// </summary>
    public static RunQuery Parse(Func<string, string?> value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return new RunQuery
        {
            Trigger = Text(value, "trigger"),
            Platform = Text(value, "platform"),
            Origin = Text(value, "origin"),
            State = Text(value, "state"),
            From = Time(value, "from"),
            To = Time(value, "to"),
            Limit = Text(value, "limit") is { } limit
                ? int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) ? parsed : throw Invalid("limit", $"limit must be a whole number from 1 to {MaxLimit}.")
                : DefaultLimit,
            Cursor = Text(value, "cursor"),
        };
    }

    internal static RelayException Invalid(string parameter, string message) => new(RelayErrorKind.InvalidInput, message) { Parameter = parameter };

    private static string? Text(Func<string, string?> value, string name) => value(name) is { Length: > 0 } text ? text : null;

    private static DateTimeOffset? Time(Func<string, string?> value, string name)
    {
        if (Text(value, name) is not { } text)
        {
            return null;
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time)
            && text.Contains('T', StringComparison.Ordinal)
            ? time
            : throw Invalid(name, $"{name} must be an ISO 8601 time such as 2026-12-01T12:00:00Z.");
    }
}

/// <summary>
/// The operator's view of what JobRelay did: runs newest first, one run with its lineage and history, and a trigger's
/// outcome counts. Host-neutral: the HTTP routes and the CLI (over a local data folder) both use it.
/// </summary>
public sealed partial class RunHistory
{
    /// <summary>The longest window <see cref="StatsAsync"/> sums over.</summary>
    public static readonly TimeSpan MaxStatsWindow = TimeSpan.FromDays(31);

    private readonly IRelayStore _store;
    private readonly JobPlatforms _platforms;
    private readonly CatalogSource _catalog;
    private readonly TimeProvider _clock;
    private readonly ILogger<RunHistory> _logger;

    internal RunHistory(IRelayStore store, JobPlatforms platforms, CatalogSource catalog, TimeProvider clock, ILogger<RunHistory> logger)
    {
        _store = store;
        _platforms = platforms;
        _catalog = catalog;
        _clock = clock;
        _logger = logger;
    }

    /// <summary>A page of runs, newest first.</summary>
    public async Task<RunList> ListAsync(RunQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Limit is < 1 or > RunQuery.MaxLimit)
        {
            throw RunQuery.Invalid("limit", $"limit must be a whole number from 1 to {RunQuery.MaxLimit}.");
        }

        RunState? state = null;
        if (query.State is { } stateName)
        {
            state = RunStateNames.Parse(stateName) ?? throw RunQuery.Invalid("state", $"state must be one of {string.Join(", ", RunWire.States)}.");
        }

        if (query.Origin is { } origin && !RunWire.Origins.Contains(origin))
        {
            throw RunQuery.Invalid("origin", $"origin must be one of {string.Join(", ", RunWire.Origins)}.");
        }

        if (query.From is { } from && query.To is { } to && from >= to)
        {
            throw RunQuery.Invalid("to", "to must be later than from.");
        }

        var page = await _store.ListRunsAsync(new RunFilter
        {
            Trigger = query.Trigger,
            Platform = query.Platform,
            Origin = query.Origin,
            State = state,
            From = query.From,
            To = query.To,
            Limit = query.Limit,
            After = query.Cursor is { } cursor ? DecodeCursor(cursor) : null,
        }, cancellationToken);
        return new RunList([.. page.Runs.Select(RunWire.View)], page.Next is { } next ? EncodeCursor(next) : null);
    }

    /// <summary>
    /// The run with its lineage and history, or null when unknown. With <paramref name="readJobStatus"/>, a run with a
    /// job has its status read from the platform now and cached on the run; when the platform cannot answer, the
    /// status last read is shown.
    /// </summary>
    public async Task<RunDetail?> GetAsync(string runId, bool readJobStatus, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(runId);
        var run = await _store.FindRunAsync(runId, cancellationToken);
        if (run is null)
        {
            return null;
        }

        if (readJobStatus && run is { Platform: { } platform, JobId: { } jobId })
        {
            run = await RefreshJobStatusAsync(run, platform, jobId, cancellationToken);
        }

        var parentTask = run.ParentRunId is { } parentId ? _store.FindRunAsync(parentId, cancellationToken) : Task.FromResult<RunRecord?>(null);
        var followersTask = _store.ListFollowersAsync(run.RunId, cancellationToken);
        var historyTask = _store.ListActionsAsync(run.RunId, cancellationToken);
        var eventsTask = _store.ListDeliveriesAsync(run.RunId, cancellationToken);
        await Task.WhenAll(parentTask, followersTask, historyTask, eventsTask);
        var parent = await parentTask;
        return new RunDetail(
            RunWire.View(run),
            RunWire.Cause(run),
            parent is null ? null : RunWire.View(parent),
            [.. (await followersTask).Select(RunWire.View)],
            [.. (await historyTask).Select(a => new RunHistoryEntry(a.At, a.Action, a.By, a.Detail))])
        {
            Events = [.. (await eventsTask).Select(RunWire.Delivery)],
        };
    }

    /// <summary>Outbound deliveries that failed at least once and are not delivered (pending a retry, or dead-lettered), newest first.</summary>
    public async Task<IReadOnlyList<RunEventDelivery>> FailedEventsAsync(int max, CancellationToken cancellationToken)
        => [.. (await _store.ListFailedDeliveriesAsync(Math.Clamp(max, 1, 1000), cancellationToken)).Select(RunWire.Delivery)];

    /// <summary>
    /// The trigger's outcome counts over the <paramref name="window"/> up to now, and the p50/p95 platform start
    /// latency of its started runs (null when none started).
    /// </summary>
    public async Task<TriggerStats> StatsAsync(string trigger, TimeSpan window, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(trigger);
        if (window <= TimeSpan.Zero || window > MaxStatsWindow)
        {
            throw RunQuery.Invalid("window", "window must be an ISO 8601 duration longer than zero and at most P31D, such as PT24H.");
        }

        if (!_catalog.Catalog.Triggers.ContainsKey(trigger))
        {
            throw new RelayException(RelayErrorKind.NotFound, $"Trigger '{trigger}' is not in the catalog.");
        }

        var to = _clock.GetUtcNow();
        var from = to - window;
        var summary = await _store.SummarizeAsync(trigger, from, to, cancellationToken);
        long State(RunState state) => summary.States.GetValueOrDefault(state);
        var counts = new OutcomeCounts(
            State(RunState.Started),
            State(RunState.Pending),
            summary.Counted.GetValueOrDefault(CountedOutcome.Duplicate),
            State(RunState.Ignored),
            summary.Counted.GetValueOrDefault(CountedOutcome.Rejected),
            State(RunState.OutcomeUnknown),
            State(RunState.Refused))
        {
            Overdue = summary.Overdue,
        };
        var latencies = summary.StartLatencies.Select(l => l.TotalMilliseconds).Order().ToArray();
        return new TriggerStats(trigger, from, to, counts,
            latencies.Length == 0 ? null : new LatencyPercentiles(Percentile(latencies, 0.50), Percentile(latencies, 0.95)));
    }

    /// <summary>Nearest rank: the smallest latency that at least <paramref name="share"/> of the runs did not exceed.</summary>
    internal static double Percentile(double[] sorted, double share)
        => sorted[Math.Clamp((int)Math.Ceiling(share * sorted.Length) - 1, 0, sorted.Length - 1)];

    /// <summary>Now, to the millisecond every store keeps, so a time read back equals the one answered.</summary>
    private DateTimeOffset Now() => DateTimeOffset.FromUnixTimeMilliseconds(_clock.GetUtcNow().ToUnixTimeMilliseconds());

    internal static string EncodeCursor(RunPosition position)
        => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(
            string.Create(CultureInfo.InvariantCulture, $"1|{position.CreatedAt.ToUnixTimeMilliseconds()}|{position.RunId}")));

    internal static RunPosition DecodeCursor(string cursor)
    {
        try
        {
            var parts = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor)).Split('|', 3);
            if (parts is ["1", var millis, { Length: > 0 } runId]
                && long.TryParse(millis, NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
                && ms <= DateTimeOffset.MaxValue.ToUnixTimeMilliseconds())
            {
                return new RunPosition(DateTimeOffset.FromUnixTimeMilliseconds(ms), runId);
            }
        }
        catch (FormatException)
        {
        }

        throw RunQuery.Invalid("cursor", "cursor is not one this API gave: pass the next value of the previous page unchanged.");
    }

    private async Task<RunRecord> RefreshJobStatusAsync(RunRecord run, string platform, string jobId, CancellationToken cancellationToken)
    {
        JobStatus status;
        try
        {
            status = await _platforms.Get(platform).GetJobStatusAsync(jobId, cancellationToken);
        }
        catch (RelayException ex)
        {
            StatusReadFailed(_logger, run.RunId, platform, jobId, ex.Kind);
            return run;
        }

        var checkedAt = Now();
        await _store.SaveJobStatusAsync(run.RunId, status, checkedAt, cancellationToken);
        return run with { JobState = status.State, RawStatus = status.RawStatus, JobUrl = status.Url ?? run.JobUrl, JobCheckedAt = checkedAt };
    }

    [LoggerMessage(EventId = 2001, Level = LogLevel.Warning, Message = "The status of job {JobId} on platform {Platform} (run {RunId}) could not be read ({Kind}); the run shows the status last read")]
    private static partial void StatusReadFailed(ILogger logger, string runId, string platform, string jobId, RelayErrorKind kind);
}
