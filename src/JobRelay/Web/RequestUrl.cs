using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace JobRelay.Web;

/// <summary>
/// The URL a sender addressed, as the senders that sign URLs (Twilio) computed it. Built from the request's scheme
/// and host, which a configured proxy may have set from its forwarded headers, or from the configured public base
/// URL when the host sits behind a front end that rewrites them. It never throws: whatever a client puts in its Host
/// line, the answer is a URL, at worst one no signature matches.
/// </summary>
internal static class RequestUrl
{
    private const string FallbackHost = "localhost";

    /// <param name="request">The request.</param>
    /// <param name="publicBaseUrl">
    /// The URL the senders are given, up to the <c>/api</c> path (<c>JobRelay:Webhooks:PublicBaseUrl</c>); null to
    /// take the scheme and host from the request.
    /// </param>
    public static Uri Of(HttpRequest request, Uri? publicBaseUrl)
    {
        ArgumentNullException.ThrowIfNull(request);
        var pathAndQuery = string.Concat(request.Path.ToUriComponent(), request.QueryString.ToUriComponent());
        if (publicBaseUrl is not null)
        {
            var root = publicBaseUrl.GetLeftPart(UriPartial.Path).TrimEnd('/');
            if (Uri.TryCreate(root + pathAndQuery, UriKind.Absolute, out var configured))
            {
                return configured;
            }
        }

        var scheme = string.Equals(request.Scheme, Uri.UriSchemeHttps, StringComparison.OrdinalIgnoreCase) ? Uri.UriSchemeHttps : Uri.UriSchemeHttp;
        var host = HostOf(request);
        var tail = request.PathBase.ToUriComponent() + pathAndQuery;
        return TryAbsolute(scheme, host, tail)
            ?? TryAbsolute(scheme, FallbackHost, tail)
            ?? new Uri(string.Create(CultureInfo.InvariantCulture, $"{scheme}://{FallbackHost}/"));
    }

    private static string HostOf(HttpRequest request)
    {
        try
        {
            // Reading Host decodes an international name, and throws on one that is not valid ("xn--a").
            var host = request.Host;
            return host.HasValue ? host.ToUriComponent() : FallbackHost;
        }
        catch (ArgumentException)
        {
            return FallbackHost;
        }
    }

    private static Uri? TryAbsolute(string scheme, string host, string tail)
    {
        try
        {
            if (!Uri.TryCreate($"{scheme}://{host}{tail}", UriKind.Absolute, out var url) || !url.IsAbsoluteUri)
            {
                return null;
            }

            // Uri checks international host names lazily: a Host line such as "xn--a" parses, then throws when read.
            return string.IsNullOrEmpty(url.Host) || string.IsNullOrEmpty(url.IdnHost) || string.IsNullOrEmpty(url.AbsoluteUri) ? null : url;
        }
        catch (Exception ex) when (ex is UriFormatException or ArgumentException)
        {
            return null;
        }
    }
}
