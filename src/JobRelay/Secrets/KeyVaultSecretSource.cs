using Azure;
using Azure.Core;
using Azure.Identity;
using Azure.Security.KeyVault.Secrets;
using JobRelay.Diagnostics;
using JobRelay.Model;
using Microsoft.Extensions.Logging;

namespace JobRelay.Secrets;

/// <summary>
/// Secrets from Azure Key Vault through <see cref="SecretClient"/>. Failures are told apart — missing, forbidden,
/// disabled, unreachable or unauthenticated — and every message names the secret and the vault, never a value.
/// Every failure of the vault or the identity that is not a refusal is <see cref="RelayErrorKind.SecretStoreUnavailable"/>,
/// which the cache bridges with the last good value.
/// </summary>
internal sealed class KeyVaultSecretSource : ISecretSource
{
    private readonly SecretClient _client;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<KeyVaultSecretSource> _logger;
    private readonly string _vault;

    public KeyVaultSecretSource(SecretClient client, TimeProvider timeProvider, ILogger<KeyVaultSecretSource> logger)
    {
        ArgumentNullException.ThrowIfNull(client);
        _client = client;
        _timeProvider = timeProvider;
        _logger = logger;
        _vault = client.VaultUri.Host;
    }

    /// <summary>
    /// A client for the vault: <see cref="DefaultAzureCredential"/> (a managed identity in Azure, the developer's
    /// sign-in locally), a few quick retries, and no logging of request content.
    /// </summary>
    public static SecretClient CreateClient(KeyVaultOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var vault = options.VaultUri ?? throw new InvalidOperationException("JobRelay:KeyVault:VaultUri is not set.");
        var clientId = string.IsNullOrWhiteSpace(options.ManagedIdentityClientId)
            ? Environment.GetEnvironmentVariable("AZURE_CLIENT_ID")
            : options.ManagedIdentityClientId;
        var credential = new DefaultAzureCredential(new DefaultAzureCredentialOptions
        {
            ManagedIdentityClientId = string.IsNullOrWhiteSpace(clientId) ? null : clientId,
            ExcludeInteractiveBrowserCredential = true,
        });
        var clientOptions = new SecretClientOptions();
        clientOptions.Retry.MaxRetries = 2;
        clientOptions.Retry.Mode = RetryMode.Exponential;
        clientOptions.Retry.NetworkTimeout = TimeSpan.FromSeconds(10);
        clientOptions.Diagnostics.IsLoggingContentEnabled = false;
        return new SecretClient(vault, credential, clientOptions);
    }

    public async Task<SecretValue> ReadAsync(string name, CancellationToken cancellationToken)
    {
        var outcome = "failed";
        try
        {
            var value = await ReadFromVaultAsync(name, cancellationToken);
            outcome = "read";
            return value;
        }
        catch (RelayException ex)
        {
            outcome = ex.Kind.ToString();
            throw;
        }
        finally
        {
            RelayTelemetry.SecretReads.Add(1, new KeyValuePair<string, object?>("jobrelay.outcome", outcome));
        }
    }

