using Microsoft.Extensions.Options;

namespace JobRelay.Webhooks;

/// <summary>Limits for incoming webhooks (section <c>JobRelay:Webhooks</c>).</summary>
public sealed class WebhookOptions
{
    public const string SectionName = "JobRelay:Webhooks";

    /// <summary>The largest request body read; a larger one is refused before it is buffered.</summary>
    public int MaxBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>How far a signed timestamp may be from now when the trigger sets no tolerance of its own.</summary>
    public TimeSpan DefaultTolerance { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The address the senders are given, up to <c>/api</c> (<c>https://relay.example.net</c>). When set, URLs that
    /// senders sign (Twilio) are rebuilt on it rather than on the scheme and host the request arrived with, which a
    /// TLS-terminating front end or a proxy changes.
    /// </summary>
    public Uri? PublicBaseUrl { get; set; }
}

/// <summary>Checks <see cref="WebhookOptions"/> at start, listing every problem by its configuration key.</summary>
internal sealed class WebhookOptionsValidator : IValidateOptions<WebhookOptions>
{
    public ValidateOptionsResult Validate(string? name, WebhookOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.MaxBodyBytes is < 1024 or > 100 * 1024 * 1024)
        {
            failures.Add($"{WebhookOptions.SectionName}:{nameof(WebhookOptions.MaxBodyBytes)} must be between 1024 and 104857600 bytes.");
        }

        if (options.DefaultTolerance < TimeSpan.FromSeconds(1) || options.DefaultTolerance > TimeSpan.FromHours(1))
        {
            failures.Add($"{WebhookOptions.SectionName}:{nameof(WebhookOptions.DefaultTolerance)} must be between 00:00:01 and 01:00:00.");
        }

        if (options.PublicBaseUrl is { } publicBaseUrl
            && (!publicBaseUrl.IsAbsoluteUri
                || (publicBaseUrl.Scheme != Uri.UriSchemeHttps && publicBaseUrl.Scheme != Uri.UriSchemeHttp)
                || !string.IsNullOrEmpty(publicBaseUrl.Query)
                || !string.IsNullOrEmpty(publicBaseUrl.Fragment)))
        {
            failures.Add($"{WebhookOptions.SectionName}:{nameof(WebhookOptions.PublicBaseUrl)} must be an absolute http or https URL without query or fragment, such as https://relay.example.net.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
