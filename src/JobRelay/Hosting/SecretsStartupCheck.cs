using JobRelay.Model;
using JobRelay.Secrets;
using JobRelay.Triggers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace JobRelay.Hosting;

/// <summary>One secret the catalog names that could not be read, and why. The message names the secret, never a value.</summary>
public sealed record UnreadableSecret(string Name, RelayErrorKind Kind, string Message);

/// <summary>
/// Reads every secret the catalog names once, as the host starts, and warns about each one that cannot be read.
/// Without it a host with no secrets configured starts cleanly and then fails every run; with it the operator sees
/// the missing names before the first sender does. The host starts either way: a secret may be created later.
/// </summary>
public sealed partial class SecretsStartupCheck(CatalogSource catalog, ISecretStore secrets, ILogger<SecretsStartupCheck> logger) : IHostedService
{
    private Task<IReadOnlyList<UnreadableSecret>>? _check;

    /// <summary>The outcome of the check made at start (started on first use when the host did not run it).</summary>
    public Task<IReadOnlyList<UnreadableSecret>> Completion => _check ??= CheckAsync(CancellationToken.None);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // Not awaited: an unreachable vault must not hold the host's start for the length of the SDK's retries.
        _check ??= CheckAsync(CancellationToken.None);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Reads every secret the catalog names and returns those that cannot be read, by name.</summary>
    public async Task<IReadOnlyList<UnreadableSecret>> CheckAsync(CancellationToken cancellationToken)
    {
        if (catalog.LoadResult.Catalog is not { } loaded)
        {
            return [];
        }

        var outcomes = await Task.WhenAll(CatalogSecrets.Names(loaded).Select(async name =>
        {
            try
            {
                await secrets.GetAsync(name, cancellationToken);
                return null;
            }
            catch (RelayException ex)
            {
                return new UnreadableSecret(name, ex.Kind, ex.Message);
            }
        }));
        var unreadable = outcomes.OfType<UnreadableSecret>().ToList();
        foreach (var secret in unreadable)
        {
            Unreadable(logger, secret.Name, secret.Kind, secret.Message);
        }

        return unreadable;
    }

    [LoggerMessage(EventId = 1150, Level = LogLevel.Warning, Message = "Secret {SecretName} cannot be read ({Kind}): {Detail}")]
    private static partial void Unreadable(ILogger logger, string secretName, RelayErrorKind kind, string detail);
}

/// <summary>Registration of the start-up secrets check, for hosts that serve requests.</summary>
public static class SecretsStartupCheckRegistration
{
    public static IServiceCollection AddJobRelaySecretsStartupCheck(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton<SecretsStartupCheck>();
        services.AddHostedService(provider => provider.GetRequiredService<SecretsStartupCheck>());
        return services;
    }
}
