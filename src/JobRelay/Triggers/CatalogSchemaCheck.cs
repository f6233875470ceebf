using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace JobRelay.Triggers;

/// <summary>A structural error found by the schema, with the keyword that failed.</summary>
internal sealed record SchemaError(string Path, string Keyword, string Message);

/// <summary>
/// Checks a catalog's structure against <c>triggers.schema.json</c>, the one description editors use too, and turns
/// every failure into an error at its JSON path. Messages come from the schema: an <c>errorMessage</c> next to the
/// keyword (with <c>{value}</c> standing for the value found), or a plain sentence per keyword.
/// </summary>
internal static class CatalogSchemaCheck
{
    private static readonly string[] Combinators = ["oneOf", "anyOf", "not", "if"];

    private static readonly Lazy<(JsonSchema Schema, JsonNode Document)> Schema = new(() =>
        (JsonSchema.FromText(CatalogSchema.Json), JsonNode.Parse(CatalogSchema.Json)!));

    private static readonly EvaluationOptions Quick = new() { OutputFormat = OutputFormat.Flag };
    private static readonly EvaluationOptions Detailed = new() { OutputFormat = OutputFormat.Hierarchical };

    public static IReadOnlyList<SchemaError> Check(JsonElement catalog, JsonNode? root)
    {
        var (schema, document) = Schema.Value;
        var errors = new List<SchemaError>();

        // Most catalogs are valid: the yes-or-no answer is cheaper, and the details are worked out only for errors.
        if (!schema.Evaluate(catalog, Quick).IsValid)
        {
            Walk(schema.Evaluate(catalog, Detailed), document, root, errors);
        }

        return errors;
    }

    private static void Walk(EvaluationResults node, JsonNode schemaRoot, JsonNode? root, List<SchemaError> errors)
    {
        var subschema = ResolveSchema(schemaRoot, Segments(node.EvaluationPath.ToString()));
        var (path, instance) = ResolveInstance(root, Segments(node.InstanceLocation.ToString()));
        foreach (var (keyword, _) in node.Errors ?? new Dictionary<string, string>())
        {
            if (keyword.Length == 0 && LastSegment(node.EvaluationPath.ToString()) == "additionalProperties")
            {
                var parent = ResolveSchema(schemaRoot, Segments(node.EvaluationPath.ToString())[..^1]);
                var known = (parent?["properties"] as JsonObject)?.Select(p => p.Key).ToList() ?? [];
                var name = Segments(node.InstanceLocation.ToString())[^1];
                var near = known.FirstOrDefault(k => string.Equals(k, name, StringComparison.OrdinalIgnoreCase));
                errors.Add(new SchemaError(path, "additionalProperties", near is null
                    ? $"is not a known field here; known fields: {string.Join(", ", known)}."
                    : $"is not a known field here; did you mean '{near}'?"));
            }
            else if (keyword == "required")
            {
                var present = instance as JsonObject;
                foreach (var missing in (subschema?["required"] as JsonArray ?? []).Select(r => (string)r!).Where(r => present?.ContainsKey(r) != true))
                {
                    errors.Add(new SchemaError(CatalogReader.Child(path, missing), keyword, "is required."));
                }
            }
            else if (keyword.Length > 0 && keyword != "propertyNames")
            {
                errors.Add(new SchemaError(path, keyword, Message(keyword, subschema, instance)));
            }
        }

        var evaluationPath = node.EvaluationPath.ToString();
        var children = node.Details ?? [];
        if (node.Errors?.ContainsKey("type") == true)
        {
            // A value of the wrong type fails its combinators for that reason alone: the type error says it all.
            return;
        }

        foreach (var combinator in new[] { "oneOf", "anyOf" })
        {
            var branches = children.Where(c => Keyword(evaluationPath, c) == combinator).ToList();
            if (branches.Count > 0 && (combinator == "anyOf" ? branches.All(b => !b.IsValid) : branches.Count(b => b.IsValid) != 1))
            {
                errors.Add(new SchemaError(path, combinator, Message(combinator, subschema, instance)));
            }
        }

        if (children.Any(c => Keyword(evaluationPath, c) == "not" && c.IsValid))
        {
            errors.Add(new SchemaError(path, "not", Message("not", subschema, instance)));
        }

        foreach (var child in children.Where(c => !c.IsValid && !Combinators.Contains(Keyword(evaluationPath, c), StringComparer.Ordinal)))
        {
            Walk(child, schemaRoot, root, errors);
        }
    }

