using JobRelay.Model;

namespace JobRelay.Secrets;

/// <summary>
/// A secret's value, as read at one moment. Its <see cref="ToString"/> never shows the value, so a secret that
/// slips into a log template or an interpolated message prints as <c>[redacted]</c>.
/// </summary>
public sealed class SecretValue
{
    public SecretValue(string name, string value, string? version, DateTimeOffset readAt)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(value);
        Name = name;
        Value = value;
        Version = version;
        ReadAt = readAt;
    }

    public string Name { get; }

    /// <summary>The secret itself. Use it only to build the request that needs it.</summary>
    public string Value { get; }

    /// <summary>The store's version of the value, when it has versions.</summary>
    public string? Version { get; }

    public DateTimeOffset ReadAt { get; }

    public override string ToString() => $"{Name}=[redacted]";
}

/// <summary>Reads secrets straight from their backend (Key Vault, configuration). No caching.</summary>
internal interface ISecretSource
{
    /// <summary>Reads the secret, or throws <see cref="RelayException"/> with
    /// <see cref="RelayErrorKind.SecretNotFound"/>, <see cref="RelayErrorKind.SecretForbidden"/> or
    /// <see cref="RelayErrorKind.SecretStoreUnavailable"/>; the message names the secret, never its value.</summary>
    Task<SecretValue> ReadAsync(string name, CancellationToken cancellationToken);
}

/// <summary>The secrets JobRelay uses: cached, single-flight, and refreshable after a platform refuses a credential.</summary>
public interface ISecretStore
{
    /// <summary>The current value, from the cache while it is fresh.</summary>
    ValueTask<SecretValue> GetAsync(string name, CancellationToken cancellationToken);

    /// <summary>
    /// Re-reads a secret that a platform has just refused (it may have been rotated). Callers that refused the
    /// same <paramref name="rejected"/> value at the same time share one read; a value newer than the rejected
    /// one already in the cache is returned without a read.
    /// </summary>
    ValueTask<SecretValue> RefreshAsync(string name, SecretValue rejected, CancellationToken cancellationToken);
}
