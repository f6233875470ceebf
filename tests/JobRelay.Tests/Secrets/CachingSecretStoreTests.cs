using JobRelay.Model;
using JobRelay.Secrets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Moq;

namespace JobRelay.Tests.Secrets;

public sealed class CachingSecretStoreTests
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero));
    private readonly CountingSource _source;

    public CachingSecretStoreTests() => _source = new CountingSource(_clock);

    [Fact]
    public async Task AValueIsReadOnceAndServedFromTheCacheUntilItExpires()
    {
        var store = Store();

        var first = await store.GetAsync("token", CancellationToken.None);
        _clock.Advance(TimeSpan.FromMinutes(4));
        var second = await store.GetAsync("token", CancellationToken.None);
        _clock.Advance(TimeSpan.FromMinutes(2));
        var third = await store.GetAsync("token", CancellationToken.None);

        Assert.Same(first, second);
        Assert.NotSame(first, third);
        Assert.Equal(2, _source.Reads);
    }

    [Fact]
    public async Task ManyConcurrentReadersOfAMissingSecretShareOneRead()
    {
        _source.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var store = Store();

        var readers = Enumerable.Range(0, 50).Select(_ => store.GetAsync("token", CancellationToken.None).AsTask()).ToList();
        _source.Gate.SetResult();
        var values = await Task.WhenAll(readers);

        Assert.Equal(1, _source.Reads);
        Assert.All(values, v => Assert.Same(values[0], v));
    }

    [Fact]
    public async Task OneReaderGivingUpDoesNotFailTheOthers()
    {
        _source.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var store = Store();
        using var cancel = new CancellationTokenSource();

        var quitter = store.GetAsync("token", cancel.Token).AsTask();
        var patient = store.GetAsync("token", CancellationToken.None).AsTask();
        await cancel.CancelAsync();
        _source.Gate.SetResult();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => quitter);
        Assert.Equal("value-1", (await patient).Value);
        Assert.Equal(1, _source.Reads);
    }

    [Fact]
    public async Task ARefusedValueIsReadAgainOnceForAllWhoRefusedIt()
    {
        var store = Store();
        var refused = await store.GetAsync("token", CancellationToken.None);
        _source.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var refreshes = Enumerable.Range(0, 10).Select(_ => store.RefreshAsync("token", refused, CancellationToken.None).AsTask()).ToList();
        _source.Gate.SetResult();
        var fresh = await Task.WhenAll(refreshes);

        Assert.Equal(2, _source.Reads);
        Assert.All(fresh, v => Assert.Equal("value-2", v.Value));
    }

    [Fact]
    public async Task ARefreshAfterSomeoneElseRefreshedReadsNothing()
    {
        var store = Store();
        var refused = await store.GetAsync("token", CancellationToken.None);
        _clock.Advance(TimeSpan.FromSeconds(1));
        var renewed = await store.RefreshAsync("token", refused, CancellationToken.None);

        var late = await store.RefreshAsync("token", refused, CancellationToken.None);

        Assert.Same(renewed, late);
        Assert.Equal(2, _source.Reads);
    }

    [Fact]
    public async Task AnUnreachableStoreServesTheLastGoodValueWithinTheGrace()
    {
        var store = Store();
        var good = await store.GetAsync("token", CancellationToken.None);
        _source.Failure = RelayErrorKind.SecretStoreUnavailable;
        _clock.Advance(TimeSpan.FromMinutes(30));

        var stale = await store.GetAsync("token", CancellationToken.None);
        _clock.Advance(TimeSpan.FromHours(1));
        var ex = await Assert.ThrowsAsync<RelayException>(() => store.GetAsync("token", CancellationToken.None).AsTask());

        Assert.Same(good, stale);
        Assert.Equal(RelayErrorKind.SecretStoreUnavailable, ex.Kind);
    }

    [Fact]
    public async Task AMissingSecretIsNotCachedAndNotServedStale()
    {
        var store = Store();
        _source.Failure = RelayErrorKind.SecretNotFound;

        await Assert.ThrowsAsync<RelayException>(() => store.GetAsync("token", CancellationToken.None).AsTask());
        _source.Failure = null;
        var value = await store.GetAsync("token", CancellationToken.None);

        Assert.Equal("value-2", value.Value);
    }

    [Fact]
    public async Task ConfigurationSecretsAcceptUnderscoresForDashesAndExplainAMissingOne()
    {
        var options = new SecretsOptions();
        options.Values["kbc_token"] = "from-env";
        var monitor = Mock.Of<IOptionsMonitor<SecretsOptions>>(m => m.CurrentValue == options);
        var source = new ConfigurationSecretSource(monitor, _clock);

        var found = await source.ReadAsync("kbc-token", CancellationToken.None);
        var ex = await Assert.ThrowsAsync<RelayException>(() => source.ReadAsync("other-secret", CancellationToken.None));

        Assert.Equal("from-env", found.Value);
        Assert.Equal(RelayErrorKind.SecretNotFound, ex.Kind);
        Assert.Contains("JobRelay__Secrets__Values__other_secret", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ASecretValuePrintsRedacted()
    {
        Assert.Equal("token=[redacted]", new SecretValue("token", "abc", null, DateTimeOffset.UnixEpoch).ToString());
    }

    [Theory]
    [InlineData("https://my-vault.vault.azure.net/", typeof(KeyVaultSecretSource))]
    [InlineData(null, typeof(ConfigurationSecretSource))]
    [InlineData("", typeof(ConfigurationSecretSource))]
    public void TheSourceIsKeyVaultExactlyWhenAVaultIsConfigured(string? vaultUri, Type expected)
    {
        using var provider = Provider(new() { ["JobRelay:KeyVault:VaultUri"] = vaultUri });

        Assert.IsType(expected, provider.GetRequiredService<ISecretSource>());
        Assert.IsType<CachingSecretStore>(provider.GetRequiredService<ISecretStore>());
    }

    [Theory]
    [InlineData("JobRelay:KeyVault:VaultUri", "http://my-vault.vault.azure.net/", "must be an absolute https URL")]
    [InlineData("JobRelay:Secrets:CacheDuration", "00:00:00", "must be positive")]
    [InlineData("JobRelay:Secrets:RequireKeyVault", "true", "No Key Vault is configured")]
    public void InvalidSecretSettingsFailAtStart(string key, string value, string message)
    {
        using var provider = Provider(new() { [key] = value });

        var ex = Assert.Throws<OptionsValidationException>(() =>
        {
            _ = provider.GetRequiredService<IOptions<SecretsOptions>>().Value;
            _ = provider.GetRequiredService<IOptions<KeyVaultOptions>>().Value;
        });
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    private static ServiceProvider Provider(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddJobRelaySecrets(configuration);
        return services.BuildServiceProvider();
    }

    private CachingSecretStore Store()
    {
        var monitor = Mock.Of<IOptionsMonitor<SecretsOptions>>(m => m.CurrentValue == new SecretsOptions());
        return new CachingSecretStore(_source, monitor, _clock, NullLogger<CachingSecretStore>.Instance);
    }

    private sealed class CountingSource(TimeProvider clock) : ISecretSource
    {
        private int _reads;

        public int Reads => _reads;

        public TaskCompletionSource? Gate { get; set; }

        public RelayErrorKind? Failure { get; set; }

        public async Task<SecretValue> ReadAsync(string name, CancellationToken cancellationToken)
        {
            var read = Interlocked.Increment(ref _reads);
            if (Gate is { } gate)
            {
                await gate.Task;
            }

            return Failure is { } kind
                ? throw new RelayException(kind, $"Secret '{name}' could not be read.")
                : new SecretValue(name, $"value-{read}", $"v{read}", clock.GetUtcNow());
        }
    }
}
