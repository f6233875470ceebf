using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using JobRelay.Model;
using JobRelay.Triggers;

namespace JobRelay.Webhooks;

/// <summary>
/// The delivery key of schemes whose signature covers no timestamp (GitHub, Shopify, GitLab, Twilio, generic HMAC,
/// shared token): a SHA-256 digest of what the sender signed. Their delivery-id headers are not signed, so a captured
/// delivery resent with a new id, or with none, would otherwise start the job again; with the digest as its key it
/// is a duplicate for the ledger's retention window. Shared-token schemes sign nothing: there the digest stands for
/// a retry, not a replay, and holds for the trigger's digest window only (<see cref="Window"/>).
/// </summary>
internal static class ReplayDigest
{
    /// <summary>Whether the scheme signs no timestamp, so that only the digest of its content can tell a replay.</summary>
    public static bool Applies(WebhookScheme scheme) => WebhookSchemes.DigestApplies(scheme);

    /// <summary>Whether the catalog may turn the digest off: only for shared-token schemes, which sign nothing.</summary>
    public static bool MayBeTurnedOff(WebhookScheme scheme) => WebhookSchemes.DigestMayBeTurnedOff(scheme);

    /// <summary>
    /// Whether the delivery is keyed by its digest. A signed delivery always is. A shared-token delivery is only when
    /// it carries no delivery id: the token authenticates no content, so its id is as much the sender's word as its
    /// body (and may feed the job's arguments), while a holder of the token could send anything anyway.
    /// </summary>
    public static bool KeysDelivery(WebhookScheme scheme, bool hasDeliveryId)
        => Applies(scheme) && (!MayBeTurnedOff(scheme) || !hasDeliveryId);

    /// <summary>
    /// How long a digest key holds: the trigger's digest window for shared-token schemes, whose token authenticates no
    /// content (anyone holding it can send anything, so the same content later is a new event, such as a daily call);
    /// null for signed schemes, whose digest holds for the whole retention (the same signed content again is a replay).
    /// </summary>
    public static TimeSpan? Window(WebhookDefinition webhook)
    {
        ArgumentNullException.ThrowIfNull(webhook);
        return MayBeTurnedOff(webhook.Scheme) ? webhook.DigestWindow : null;
    }

    /// <summary>The start of the window of length <paramref name="window"/> that holds <paramref name="at"/>; windows are aligned on the Unix epoch.</summary>
    public static DateTimeOffset WindowStart(DateTimeOffset at, TimeSpan window)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(window, TimeSpan.Zero);
        var sinceEpoch = at.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        return new DateTimeOffset(at.UtcTicks - (sinceEpoch % window.Ticks), TimeSpan.Zero);
    }

    /// <summary>A digest key within one window: the key and the window's start, so that each window has its own claim.</summary>
    public static string InWindow(string digestKey, DateTimeOffset windowStart)
        => digestKey + "@" + windowStart.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>
    /// <c>sha256:</c> and the hex digest of the delivery's signed content, or null for a scheme that signs a
    /// timestamp. Twilio signs the URL and the form fields sorted by name, so fields sent in another order, or
    /// encoded otherwise, are the same content; other schemes sign the body, and token schemes, which sign nothing,
    /// are keyed by their path, query and body.
    /// </summary>
    public static string? Of(WebhookScheme scheme, WebhookDelivery delivery)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        if (!Applies(scheme))
        {
            return null;
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        switch (scheme)
        {
            case WebhookScheme.Twilio:
                Append(hash, delivery.Url.PathAndQuery);
                if (delivery.Form is { } form)
                {
                    foreach (var (name, value) in form.OrderBy(f => f.Key, StringComparer.Ordinal).ThenBy(f => f.Value, StringComparer.Ordinal))
                    {
                        Append(hash, name);
                        Append(hash, value);
                    }
                }
                else
                {
                    hash.AppendData(delivery.Body.Span);
                }

                break;
            case WebhookScheme.GitLab or WebhookScheme.Token:
                Append(hash, delivery.Url.PathAndQuery);
                hash.AppendData(delivery.Body.Span);
                break;
            default:
                hash.AppendData(delivery.Body.Span);
                break;
        }

        return "sha256:" + Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>Appends a length-prefixed field, so that no two different field lists hash the same bytes.</summary>
    private static void Append(IncrementalHash hash, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        Span<byte> length = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(length, bytes.Length);
        hash.AppendData(length);
        hash.AppendData(bytes);
    }
}
