namespace JobRelay.State;

/// <summary>
/// Adds up a trigger's runs into a <see cref="RunSummary"/>, the same way for every store: a count per state, the
/// start latency (claim to the platform's answer) of each started run, and the counted outcomes.
/// </summary>
internal sealed class RunTally
{
    private readonly Dictionary<RunState, long> _states = [];
    private readonly List<TimeSpan> _latencies = [];
    private readonly Dictionary<CountedOutcome, long> _counted = [];
    private long _overdue;

    /// <summary>Counts one run, as of its state, creation and last write, and whether its job ran past its maxDuration.</summary>
    public void AddRun(RunState state, DateTimeOffset createdAt, DateTimeOffset updatedAt, bool overdue = false)
    {
        _overdue += overdue ? 1 : 0;
        _states[state] = _states.GetValueOrDefault(state) + 1;
        if (state == RunState.Started)
        {
            _latencies.Add(updatedAt - createdAt);
        }
    }

    /// <summary>Adds <paramref name="count"/> outcomes that created no run.</summary>
    public void AddCounted(CountedOutcome outcome, long count) => _counted[outcome] = _counted.GetValueOrDefault(outcome) + count;

    public RunSummary ToSummary() => new(_states, _latencies, _counted) { Overdue = _overdue };
}
