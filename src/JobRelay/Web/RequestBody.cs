using System.Buffers;
using System.Text.Json;
using System.Text.Unicode;
using System.Text.Json.Nodes;
using JobRelay.Model;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;

namespace JobRelay.Web;

/// <summary>Reads request bodies once, as raw bytes, within a size limit.</summary>
internal static class RequestBody
{
    private static readonly JsonDocumentOptions StrictDocument = new() { AllowDuplicateProperties = false, MaxDepth = 64 };

    /// <summary>
    /// Reads the whole body. A declared or actual length over <paramref name="maxBytes"/> is a
    /// <see cref="RelayErrorKind.PayloadTooLarge"/> failure; nothing past the limit is buffered.
    /// </summary>
    public static async Task<ReadOnlyMemory<byte>> ReadAsync(HttpRequest request, long maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.ContentLength > maxBytes)
        {
            throw TooLarge(maxBytes);
        }

        var sizeFeature = request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false })
        {
            sizeFeature.MaxRequestBodySize = maxBytes + 1;
        }

        var buffer = new ArrayBufferWriter<byte>((int)Math.Clamp(request.ContentLength ?? 4096, 1, Math.Min(maxBytes + 1, 65_536)));
        try
        {
            while (true)
            {
                var memory = buffer.GetMemory(4096);
                var read = await request.Body.ReadAsync(memory, cancellationToken);
                if (read == 0)
                {
                    break;
                }

                buffer.Advance(read);
                if (buffer.WrittenCount > maxBytes)
                {
                    throw TooLarge(maxBytes);
                }
            }
        }
        catch (BadHttpRequestException ex)
        {
            throw FromServer(ex, maxBytes);
        }

        return buffer.WrittenMemory;
    }

    /// <summary>
    /// Parses an optional JSON object body: an empty body is null; a content type other than JSON, malformed JSON or a
    /// value other than an object fails with a message that says what was expected.
    /// </summary>
    public static JsonObject? ParseOptionalObject(HttpRequest request, ReadOnlyMemory<byte> body)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (body.IsEmpty)
        {
            return null;
        }

        if (!IsJson(request.ContentType))
        {
            throw new RelayException(RelayErrorKind.UnsupportedMediaType, "The body must be JSON (Content-Type: application/json).");
        }

        return ParseObject(body);
    }

    /// <summary>Parses any JSON value (an Event Grid delivery is an array), failing with the position of a syntax error.</summary>
    public static JsonNode ParseJson(ReadOnlyMemory<byte> body)
        => ParseStrict(body.Span) ?? throw new RelayException(RelayErrorKind.InvalidInput, "The body is the JSON null; a value was expected.");

    /// <summary>Parses a JSON object, failing with <see cref="RelayErrorKind.InvalidInput"/> and the position of a syntax error.</summary>
    public static JsonObject ParseObject(ReadOnlyMemory<byte> body)
        => ParseStrict(body.Span) as JsonObject
            ?? throw new RelayException(RelayErrorKind.InvalidInput, "The body must be a JSON object.");

    /// <summary>
    /// Parses strictly and completely, so that no error is left for later: <see cref="JsonNode"/> builds objects and
    /// decodes strings lazily, and a property named twice or a string that is not Unicode would otherwise fail only
    /// when a mapping first reads it, far from any 400.
    /// </summary>
    private static JsonNode? ParseStrict(ReadOnlySpan<byte> json)
    {
        if (!Utf8.IsValid(json))
        {
            throw new RelayException(RelayErrorKind.InvalidInput, "The body is not valid JSON: it is not UTF-8 text.");
        }

        try
        {
            if (json.IndexOf("\\u"u8) >= 0)
            {
                RequireUnicodeEscapes(json);
            }

            return JsonNode.Parse(json, nodeOptions: null, StrictDocument);
        }
        catch (JsonException ex) when (ex.LineNumber is null)
        {
            throw new RelayException(RelayErrorKind.InvalidInput, "The body is not valid JSON: an object names the same property more than once.");
        }
        catch (JsonException ex)
        {
            throw new RelayException(
                RelayErrorKind.InvalidInput,
                $"The body is not valid JSON (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}).");
        }
        catch (InvalidOperationException)
        {
            throw new RelayException(RelayErrorKind.InvalidInput, "The body is not valid JSON: a \\u escape is not Unicode text (a lone surrogate).");
        }
    }

    /// <summary>Decodes every escaped string and name once, which throws for an escape that is not Unicode text.</summary>
    private static void RequireUnicodeEscapes(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = StrictDocument.MaxDepth });
        while (reader.Read())
        {
            if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName && reader.ValueIsEscaped)
            {
                _ = reader.GetString();
            }
        }
    }

    public static bool IsJson(string? contentType)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var mediaType) || mediaType.MediaType.Value is not { } value)
        {
            return false;
        }

        return value.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || (value.StartsWith("application/", StringComparison.OrdinalIgnoreCase) && value.EndsWith("+json", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>
    /// The server's refusal of the body's framing or pace, as the caller's failure it is: never a 500, since an
    /// anonymous client can cause it at will.
    /// </summary>
    internal static RelayException FromServer(BadHttpRequestException exception, long maxBytes) => exception.StatusCode switch
    {
        StatusCodes.Status413PayloadTooLarge => TooLarge(maxBytes),
        StatusCodes.Status408RequestTimeout => new RelayException(RelayErrorKind.RequestTimeout, "The request body did not arrive in time.", exception),
        _ => new RelayException(RelayErrorKind.InvalidInput, "The request body is malformed: " + exception.Message, exception),
    };

    private static RelayException TooLarge(long maxBytes)
        => new(RelayErrorKind.PayloadTooLarge, $"The body is larger than the limit of {maxBytes} bytes.");
}
