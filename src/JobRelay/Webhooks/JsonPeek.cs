using System.Text.Json;

namespace JobRelay.Webhooks;

/// <summary>Reads one string from a JSON body without building a document. Used only after the body is verified.</summary>
internal static class JsonPeek
{
    /// <summary>
    /// The string at <paramref name="name"/> (or <paramref name="name"/>.<paramref name="nested"/>) of the root
    /// object; null when it is absent, not a string, or the body is not a JSON object.
    /// </summary>
    public static string? String(ReadOnlySpan<byte> json, string name, string? nested = null)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            return reader.Read() && reader.TokenType == JsonTokenType.StartObject ? Find(ref reader, name, nested) : null;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // Malformed JSON, or a string that is not Unicode text: the body parse that follows answers it as a 400.
            return null;
        }
    }

    private static string? Find(ref Utf8JsonReader reader, string name, string? nested)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var match = reader.ValueTextEquals(name);
            reader.Read();
            if (match)
            {
                if (nested is null)
                {
                    return reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }

                return reader.TokenType == JsonTokenType.StartObject ? Find(ref reader, nested, null) : null;
            }

            reader.Skip();
        }

        return null;
    }
}
