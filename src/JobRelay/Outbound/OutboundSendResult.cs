namespace JobRelay.Outbound;

/// <summary>What one attempt to send a delivery met: the answer's status (null when none came), a Retry-After, and what went wrong (never a secret).</summary>
internal sealed record OutboundSendResult(int? Status, TimeSpan? RetryAfter, string? Error)
{
    public bool Received => Status is >= 200 and < 300;

    /// <summary>410 Gone: the receiver is gone for good, and its subscription is disabled.</summary>
    public bool Gone => Status == 410;
}
