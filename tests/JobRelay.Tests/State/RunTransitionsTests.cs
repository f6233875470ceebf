using JobRelay.Model;
using JobRelay.Platforms;
using JobRelay.State;

namespace JobRelay.Tests.State;

/// <summary>The run protocol's table: its rows, the effects each write carries, and the decisions the stores take from it.</summary>
public sealed class RunTransitionsTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void TheTableHoldsEveryTransitionOfTheProtocolWithItsStates()
    {
        var rows = RunTransitions.All.Select(t => $"{t.Name}: {string.Join(", ", t.FromNames)} -> {t.ToName}");

        Assert.Equal(
            [
                "Claim: Absent -> Claimed",
                "ClaimIgnored: Absent -> Ignored",
                "TakeOver: Claimed -> Claimed",
                "TakePending: Pending -> Claimed",
                "BeginStart: Claimed -> Starting",
                "Start: Starting -> Started",
                "KeepPending: Claimed, Starting -> Pending",
                "Refuse: Claimed, Starting -> Refused",
                "Unknown: Starting -> OutcomeUnknown",
                "Release: Claimed, Starting -> Absent",
                "ExpireStart: Starting -> OutcomeUnknown",
            ],
            rows);
    }

    [Fact]
    public void EveryStateIsReachedAndOnlyTheClaimPhasesAndPendingAreEverLeft()
    {
        var entered = RunTransitions.All.Select(t => t.To).OfType<RunState>().ToHashSet();
        var left = RunTransitions.All.SelectMany(t => t.FromStates).ToHashSet();

        Assert.Equal(Enum.GetValues<RunState>().ToHashSet(), entered);
        Assert.Equal([RunState.Claimed, RunState.Starting, RunState.Pending], left.Order());
        Assert.All(left.Where(s => s != RunState.Pending), s => Assert.False(Record(s).IsSettled));
    }

    [Fact]
    public void TheGuardsAndEffectsAreTheProtocols()
    {
        var byName = RunTransitions.All.ToDictionary(t => t.Name);

        Assert.Equal(["Claim", "ClaimIgnored"], RunTransitions.All.Where(t => t.Guard == RunGuard.Absent).Select(t => t.Name));
        Assert.Equal(["TakeOver", "ExpireStart"], RunTransitions.All.Where(t => t.Guard == RunGuard.LeaseExpired).Select(t => t.Name));
        Assert.Equal(["TakePending"], RunTransitions.All.Where(t => t.Guard == RunGuard.Due).Select(t => t.Name));
        Assert.Equal(["BeginStart", "KeepPending"], RunTransitions.All.Where(t => t.IsDurable).Select(t => t.Name));
        Assert.Equal(["Claim", "TakeOver", "TakePending", "BeginStart"], RunTransitions.All.Where(t => t.Effects.HasFlag(RunEffects.GrantLease)).Select(t => t.Name));
        Assert.Equal(["BeginStart"], RunTransitions.All.Where(t => t.Effects.HasFlag(RunEffects.CountAttempt)).Select(t => t.Name));
        Assert.Equal(["Release"], RunTransitions.All.Where(t => t.Effects.HasFlag(RunEffects.DeleteRow)).Select(t => t.Name));
        Assert.All(RunTransitions.All.Where(t => t.Guard != RunGuard.Absent && t.To is not null), t => Assert.True(t.Effects.HasFlag(RunEffects.BumpVersion), t.Name));
        Assert.All(RunTransitions.All.Where(t => t.To is { } to && Record(to).IsSettled && t.Guard != RunGuard.Absent), t => Assert.True(t.Effects.HasFlag(RunEffects.ClearLease), t.Name));
        Assert.Equal(RunTransitions.Claim, byName["Claim"]);
    }

    [Fact]
    public void AClaimInsertsWhenNothingIsFoundTakesOverAnExpiredClaimAndExpiresAnExpiredCall()
    {
        Assert.Equal(ClaimStep.Insert, RunTransitions.OnClaim(null, Now));
        Assert.Equal(ClaimStep.TakeOver, RunTransitions.OnClaim(Record(RunState.Claimed) with { LeaseUntil = Now }, Now));
        Assert.Equal(ClaimStep.InFlight, RunTransitions.OnClaim(Record(RunState.Claimed) with { LeaseUntil = Now.AddTicks(1) }, Now));
        Assert.Equal(ClaimStep.ExpireStart, RunTransitions.OnClaim(Record(RunState.Starting) with { LeaseUntil = Now }, Now));
        Assert.Equal(ClaimStep.InFlight, RunTransitions.OnClaim(Record(RunState.Starting) with { LeaseUntil = Now.AddTicks(1) }, Now));
        Assert.All(
            [RunState.Pending, RunState.Started, RunState.OutcomeUnknown, RunState.Refused, RunState.Ignored],
            state => Assert.Equal(ClaimStep.Settled, RunTransitions.OnClaim(Record(state) with { LeaseUntil = Now.AddDays(-1), NextAttemptAt = Now.AddDays(-1) }, Now)));
    }

    [Fact]
    public void TheSweepTakesADuePendingStartOrAnAbandonedClaimAndExpiresAnAbandonedCallButNothingElse()
    {
        Assert.Same(RunTransitions.TakePending, RunTransitions.OnDue(Record(RunState.Pending) with { NextAttemptAt = Now }, Now));
        Assert.Null(RunTransitions.OnDue(Record(RunState.Pending) with { NextAttemptAt = Now.AddSeconds(1) }, Now));
        Assert.Same(RunTransitions.TakeOver, RunTransitions.OnDue(Record(RunState.Claimed) with { LeaseUntil = Now.AddSeconds(-1) }, Now));
        Assert.Null(RunTransitions.OnDue(Record(RunState.Claimed) with { LeaseUntil = Now.AddSeconds(1) }, Now));
        Assert.Same(RunTransitions.ExpireStart, RunTransitions.OnDue(Record(RunState.Starting) with { LeaseUntil = Now }, Now));
        Assert.Null(RunTransitions.OnDue(Record(RunState.Started) with { LeaseUntil = Now.AddDays(-1), NextAttemptAt = Now.AddDays(-1) }, Now));
    }

    [Fact]
    public void ASettlementTakesTheTransitionOfItsStateAndNothingElseSettles()
    {
        Assert.Same(RunTransitions.Start, RunTransitions.OnSettle(RunSettlement.Started("kbc", new JobStatus("1", JobState.Queued, "created", false), null)));
        Assert.Same(RunTransitions.KeepPending, RunTransitions.OnSettle(RunSettlement.Pending("down", Now, Now.AddHours(1))));
        Assert.Same(RunTransitions.Refuse, RunTransitions.OnSettle(RunSettlement.Refused("no")));
        Assert.Same(RunTransitions.Unknown, RunTransitions.OnSettle(RunSettlement.OutcomeUnknown("timeout")));
        Assert.All(
            [RunState.Claimed, RunState.Starting, RunState.Ignored],
            state => Assert.Throws<ArgumentException>(() => RunTransitions.OnSettle(new RunSettlement(state))));
    }

    [Fact]
    public void ApplyingATransitionWritesItsEffectsAndKeepsTheRowIdentity()
    {
        var claimed = Record(RunState.Claimed) with { Version = 4, Attempts = 1, LeaseUntil = Now, Platform = "kbc", Deadline = Now.AddHours(2) };

        var calling = RunTransitions.BeginStart.Apply(claimed, Now, TimeSpan.FromMinutes(1));
        var started = RunTransitions.Start.Apply(calling, Now.AddSeconds(1), outcome: RunSettlement.Started("kbc", new JobStatus("job-1", JobState.Failed, "error", true), null));
        var expired = RunTransitions.ExpireStart.Apply(calling, Now.AddMinutes(2), outcome: RunTransitions.ExpiredStart);

        Assert.Equal((RunState.Starting, 5L, 2, Now.AddMinutes(1)), (calling.State, calling.Version, calling.Attempts, calling.LeaseUntil));
        Assert.Equal((RunState.Started, 6L, "job-1", JobState.Failed, (DateTimeOffset?)null), (started.State, started.Version, started.JobId, started.JobState, started.LeaseUntil));
        Assert.Equal(Now.AddHours(2), started.Deadline);
        Assert.Equal((RunState.OutcomeUnknown, 6L, RunTransitions.ExpiredStart.Reason), (expired.State, expired.Version, expired.Reason));
        Assert.All([calling, started, expired], r => Assert.Equal(claimed.RunId, r.RunId));
        Assert.Throws<InvalidOperationException>(() => RunTransitions.Release.Apply(claimed, Now));
        Assert.Throws<ArgumentNullException>(() => RunTransitions.Refuse.Apply(claimed, Now));
    }

    [Fact]
    public void ATransitionIsAllowedOnlyFromItsStatesAndUnderItsGuard()
    {
        Assert.True(RunTransitions.Claim.Allows(null, Now));
        Assert.False(RunTransitions.Claim.Allows(Record(RunState.Refused), Now));
        Assert.False(RunTransitions.TakeOver.Allows(null, Now));
        Assert.False(RunTransitions.Start.Allows(Record(RunState.Claimed), Now));
        Assert.True(RunTransitions.Refuse.Allows(Record(RunState.Claimed), Now));
        Assert.False(RunTransitions.TakePending.Allows(Record(RunState.Pending) with { NextAttemptAt = null }, Now));
    }

    private static RunRecord Record(RunState state) => new()
    {
        Key = new DeliveryKey("nightly", "evt_1"),
        RunId = "run-1",
        Trigger = "nightly",
        Origin = "webhook",
        Arguments = "{}",
        State = state,
        Version = 1,
        CreatedAt = Now.AddMinutes(-5),
        UpdatedAt = Now.AddMinutes(-5),
    };
}
