using System.Text.Json;
using System.Text.Json.Nodes;

namespace JobRelay.Model;

/// <summary>Platform answers write ids as strings or numbers: both read as text here.</summary>
internal static class JsonScalars
{
    /// <summary>A non-empty string, or a number as written; null for anything else.</summary>
    public static string? Text(JsonNode? node) => node is JsonValue value
        ? value.GetValueKind() switch
        {
            JsonValueKind.String => value.GetValue<string>() is { Length: > 0 } text ? text : null,
            JsonValueKind.Number => value.ToJsonString(),
            _ => null,
        }
        : null;
}
