using System.Net.Sockets;
using System.Text;

namespace JobRelay.Tests.Support;

/// <summary>What came back on a raw connection: the status line's code, the headers and the body bytes as text.</summary>
public sealed record RawResponse(int Status, IReadOnlyDictionary<string, string> Headers, string Body)
{
    /// <summary>Nothing came back before the connection closed.</summary>
    public static readonly RawResponse None = new(0, new Dictionary<string, string>(), string.Empty);

    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;

    public string? MediaType => Header("Content-Type")?.Split(';')[0].Trim();
}

/// <summary>
/// Sends bytes exactly as given on a fresh TCP connection and reads one HTTP/1.1 answer, so tests can send what
/// HttpClient refuses to: broken framing, stalled bodies, hostile Host lines.
/// </summary>
public static class RawHttp
{
    /// <param name="address">The server's root.</param>
    /// <param name="request">The request bytes, written in one go.</param>
    /// <param name="halfClose">Close the sending side after writing; Kestrel takes that as the client leaving.</param>
    /// <param name="timeout">How long to wait for the whole answer.</param>
    public static async Task<RawResponse> SendAsync(Uri address, byte[] request, bool halfClose, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentNullException.ThrowIfNull(request);
        using var cancel = new CancellationTokenSource(timeout);
        using var client = new TcpClient();
        await client.ConnectAsync(address.Host, address.Port, cancel.Token);
        var stream = client.GetStream();
        try
        {
            await stream.WriteAsync(request, cancel.Token);
            if (halfClose)
            {
                client.Client.Shutdown(SocketShutdown.Send);
            }
        }
        catch (IOException)
        {
            // The server may refuse and close before the whole request is written; its answer is still readable.
        }

        return await ReadAsync(stream, request.AsSpan().StartsWith("HEAD "u8), cancel.Token);
    }

    public static Task<RawResponse> SendAsync(Uri address, string request, bool halfClose = false, TimeSpan? timeout = null)
        => SendAsync(address, Encoding.Latin1.GetBytes(request), halfClose, timeout ?? TimeSpan.FromSeconds(10));

    private static async Task<RawResponse> ReadAsync(NetworkStream stream, bool headRequest, CancellationToken cancellationToken)
    {
        var received = new MemoryStream();
        var buffer = new byte[8192];
        int headerEnd;
        while ((headerEnd = IndexOfHeaderEnd(received)) < 0)
        {
            var read = await ReadSomeAsync(stream, buffer, cancellationToken);
            if (read == 0)
            {
                return RawResponse.None;
            }

            received.Write(buffer, 0, read);
        }

        var head = Encoding.Latin1.GetString(received.GetBuffer(), 0, headerEnd).Split("\r\n");
        var status = int.Parse(head[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in head.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            headers[line[..colon]] = line[(colon + 1)..].Trim();
        }

        if (headRequest)
        {
            return new RawResponse(status, headers, string.Empty);
        }

        var body = new MemoryStream();
        body.Write(received.GetBuffer(), headerEnd + 4, (int)received.Length - headerEnd - 4);
        if (headers.TryGetValue("Content-Length", out var lengthText))
        {
            var length = long.Parse(lengthText, System.Globalization.CultureInfo.InvariantCulture);
            while (body.Length < length)
            {
                var read = await ReadSomeAsync(stream, buffer, cancellationToken);
                if (read == 0)
                {
                    break;
                }

                body.Write(buffer, 0, read);
            }

            return new RawResponse(status, headers, Encoding.UTF8.GetString(body.GetBuffer(), 0, (int)Math.Min(body.Length, length)));
        }

        if (headers.TryGetValue("Transfer-Encoding", out var encoding) && encoding.Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            while (!EndsChunkedBody(body))
            {
                var read = await ReadSomeAsync(stream, buffer, cancellationToken);
                if (read == 0)
                {
                    break;
                }

                body.Write(buffer, 0, read);
            }

            return new RawResponse(status, headers, Dechunk(Encoding.Latin1.GetString(body.GetBuffer(), 0, (int)body.Length)));
        }

        return new RawResponse(status, headers, string.Empty);
    }

    private static async Task<int> ReadSomeAsync(NetworkStream stream, byte[] buffer, CancellationToken cancellationToken)
    {
        try
        {
            return await stream.ReadAsync(buffer, cancellationToken);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private static int IndexOfHeaderEnd(MemoryStream received)
    {
        var bytes = received.GetBuffer().AsSpan(0, (int)received.Length);
        return bytes.IndexOf("\r\n\r\n"u8);
    }

    private static bool EndsChunkedBody(MemoryStream body)
        => body.GetBuffer().AsSpan(0, (int)body.Length).EndsWith("0\r\n\r\n"u8);

    private static string Dechunk(string chunked)
    {
        var text = new StringBuilder();
        var position = 0;
        while (position < chunked.Length)
        {
            var lineEnd = chunked.IndexOf("\r\n", position, StringComparison.Ordinal);
            if (lineEnd < 0)
            {
                break;
            }

            var size = Convert.ToInt32(chunked[position..lineEnd].Split(';')[0], 16);
            if (size == 0)
            {
                break;
            }

            text.Append(chunked, lineEnd + 2, size);
            position = lineEnd + 2 + size + 2;
        }

        return Encoding.UTF8.GetString(Encoding.Latin1.GetBytes(text.ToString()));
    }
}
