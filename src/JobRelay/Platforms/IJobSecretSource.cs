namespace JobRelay.Platforms;

/// <summary>Where a platform adapter finds the per-job secret a platform gave when it started a job (TheEye).</summary>
internal interface IJobSecretSource
{
    /// <summary>The secret of <paramref name="jobId"/> on <paramref name="platform"/>, or null when none is known.</summary>
    Task<string?> FindAsync(string platform, string jobId, CancellationToken cancellationToken);
}
