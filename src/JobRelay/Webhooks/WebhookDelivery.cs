using System.Net;

namespace JobRelay.Webhooks;

/// <summary>
/// One incoming webhook request, as the sender sent it: the raw body bytes (read once, never re-serialised),
/// the headers, the query and, for form posts, the parsed form fields.
/// </summary>
public sealed class WebhookDelivery
{
    private readonly Dictionary<string, string> _headers;

    /// <param name="method">The HTTP method.</param>
    /// <param name="url">The full request URL as the sender addressed it (scheme, host, port, path and query); Twilio signs it.</param>
    /// <param name="headers">The request headers; a header sent more than once is joined with commas.</param>
    /// <param name="body">The raw body bytes.</param>
    /// <param name="contentType">The content type, when it is not among <paramref name="headers"/>.</param>
    public WebhookDelivery(string method, Uri url, IEnumerable<KeyValuePair<string, string>> headers, ReadOnlyMemory<byte> body, string? contentType = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(method);
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(headers);
        if (!url.IsAbsoluteUri)
        {
            throw new ArgumentException("The delivery URL must be absolute: some senders sign the full URL.", nameof(url));
        }

        Method = method.ToUpperInvariant();
        Url = url;
        Body = body;
        _headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in headers)
        {
            _headers[name] = _headers.TryGetValue(name, out var existing) ? existing + "," + value : value;
        }

        ContentType = contentType ?? Header("Content-Type");
        Query = ParseUrlEncoded(url.Query.StartsWith('?') ? url.Query[1..] : url.Query);
        if (IsMediaType("application/x-www-form-urlencoded"))
        {
            Form = ParseUrlEncoded(System.Text.Encoding.UTF8.GetString(body.Span));
        }
    }

    public string Method { get; }

    /// <summary>The full request URL as the sender addressed it.</summary>
    public Uri Url { get; }

    /// <summary>The headers, looked up without regard to case.</summary>
    public IReadOnlyDictionary<string, string> Headers => _headers;

    /// <summary>The query parameters in the order sent, decoded.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Query { get; }

    public ReadOnlyMemory<byte> Body { get; }

    public string? ContentType { get; }

    /// <summary>The form fields in the order sent, decoded, when the body is <c>application/x-www-form-urlencoded</c>.</summary>
    public IReadOnlyList<KeyValuePair<string, string>>? Form { get; }

    /// <summary>True when the content type is JSON (<c>application/json</c> or any <c>+json</c> type).</summary>
    public bool IsJson
    {
        get
        {
            var mediaType = MediaType;
            return mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
                || mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase);
        }
    }

    private ReadOnlySpan<char> MediaType
    {
        get
        {
            var contentType = ContentType.AsSpan();
            var semicolon = contentType.IndexOf(';');
            return (semicolon < 0 ? contentType : contentType[..semicolon]).Trim();
        }
    }

    /// <summary>The header's value, or null when it was not sent.</summary>
    public string? Header(string name) => _headers.TryGetValue(name, out var value) ? value : null;

    /// <summary>The first value of a query parameter, or null when it was not sent.</summary>
    public string? QueryValue(string name)
    {
        foreach (var (key, value) in Query)
        {
            if (string.Equals(key, name, StringComparison.Ordinal))
            {
                return value;
            }
        }

        return null;
    }

    /// <summary>True when the content type's media type is <paramref name="mediaType"/>.</summary>
    public bool IsMediaType(string mediaType) => MediaType.Equals(mediaType, StringComparison.OrdinalIgnoreCase);

    private static KeyValuePair<string, string>[] ParseUrlEncoded(string text)
    {
        if (text.Length == 0)
        {
            return [];
        }

        var fields = new List<KeyValuePair<string, string>>();
        foreach (var part in text.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            var key = equals < 0 ? part : part[..equals];
            var value = equals < 0 ? string.Empty : part[(equals + 1)..];
            fields.Add(new(WebUtility.UrlDecode(key), WebUtility.UrlDecode(value)));
        }

        return [.. fields];
    }
}
