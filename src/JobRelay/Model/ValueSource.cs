using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace JobRelay.Model;

/// <summary>Where a value comes from in a delivery or a job-end event.</summary>
public enum ValueSourceKind
{
    /// <summary>A JSON path into the request body.</summary>
    Body,

    /// <summary>A request header.</summary>
    Header,

    /// <summary>A query-string parameter.</summary>
    Query,

    /// <summary>A route value (<c>trigger</c>).</summary>
    Route,

    /// <summary>A JSON path into the job-end event that started a chained trigger.</summary>
    Event,
}

/// <summary>The values a mapping can read: one webhook delivery, API call or job-end event.</summary>
public interface IValueContext
{
    JsonNode? Body { get; }

    /// <summary>The job-end event of a chained run.</summary>
    JsonNode? JobEvent { get; }

    string? Header(string name);

    string? Query(string name);

    string? Route(string name);
}

/// <summary>
/// A value's location, written <c>body:$.pull_request.number</c>, <c>header:X-GitHub-Event</c>, <c>query:token</c>,
/// <c>route:trigger</c> or <c>event:$.job.id</c>.
/// </summary>
public sealed record ValueSource(ValueSourceKind Kind, string Name, JsonPath? Path)
{
    /// <summary>Parses a source, or says what is wrong with it.</summary>
    public static bool TryParse(string text, out ValueSource? source, out string? error)
    {
        ArgumentNullException.ThrowIfNull(text);
        source = null;
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        var prefix = colon < 0 ? text : text[..colon];
        var rest = colon < 0 ? string.Empty : text[(colon + 1)..];
        if (!Enum.TryParse<ValueSourceKind>(prefix, ignoreCase: true, out var kind) || !prefix.All(char.IsAsciiLetterLower))
        {
            error = $"'{text}' is not a value source: write body:$.path, header:Name, query:name, route:name or event:$.path.";
            return false;
        }

        if (kind is ValueSourceKind.Body or ValueSourceKind.Event)
        {
            if (!JsonPath.TryParse(rest, out var path, out error))
            {
                return false;
            }

            source = new ValueSource(kind, rest, path);
            return true;
        }

        if (rest.Length == 0 || rest.Any(char.IsWhiteSpace))
        {
            error = $"'{text}' needs a name after '{prefix}:'.";
            return false;
        }

        source = new ValueSource(kind, rest, null);
        error = null;
        return true;
    }

    /// <summary>The value in <paramref name="context"/>, or null when it is absent.</summary>
    public JsonNode? Read(IValueContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Kind switch
        {
            ValueSourceKind.Body => Path!.Select(context.Body)?.DeepClone(),
            ValueSourceKind.Event => Path!.Select(context.JobEvent)?.DeepClone(),
            ValueSourceKind.Header => context.Header(Name) is { } header ? JsonValue.Create(header) : null,
            ValueSourceKind.Query => context.Query(Name) is { } query ? JsonValue.Create(query) : null,
            ValueSourceKind.Route => context.Route(Name) is { } route ? JsonValue.Create(route) : null,
            _ => null,
        };
    }

    /// <summary>The value as text: strings as they are, numbers and booleans in JSON form, objects and arrays as JSON.</summary>
    public string? ReadText(IValueContext context) => Read(context) is { } node ? JsonText.Of(node) : null;

    public override string ToString() => $"{Kind.ToString().ToLowerInvariant()}:{Name}";
}

/// <summary>A JSON path of the simple kind mappings need: <c>$</c>, <c>.name</c>, <c>['name']</c> and <c>[index]</c>.</summary>
public sealed class JsonPath
{
    private readonly object[] _segments;

    private JsonPath(string text, object[] segments)
    {
        Text = text;
        _segments = segments;
    }

    public string Text { get; }

