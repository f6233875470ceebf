namespace JobRelay.Secrets;

/// <summary>Calls that use a secret and try once more with a re-read value when the platform refuses it.</summary>
internal static class SecretRotation
{
    /// <summary>
    /// Calls <paramref name="call"/> with the secret; when <paramref name="credentialRejected"/> says the platform
    /// refused the credential (a 401/403 proves nothing was done), re-reads the secret once, in case it was rotated,
    /// and calls exactly once more. Returns the last result; a rejected first result is disposed when disposable.
    /// </summary>
    public static async Task<T> UseWithRotationAsync<T>(
        this ISecretStore store,
        string secretName,
        Func<SecretValue, CancellationToken, Task<T>> call,
        Func<T, bool> credentialRejected,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(call);
        ArgumentNullException.ThrowIfNull(credentialRejected);
        var secret = await store.GetAsync(secretName, cancellationToken);
        var result = await call(secret, cancellationToken);
        if (!credentialRejected(result))
        {
            return result;
        }

        (result as IDisposable)?.Dispose();
        var refreshed = await store.RefreshAsync(secretName, secret, cancellationToken);
        return await call(refreshed, cancellationToken);
    }
}
