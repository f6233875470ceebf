using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using JobRelay.Model;

namespace JobRelay.Webhooks;

/// <summary>The MAC, decoding and comparison primitives every scheme shares. Nothing here allocates per call.</summary>
internal static class WebhookCrypto
{
    public const int Sha256Bytes = 32;
    public const int Sha1Bytes = 20;

    /// <summary>The most signatures read from one header; a rotation sends two or three.</summary>
    public const int MaxCandidates = 8;

    public static int MacBytes(WebhookHmacAlgorithm algorithm) => algorithm == WebhookHmacAlgorithm.Sha1 ? Sha1Bytes : Sha256Bytes;

    /// <summary>HMAC of <paramref name="signedPrefix"/> followed by <paramref name="body"/>.</summary>
    [SuppressMessage("Security", "CA5350:Do Not Use Weak Cryptographic Algorithms", Justification = "HMAC-SHA1 is what Twilio and some senders sign with; verifying it is not a choice of ours.")]
    public static void Mac(WebhookHmacAlgorithm algorithm, ReadOnlySpan<byte> key, ReadOnlySpan<byte> signedPrefix, ReadOnlySpan<byte> body, Span<byte> destination)
    {
        if (signedPrefix.IsEmpty)
        {
            if (algorithm == WebhookHmacAlgorithm.Sha1)
            {
                HMACSHA1.HashData(key, body, destination);
            }
            else
            {
                HMACSHA256.HashData(key, body, destination);
            }

            return;
        }

        using var hmac = IncrementalHash.CreateHMAC(algorithm == WebhookHmacAlgorithm.Sha1 ? HashAlgorithmName.SHA1 : HashAlgorithmName.SHA256, key);
        hmac.AppendData(signedPrefix);
        hmac.AppendData(body);
        hmac.GetHashAndReset(destination);
    }

    /// <summary>Decodes a signature; false when it is not valid hex/base64 or longer than <paramref name="destination"/>.</summary>
    public static bool TryDecode(ReadOnlySpan<char> text, WebhookSignatureEncoding encoding, Span<byte> destination, out int written)
    {
        text = text.Trim();
        written = 0;
        if (text.IsEmpty)
        {
            return false;
        }

        if (encoding == WebhookSignatureEncoding.Hex)
        {
            if (text.Length % 2 != 0 || text.Length / 2 > destination.Length)
            {
                return false;
            }

            return Convert.FromHexString(text, destination, out _, out written) == OperationStatus.Done;
        }

        return Convert.TryFromBase64Chars(text, destination, out written);
    }

    /// <summary>Constant-time equality of a computed MAC and a presented one.</summary>
    public static bool MacEquals(ReadOnlySpan<byte> computed, ReadOnlySpan<byte> presented) =>
        computed.Length == presented.Length && CryptographicOperations.FixedTimeEquals(computed, presented);

    /// <summary>
    /// Constant-time equality of a presented token and a secret. Both are hashed first, so the comparison runs over
    /// equal lengths and says nothing about the secret's length.
    /// </summary>
    public static bool TokenEquals(ReadOnlySpan<char> presented, string secret)
    {
        Span<byte> presentedHash = stackalloc byte[Sha256Bytes];
        Span<byte> secretHash = stackalloc byte[Sha256Bytes];
        using (var bytes = new PooledUtf8(presented))
        {
            SHA256.HashData(bytes.Span, presentedHash);
        }

        using (var bytes = new PooledUtf8(secret))
        {
            SHA256.HashData(bytes.Span, secretHash);
        }

        return CryptographicOperations.FixedTimeEquals(presentedHash, secretHash);
    }

    /// <summary>
    /// The name of the first secret whose MAC over <paramref name="signedPrefix"/> and <paramref name="body"/> equals
    /// one of <paramref name="candidates"/>, or null when none does. The secret is the UTF-8 bytes of its value.
    /// </summary>
    public static string? FindMatchingSecret(
        IReadOnlyList<Secrets.SecretValue> secrets,
        WebhookHmacAlgorithm algorithm,
        ReadOnlySpan<byte> signedPrefix,
        ReadOnlySpan<byte> body,
        in SignatureCandidates candidates)
    {
        Span<byte> mac = stackalloc byte[Sha256Bytes];
        mac = mac[..MacBytes(algorithm)];
        foreach (var secret in secrets)
        {
            using var key = new PooledUtf8(secret.Value);
            Mac(algorithm, key.Span, signedPrefix, body, mac);
            if (candidates.AnyEquals(mac))
            {
                return secret.Name;
            }
        }

        return null;
    }