    private static string Message(string keyword, JsonNode? subschema, JsonNode? instance)
    {
        if (keyword != "type" && subschema?["errorMessage"] is JsonValue custom)
        {
            return custom.GetValue<string>().Replace("{value}", Show(instance), StringComparison.Ordinal);
        }

        return keyword switch
        {
            "type" => $"must be {Expected(subschema?["type"])}, not {CatalogReader.Describe(instance)}.",
            "enum" => $"'{Show(instance)}' is not one of: {string.Join(", ", (subschema?["enum"] as JsonArray ?? []).Select(Show))}.",
            "const" => $"must be {subschema?["const"]?.ToJsonString()}.",
            "minLength" => "must not be empty.",
            "minimum" or "maximum" => string.Create(CultureInfo.InvariantCulture,
                $"must be between {subschema?["minimum"]?.ToJsonString() ?? "any"} and {subschema?["maximum"]?.ToJsonString() ?? "any"}, not {Show(instance)}."),
            "minItems" => $"must have at least {subschema?["minItems"]?.ToJsonString()} item(s).",
            "minProperties" => $"must have at least {subschema?["minProperties"]?.ToJsonString()} member(s).",
            _ => subschema?["description"] is JsonValue description ? $"does not match: {description.GetValue<string>()}" : $"does not match the schema ({keyword}).",
        };
    }

    private static string Expected(JsonNode? type) => type switch
    {
        JsonArray types => string.Join(" or ", types.Select(Expected)),
        JsonValue value => (string?)value switch
        {
            "object" => "an object",
            "array" => "an array",
            "string" => "a string",
            "integer" => "a whole number",
            "number" => "a number",
            "boolean" => "true or false",
            var other => other ?? "a value",
        },
        _ => "a value",
    };

    private static string Show(JsonNode? value)
        => value is JsonValue scalar && scalar.GetValueKind() == JsonValueKind.String ? scalar.GetValue<string>() : value?.ToJsonString() ?? "null";

    /// <summary>The keyword through which <paramref name="child"/> was evaluated from its parent.</summary>
    private static string Keyword(string parentPath, EvaluationResults child)
    {
        var childPath = child.EvaluationPath.ToString();
        var rest = childPath.Length > parentPath.Length ? childPath[(parentPath.Length + 1)..] : string.Empty;
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? rest : rest[..slash];
    }

    /// <summary>Follows an evaluation path through the schema, taking each <c>$ref</c> (all are local).</summary>
    private static JsonNode? ResolveSchema(JsonNode schemaRoot, string[] segments)
    {
        JsonNode? node = schemaRoot;
        var previous = string.Empty;
        foreach (var segment in segments)
        {
            // The evaluator names an array's item schema twice ("items/items"); the schema holds it once.
            if (segment == previous && segment == "items" && node?[segment] is null)
            {
                continue;
            }

            previous = segment;
            node = segment == "$ref" && node?["$ref"] is JsonValue reference
                ? ResolveSchema(schemaRoot, Segments(reference.GetValue<string>().TrimStart('#')))
                : node switch
                {
                    JsonObject obj => obj[segment],
                    JsonArray array when int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index < array.Count => array[index],
                    _ => null,
                };
        }

        return node;
    }

    /// <summary>The JSON path (<c>$.triggers.a.after[0]</c>) and the value at a JSON Pointer.</summary>
    private static (string Path, JsonNode? Value) ResolveInstance(JsonNode? root, string[] segments)
    {
        var path = "$";
        var node = root;
        foreach (var segment in segments)
        {
            if (node is JsonArray array && int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
            {
                path = CatalogReader.Index(path, index);
                node = index < array.Count ? array[index] : null;
            }
            else
            {
                path = CatalogReader.Child(path, segment);
                node = (node as JsonObject)?[segment];
            }
        }

        return (path, node);
    }

    private static string[] Segments(string pointer)
        => pointer.Length == 0 ? [] : [.. pointer.TrimStart('/').Split('/').Select(s => s.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal))];

    private static string LastSegment(string pointer) => Segments(pointer) is { Length: > 0 } segments ? segments[^1] : string.Empty;
}
