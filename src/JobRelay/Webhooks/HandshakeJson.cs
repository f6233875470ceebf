using System.Buffers;
using System.Text;
using System.Text.Json;

namespace JobRelay.Webhooks;

/// <summary>Writes the one-property JSON objects that handshakes answer with, escaped by the JSON writer.</summary>
internal static class HandshakeJson
{
    public static string Object(string property, string value)
    {
        var buffer = new ArrayBufferWriter<byte>(64 + value.Length);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString(property, value);
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
