namespace JobRelay.State;

/// <summary>The conditional writes a store performs when <see cref="RunProtocol"/> asks for them.</summary>
internal interface IRunWrites
{
    /// <summary>The record under <paramref name="key"/>, if any.</summary>
    Task<RunRecord?> FindAsync(ClaimKey key, CancellationToken cancellationToken);

    /// <summary>Inserts a key's first record if the key has none; the record as written, or null when the key has one.</summary>
    Task<RunRecord?> InsertAsync(RunRecord first, CancellationToken cancellationToken);

    /// <summary>
    /// Replaces <paramref name="read"/> with <paramref name="next"/> by <paramref name="transition"/>, if the row is
    /// still the one read (same row, same version, a state the transition leaves); the record as written, or null.
    /// </summary>
    Task<RunRecord?> ReplaceAsync(RunTransition transition, RunRecord read, RunRecord next, CancellationToken cancellationToken);
}