    public static bool TryParse(string text, out JsonPath? path, out string? error)
    {
        ArgumentNullException.ThrowIfNull(text);
        path = null;
        if (!text.StartsWith('$'))
        {
            error = $"'{text}' is not a JSON path: it must start with '$', as in $.repository.name.";
            return false;
        }

        var segments = new List<object>();
        var i = 1;
        while (i < text.Length)
        {
            if (text[i] == '.')
            {
                var start = ++i;
                while (i < text.Length && text[i] != '.' && text[i] != '[')
                {
                    i++;
                }

                if (i == start)
                {
                    error = $"'{text}' has an empty name at character {start + 1}.";
                    return false;
                }

                segments.Add(text[start..i]);
            }
            else if (text[i] == '[' && i + 1 < text.Length && text[i + 1] == '\'')
            {
                var end = text.IndexOf("']", i + 2, StringComparison.Ordinal);
                if (end < 0)
                {
                    error = $"'{text}' has an unclosed ['name'] at character {i + 1}.";
                    return false;
                }

                segments.Add(text[(i + 2)..end]);
                i = end + 2;
            }
            else if (text[i] == '[')
            {
                var end = text.IndexOf(']', i);
                if (end < 0 || !int.TryParse(text.AsSpan(i + 1, end - i - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var index))
                {
                    error = $"'{text}' has a bad index at character {i + 1}: write [0] or ['name'].";
                    return false;
                }

                segments.Add(index);
                i = end + 1;
            }
            else
            {
                error = $"'{text}' has an unexpected '{text[i]}' at character {i + 1}.";
                return false;
            }
        }

        path = new JsonPath(text, [.. segments]);
        error = null;
        return true;
    }

    /// <summary>The node at the path, or null.</summary>
    public JsonNode? Select(JsonNode? root)
    {
        var node = root;
        foreach (var segment in _segments)
        {
            node = (segment, node) switch
            {
                (string name, JsonObject obj) => obj.TryGetPropertyValue(name, out var child) ? child : null,
                (int index, JsonArray array) => index < array.Count ? array[index] : null,
                _ => null,
            };
            if (node is null)
            {
                return null;
            }
        }

        return node;
    }

    public override string ToString() => Text;
}

/// <summary>
/// A string with <c>{{argument}}</c> placeholders. A template that is one placeholder and nothing else stands for
/// the argument's JSON value itself (a number stays a number); otherwise the arguments are written in as text.
/// </summary>
public sealed class Template
{
    private readonly (string Text, string? Argument)[] _parts;

    private Template(string source, (string, string?)[] parts)
    {
        Source = source;
        _parts = parts;
    }

    /// <summary>The template as written.</summary>
    public string Source { get; }

    /// <summary>The arguments the template refers to.</summary>
    public IEnumerable<string> Arguments => _parts.Where(p => p.Argument is not null).Select(p => p.Argument!);

    /// <summary>The argument the whole template stands for, when it is exactly one placeholder.</summary>
    public string? WholeArgument => _parts is [(_, { } argument)] ? argument : null;

    /// <summary>Whether the template holds no placeholder.</summary>
    public bool IsLiteral => _parts.All(p => p.Argument is null);

    public static Template Literal(string text) => new(text, [(text, null)]);

    public static bool TryParse(string text, out Template? template, out string? error)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = new List<(string, string?)>();
        var i = 0;
        while (i < text.Length)
        {
            var open = text.IndexOf("{{", i, StringComparison.Ordinal);
            if (open < 0)
            {
                parts.Add((text[i..], null));
                break;
            }

            if (open > i)
            {
                parts.Add((text[i..open], null));
            }

            var close = text.IndexOf("}}", open + 2, StringComparison.Ordinal);
            if (close < 0)
            {
                template = null;
                error = $"'{text}' opens '{{{{' at character {open + 1} without closing it.";
                return false;
            }

            var name = text[(open + 2)..close].Trim();
            if (!CatalogNames.IsValid(name))
            {
                template = null;
                error = $"'{text}' refers to '{name}', which is not an argument name (letters, digits, '-', '_', '.').";
                return false;
            }

            parts.Add((string.Empty, name));
            i = close + 2;
        }

        template = new Template(text, [.. parts]);
        error = null;
        return true;
    }

    /// <summary>The template with the arguments written in; a missing argument is an empty string.</summary>
    public string Render(IReadOnlyDictionary<string, JsonNode?> arguments)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        if (IsLiteral)
        {
            return Source;
        }

        var text = new StringBuilder();
        foreach (var (literal, argument) in _parts)
        {
            text.Append(argument is null ? literal : arguments.TryGetValue(argument, out var value) && value is not null ? JsonText.Of(value) : string.Empty);
        }

        return text.ToString();
    }

    /// <summary>The template's value as JSON: the argument itself for a single placeholder, else the rendered string.</summary>
    public JsonNode? RenderNode(IReadOnlyDictionary<string, JsonNode?> arguments)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        return WholeArgument is { } argument
            ? arguments.TryGetValue(argument, out var value) ? value?.DeepClone() : null
            : JsonValue.Create(Render(arguments));
    }

    public override string ToString() => Source;
}

/// <summary>Names of platforms, triggers and arguments.</summary>
internal static class CatalogNames
{
    public static bool IsValid(string name)
        => name.Length is > 0 and <= 100 && char.IsAsciiLetterOrDigit(name[0]) && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    /// <summary>Key Vault secret names: 1–127 letters, digits and dashes.</summary>
    public static bool IsValidSecretName(string name)
        => name.Length is > 0 and <= 127 && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '-');
}

/// <summary>JSON values as text.</summary>
internal static class JsonText
{
    public static string Of(JsonNode node)
        => node is JsonValue value && value.TryGetValue<string>(out var text) ? text : node.ToJsonString();
}
