using System.Collections.Concurrent;
using JobRelay.Model;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobRelay.Secrets;

/// <summary>
/// The secret store every part of JobRelay reads through. A value is used for <see cref="SecretsOptions.CacheDuration"/>
/// and then read again; concurrent readers of a missing or expired secret share one read of the source
/// (single-flight), which runs to its end even if the caller that started it gives up. When the source cannot be
/// reached, the last good value is used for up to <see cref="SecretsOptions.StaleGrace"/> more. Failures are not
/// cached: the next caller tries again.
/// </summary>
internal sealed class CachingSecretStore : ISecretStore
{
    private readonly ISecretSource _source;
    private readonly IOptionsMonitor<SecretsOptions> _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<CachingSecretStore> _logger;
    private readonly ConcurrentDictionary<string, SecretValue> _values = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<SecretValue>>> _reads = new(StringComparer.Ordinal);

    public CachingSecretStore(ISecretSource source, IOptionsMonitor<SecretsOptions> options, TimeProvider timeProvider, ILogger<CachingSecretStore> logger)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(options);
        _source = source;
        _options = options;
        _timeProvider = timeProvider;
        _logger = logger;
    }

    public ValueTask<SecretValue> GetAsync(string name, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (_values.TryGetValue(name, out var cached) && Age(cached) < _options.CurrentValue.CacheDuration)
        {
            return ValueTask.FromResult(cached);
        }

        return new ValueTask<SecretValue>(ReadSharedAsync(name).WaitAsync(cancellationToken));
    }

    public ValueTask<SecretValue> RefreshAsync(string name, SecretValue rejected, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(rejected);

        // Someone else has already replaced the refused value: use theirs rather than read again.
        if (_values.TryGetValue(name, out var cached) && !ReferenceEquals(cached, rejected) && cached.ReadAt > rejected.ReadAt)
        {
            return ValueTask.FromResult(cached);
        }

        SecretLog.Refreshing(_logger, name);
        _values.TryRemove(KeyValuePair.Create(name, rejected));
        return new ValueTask<SecretValue>(ReadSharedAsync(name).WaitAsync(cancellationToken));
    }

    private Task<SecretValue> ReadSharedAsync(string name)
    {
        var read = _reads.GetOrAdd(name, key => new Lazy<Task<SecretValue>>(() => ReadAsync(key), LazyThreadSafetyMode.ExecutionAndPublication));
        return read.Value;
    }

    private async Task<SecretValue> ReadAsync(string name)
    {
        try
        {
            // Not the caller's token: the read is shared, and one caller giving up must not fail the others.
            var value = await _source.ReadAsync(name, CancellationToken.None);
            _values[name] = value;
            return value;
        }
        catch (RelayException ex) when (ex.Kind == RelayErrorKind.SecretStoreUnavailable
            && _values.TryGetValue(name, out var stale)
            && Age(stale) < _options.CurrentValue.CacheDuration + _options.CurrentValue.StaleGrace)
        {
            SecretLog.UsingStale(_logger, name, (long)Age(stale).TotalSeconds);
            return stale;
        }
        finally
        {
            _reads.TryRemove(name, out _);
        }
    }

    private TimeSpan Age(SecretValue value) => _timeProvider.GetUtcNow() - value.ReadAt;
}

internal static partial class SecretLog
{
    [LoggerMessage(EventId = 1100, Level = LogLevel.Debug, Message = "Read secret {Name} from Key Vault {Vault} (version {Version})")]
    public static partial void Read(ILogger logger, string name, string vault, string? version);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning, Message = "Could not read secret {Name} from Key Vault {Vault}: {Kind} (status {Status}, {Failure})")]
    public static partial void ReadFailed(ILogger logger, string name, string vault, RelayErrorKind kind, int status, string failure);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Information, Message = "A platform refused secret {Name}; reading it again in case it was rotated")]
    public static partial void Refreshing(ILogger logger, string name);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Warning, Message = "The secret store is unreachable; using the value of secret {Name} read {AgeSeconds} s ago")]
    public static partial void UsingStale(ILogger logger, string name, long ageSeconds);
}
