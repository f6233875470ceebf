using System.Security.Cryptography;
using System.Text;
using JobRelay.Model;
using JobRelay.Secrets;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobRelay.Http;

/// <summary>
/// Named API keys besides serve's own: <c>JobRelay:Api:Keys:&lt;name&gt;</c> names the secret (in Key Vault, or the
/// configured secrets) that holds the key of that name. The name is what the run history records as "by".
/// </summary>
internal sealed class ApiKeyOptions
{
    public const string SectionName = "JobRelay:Api";

    public Dictionary<string, string> Keys { get; } = new(StringComparer.Ordinal);
}

internal sealed class ApiKeyOptionsValidator : IValidateOptions<ApiKeyOptions>
{
    public ValidateOptionsResult Validate(string? name, ApiKeyOptions options)
    {
        var bad = options.Keys.Where(k => k.Key == ApiKeys.DefaultName || string.IsNullOrWhiteSpace(k.Value)).Select(k => k.Key).ToList();
        return bad.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"JobRelay:Api:Keys: each key needs a name other than '{ApiKeys.DefaultName}' and the name of the secret holding it ({string.Join(", ", bad)}).");
    }
}

/// <summary>Tells which API key a request presented, comparing digests in constant time against every key.</summary>
internal sealed partial class ApiKeys(ISecretStore secrets, IOptions<ApiKeyOptions> options, ILogger<ApiKeys> logger)
{
    /// <summary>The name of serve's own key (<c>--api-key</c>, <c>JobRelay:Serve:ApiKey</c>).</summary>
    public const string DefaultName = "default";

    /// <summary>Where a guarded request keeps the name of the key it presented, for the history's "by".</summary>
    public const string NameItem = "JobRelay.ApiKeyName";

    /// <summary>The header App Service authentication sets to the signed-in caller, in front of the Functions app.</summary>
    public const string ClientPrincipalHeader = "x-ms-client-principal-name";

    /// <summary>The name of the key <paramref name="presented"/> is, or null when it is none of them.</summary>
    public async ValueTask<string?> NameOfAsync(string presented, byte[] defaultDigest, CancellationToken cancellationToken)
    {
        var digest = Digest(presented);
        string? matched = CryptographicOperations.FixedTimeEquals(digest, defaultDigest) ? DefaultName : null;
        foreach (var (name, secretName) in options.Value.Keys)
        {
            byte[] expected;
            try
            {
                expected = Digest((await secrets.GetAsync(secretName, cancellationToken)).Value);
            }
            catch (RelayException ex)
            {
                KeyUnreadable(logger, name, secretName, ex.Kind);
                continue;
            }

            // Every key is compared, whichever matched, so the time taken tells nothing about which one did.
            if (CryptographicOperations.FixedTimeEquals(digest, expected))
            {
                matched ??= name;
            }
        }

        return matched;
    }

    /// <summary>Who acts, as the run history records it: the key's name, or in Azure the signed-in caller.</summary>
    public static string OperatorOf(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.HttpContext.Items.TryGetValue(NameItem, out var name) && name is string keyName)
        {
            return keyName;
        }

        return request.Headers[ClientPrincipalHeader].ToString() is { Length: > 0 and <= 256 } principal ? principal : "function-key";
    }

    public static byte[] Digest(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "API key {Name} cannot be checked: its secret {SecretName} could not be read ({Kind})")]
    private static partial void KeyUnreadable(ILogger logger, string name, string secretName, RelayErrorKind kind);
}