    private async Task<SecretValue> ReadFromVaultAsync(string name, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Length > 127 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
        {
            throw new RelayException(RelayErrorKind.InvalidInput, $"'{name}' is not a Key Vault secret name: 1 to 127 letters, digits and '-'.");
        }

        try
        {
            var response = await _client.GetSecretAsync(name, version: null, cancellationToken);
            var secret = response.Value;
            SecretLog.Read(_logger, name, _vault, secret.Properties.Version);
            return new SecretValue(name, secret.Value ?? string.Empty, secret.Properties.Version, _timeProvider.GetUtcNow());
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            throw Fail(RelayErrorKind.SecretNotFound, name, ex.Status, $"Secret '{name}' does not exist in Key Vault {_vault}. Create it with: az keyvault secret set --vault-name {VaultName} --name {name} --value <value>.");
        }
        catch (RequestFailedException ex) when (ex.Status == 403 && string.Equals(ex.ErrorCode, "SecretDisabled", StringComparison.OrdinalIgnoreCase))
        {
            throw Fail(RelayErrorKind.SecretForbidden, name, ex.Status, $"Secret '{name}' is disabled in Key Vault {_vault}: enable it, or point the catalog at another secret.");
        }
        catch (RequestFailedException ex) when (ex.Status == 403)
        {
            throw Fail(RelayErrorKind.SecretForbidden, name, ex.Status, $"Key Vault {_vault} refused to give secret '{name}' to this identity: grant it the 'Key Vault Secrets User' role on the vault (or check the vault's network rules).");
        }
        catch (RequestFailedException ex) when (ex.Status == 401)
        {
            throw Fail(RelayErrorKind.SecretStoreUnavailable, name, ex.Status, $"Key Vault {_vault} did not accept this identity's token while reading secret '{name}': check the tenant and the identity.");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (RequestFailedException ex) when (ex.Status != 0)
        {
            throw Unavailable(name, ex, ex.Status, RetryAfter(ex));
        }
        catch (Exception ex)
        {
            // After its retries the SDK throws an AggregateException of every attempt's failure; a network timeout
            // surfaces as a cancellation nobody asked for. Whatever the shape, the vault or the identity failed,
            // and that is an outage to answer as one (and to bridge with the last good value), never a crash.
            throw Unavailable(name, ex, status: null, retryAfter: null);
        }
    }

    private RelayException Unavailable(string name, Exception failure, int? status, TimeSpan? retryAfter)
    {
        var message = FindIdentityFailure(failure) is not null
            ? $"No Azure identity could sign in to read secret '{name}' from Key Vault {_vault}: in Azure, check the managed identity (AZURE_CLIENT_ID) and that the identity endpoint answers; locally, run 'az login'."
            : $"Key Vault {_vault} could not be reached to read secret '{name}': {Cause(failure, status)}.";
        SecretLog.ReadFailed(_logger, name, _vault, RelayErrorKind.SecretStoreUnavailable, status ?? 0, Innermost(failure).GetType().Name);
        return new RelayException(RelayErrorKind.SecretStoreUnavailable, message) { RetryAfter = retryAfter };
    }

    private static AuthenticationFailedException? FindIdentityFailure(Exception failure)
        => Flatten(failure).OfType<AuthenticationFailedException>().FirstOrDefault();

    /// <summary>The failure in words an operator can act on, naming no URL (one could carry a token).</summary>
    private static string Cause(Exception failure, int? status)
    {
        if (status is 429)
        {
            return "it is throttling requests (HTTP 429)";
        }

        if (status is { } code)
        {
            return $"it answered HTTP {code}";
        }

        var all = Flatten(failure).ToList();
        if (all.OfType<RequestFailedException>().LastOrDefault(e => e.Status != 0) is { } answered)
        {
            return answered.Status == 429 ? "it is throttling requests (HTTP 429)" : $"it answered HTTP {answered.Status}";
        }

        if (all.OfType<HttpRequestException>().Select(e => e.HttpRequestError).FirstOrDefault(e => e != HttpRequestError.Unknown) is var error and not HttpRequestError.Unknown)
        {
            return error switch
            {
                HttpRequestError.NameResolutionError => "its host name does not resolve (check JobRelay:KeyVault:VaultUri and DNS)",
                HttpRequestError.ConnectionError => "the connection was refused or dropped",
                HttpRequestError.SecureConnectionError => "the TLS handshake failed (check the certificate and any proxy in between)",
                _ => $"the request failed ({error})",
            };
        }

        if (all.Any(e => e is System.Security.Authentication.AuthenticationException))
        {
            return "the TLS handshake failed (check the certificate and any proxy in between)";
        }

        if (all.Any(e => e is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.HostNotFound or System.Net.Sockets.SocketError.TryAgain or System.Net.Sockets.SocketError.NoData }))
        {
            return "its host name does not resolve (check JobRelay:KeyVault:VaultUri and DNS)";
        }

        // A network timeout cancels the request, which also aborts its socket: the cancellation is the cause.
        if (all.Any(e => e is OperationCanceledException or TimeoutException))
        {
            return "it did not answer in time";
        }

        return all.Any(e => e is System.Net.Sockets.SocketException or IOException)
            ? "the connection was refused or dropped"
            : "the request failed";
    }

    private static IEnumerable<Exception> Flatten(Exception failure)
    {
        var pending = new Stack<Exception>([failure]);
        while (pending.TryPop(out var current))
        {
            yield return current;
            if (current is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions)
                {
                    pending.Push(inner);
                }
            }
            else if (current.InnerException is { } inner)
            {
                pending.Push(inner);
            }
        }
    }

    private static Exception Innermost(Exception failure) => Flatten(failure).Last();

    private static TimeSpan? RetryAfter(RequestFailedException failure)
    {
        var response = failure.GetRawResponse();
        if (response is null || !response.Headers.TryGetValue("Retry-After", out var value))
        {
            return null;
        }

        if (int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds))
        {
            return TimeSpan.FromSeconds(Math.Clamp(seconds, 1, 3600));
        }

        return DateTimeOffset.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var at)
            ? TimeSpan.FromSeconds(Math.Clamp((at - DateTimeOffset.UtcNow).TotalSeconds, 1, 3600))
            : null;
    }

    private string VaultName => _vault.Split('.')[0];

    private RelayException Fail(RelayErrorKind kind, string name, int status, string message)
    {
        SecretLog.ReadFailed(_logger, name, _vault, kind, status, "response");
        return new RelayException(kind, message);
    }
}
