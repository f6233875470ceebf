using System.Globalization;

namespace JobRelay.State;

/// <summary>What a claim is about. Each kind has its own key space, so a delivery id never meets an occurrence time.</summary>
internal enum ClaimKind
{
    Delivery,
    Occurrence,
    ChainEvent,
    Request,
}

/// <summary>
/// The identity of one thing that must start at most one run: the store's primary key. <see cref="Scope"/> groups keys
/// (a trigger, a follower) and <see cref="Id"/> names one within it.
/// </summary>
internal abstract record ClaimKey
{
    public abstract ClaimKind Kind { get; }

    public abstract string Scope { get; }

    public abstract string Id { get; }

    public sealed override string ToString() => $"{Kind}:{Scope}:{Id}";
}

/// <summary>A webhook delivery: the trigger, and the sender's delivery id (or the digest the replay rule derives).</summary>
/// <remarks>
/// The stores have always kept a digest key as <c>sha256:sha256:&lt;hex&gt;</c>: a delivery id that starts with
/// <see cref="StoredPrefix"/> is stored with it once more, and read back without it. So a sender's retry that spans an
/// upgrade still meets its first delivery, while the key reads <c>sha256:&lt;hex&gt;</c> everywhere it is shown.
/// </remarks>
internal sealed record DeliveryKey : ClaimKey
{
    /// <summary>The prefix of a digest key, doubled in the stored form.</summary>
    public const string StoredPrefix = "sha256:";

    public DeliveryKey(string trigger, string deliveryId)
    {
        ArgumentException.ThrowIfNullOrEmpty(trigger);
        ArgumentException.ThrowIfNullOrEmpty(deliveryId);
        Trigger = trigger;
        DeliveryId = deliveryId;
    }

    public string Trigger { get; }

    public string DeliveryId { get; }

    public override ClaimKind Kind => ClaimKind.Delivery;

    public override string Scope => Trigger;

    public override string Id => DeliveryId.StartsWith(StoredPrefix, StringComparison.Ordinal) ? StoredPrefix + DeliveryId : DeliveryId;

    /// <summary>The key a store's <see cref="Id"/> stands for.</summary>
    public static DeliveryKey FromStored(string trigger, string id)
        => new(trigger, id.StartsWith(StoredPrefix + StoredPrefix, StringComparison.Ordinal) ? id[StoredPrefix.Length..] : id);
}

/// <summary>One occurrence of a trigger's schedule.</summary>
internal sealed record OccurrenceKey : ClaimKey
{
    public OccurrenceKey(string trigger, DateTimeOffset dueAt)
    {
        ArgumentException.ThrowIfNullOrEmpty(trigger);
        Trigger = trigger;
        DueAt = dueAt.ToUniversalTime();
    }

    public string Trigger { get; }

    public DateTimeOffset DueAt { get; }

    public override ClaimKind Kind => ClaimKind.Occurrence;

    public override string Scope => Trigger;

    public override string Id => DueAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);
}

/// <summary>A job that ended on a platform, and one trigger that follows it.</summary>
internal sealed record ChainEventKey : ClaimKey
{
    public ChainEventKey(string platform, string jobId, string follower)
    {
        ArgumentException.ThrowIfNullOrEmpty(platform);
        ArgumentException.ThrowIfNullOrEmpty(jobId);
        ArgumentException.ThrowIfNullOrEmpty(follower);
        Platform = platform;
        JobId = jobId;
        Follower = follower;
    }

    public string Platform { get; }

    public string JobId { get; }

    public string Follower { get; }

    public override ClaimKind Kind => ClaimKind.ChainEvent;

    public override string Scope => Follower;

    public override string Id => $"{Platform}/{JobId}";
}

/// <summary>A run asked for directly (an API call, the CLI): nothing to de-duplicate, so its own run id is its key.</summary>
internal sealed record RequestKey : ClaimKey
{
    public RequestKey(string runId)
    {
        ArgumentException.ThrowIfNullOrEmpty(runId);
        RunId = runId;
    }

    public string RunId { get; }

    public override ClaimKind Kind => ClaimKind.Request;

    public override string Scope => "run";

    public override string Id => RunId;
}

/// <summary>Rebuilds typed keys from the parts a store keeps.</summary>
internal static class ClaimKeys
{
    /// <summary>The claim key in a form safe to show (the API, outbound events): its kind and its value within its scope.</summary>
    public static string Shown(ClaimKey key) => key switch
    {
        DeliveryKey delivery => "delivery:" + delivery.DeliveryId,
        OccurrenceKey occurrence => "occurrence:" + occurrence.DueAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
        ChainEventKey chain => $"chain-event:{chain.Platform}/{chain.JobId}",
        _ => "request:" + key.Id,
    };

    public static ClaimKey Restore(ClaimKind kind, string scope, string id) => kind switch
    {
        ClaimKind.Delivery => DeliveryKey.FromStored(scope, id),
        ClaimKind.Occurrence => new OccurrenceKey(scope, DateTimeOffset.Parse(id, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal)),
        ClaimKind.ChainEvent when id.IndexOf('/', StringComparison.Ordinal) is > 0 and var slash =>
            new ChainEventKey(id[..slash], id[(slash + 1)..], scope),
        ClaimKind.Request => new RequestKey(id),
        _ => throw new InvalidDataException($"The store holds a claim key it cannot read: {kind}:{scope}:{id}."),
    };
}