    /// <summary>Reads a Unix time in seconds written as plain digits.</summary>
    public static bool TryParseUnixSeconds(ReadOnlySpan<char> text, out long seconds)
    {
        text = text.Trim();
        seconds = 0;
        return text.Length is > 0 and <= 12 && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out seconds);
    }

    /// <summary>True when <paramref name="unixSeconds"/> is within <paramref name="tolerance"/> of now, either way.</summary>
    public static bool WithinTolerance(long unixSeconds, TimeProvider clock, TimeSpan tolerance)
    {
        var now = clock.GetUtcNow().ToUnixTimeSeconds();
        return Math.Abs(now - unixSeconds) <= (long)tolerance.TotalSeconds;
    }
}

/// <summary>UTF-8 bytes of a text in a pooled buffer, wiped when disposed (the text is often a secret).</summary>
internal readonly struct PooledUtf8 : IDisposable
{
    private readonly byte[] _buffer;
    private readonly int _length;

    public PooledUtf8(ReadOnlySpan<char> text)
    {
        _buffer = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(text.Length));
        _length = Encoding.UTF8.GetBytes(text, _buffer);
    }

    public PooledUtf8(string text)
        : this(text.AsSpan())
    {
    }

    private PooledUtf8(byte[] buffer, int length)
    {
        _buffer = buffer;
        _length = length;
    }

    public ReadOnlySpan<byte> Span => _buffer.AsSpan(0, _length);

    /// <summary>The UTF-8 bytes of the parts written one after the other: a signed prefix such as <c>{id}.{timestamp}.</c>.</summary>
    public static PooledUtf8 Concat(ReadOnlySpan<char> first, ReadOnlySpan<char> second, ReadOnlySpan<char> third = default, ReadOnlySpan<char> fourth = default)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(first.Length + second.Length + third.Length + fourth.Length));
        var length = Encoding.UTF8.GetBytes(first, buffer);
        length += Encoding.UTF8.GetBytes(second, buffer.AsSpan(length));
        length += Encoding.UTF8.GetBytes(third, buffer.AsSpan(length));
        length += Encoding.UTF8.GetBytes(fourth, buffer.AsSpan(length));
        return new PooledUtf8(buffer, length);
    }

    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(_buffer.AsSpan(0, _length));
        ArrayPool<byte>.Shared.Return(_buffer);
    }
}

/// <summary>Up to <see cref="WebhookCrypto.MaxCandidates"/> decoded signatures of one length, read from one header.</summary>
internal ref struct SignatureCandidates
{
    private readonly Span<byte> _buffer;
    private readonly int _macBytes;

    public SignatureCandidates(Span<byte> buffer, int macBytes)
    {
        _buffer = buffer;
        _macBytes = macBytes;
        Count = 0;
    }

    public int Count { get; private set; }

    /// <summary>Adds a signature; false when it does not decode to a MAC of the expected length (it can never match).</summary>
    public bool TryAdd(ReadOnlySpan<char> encoded, WebhookSignatureEncoding encoding)
    {
        if (Count == WebhookCrypto.MaxCandidates)
        {
            return false;
        }

        Span<byte> decoded = stackalloc byte[64];
        if (!WebhookCrypto.TryDecode(encoded, encoding, decoded, out var written) || written != _macBytes)
        {
            return false;
        }

        decoded[..written].CopyTo(_buffer.Slice(Count * _macBytes, _macBytes));
        Count++;
        return true;
    }

    /// <summary>True when any candidate equals <paramref name="computed"/>; every candidate is compared in constant time.</summary>
    public readonly bool AnyEquals(ReadOnlySpan<byte> computed)
    {
        var match = false;
        for (var i = 0; i < Count; i++)
        {
            match |= WebhookCrypto.MacEquals(computed, _buffer.Slice(i * _macBytes, _macBytes));
        }

        return match;
    }
}
