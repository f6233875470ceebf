using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using JobRelay.Model;

namespace JobRelay.Triggers;

/// <summary>
/// Reads typed values out of catalog JSON, collecting every error with its JSON path instead of stopping. The
/// catalog's structure (fields, types, required members) is the schema's to report; a value of the wrong shape is
/// noted here as structural, so that nothing is built from it, and reported only if the schema let it through.
/// </summary>
internal sealed class CatalogReader
{
    private readonly List<CatalogError> _errors = [];
    private readonly List<CatalogError> _structural = [];

    public IReadOnlyList<CatalogError> Errors => _errors;

    /// <summary>Values of the wrong shape, which the schema reports in its own words.</summary>
    public IReadOnlyList<CatalogError> Structural => _structural;

    /// <summary>Every problem so far, reported or structural: what decides whether a part can be built.</summary>
    public int IssueCount => _errors.Count + _structural.Count;

    public void Error(string path, string message) => _errors.Add(new CatalogError(path, message));

    private void Shape(string path, string message) => _structural.Add(new CatalogError(path, message));

    public static string Child(string path, string name)
        => name.Contains('.', StringComparison.Ordinal) || name.Contains('\'', StringComparison.Ordinal) || name.Length == 0 || name.Any(char.IsWhiteSpace)
            ? $"{path}['{name.Replace("'", "\\'", StringComparison.Ordinal)}']"
            : $"{path}.{name}";

    public static string Index(string path, int index) => $"{path}[{index}]";

    /// <summary>The node as an object, or an error.</summary>
    public JsonObject? AsObject(JsonNode? node, string path)
    {
        if (node is JsonObject obj)
        {
            return obj;
        }

        Shape(path, $"must be an object, not {Describe(node)}.");
        return null;
    }

    public string? String(JsonObject obj, string name, string path, bool required = false)
    {
        if (!obj.TryGetPropertyValue(name, out var node) || node is null)
        {
            if (required)
            {
                Shape(Child(path, name), "is required.");
            }

            return null;
        }

        if (node is JsonValue value && value.GetValueKind() == JsonValueKind.String)
        {
            var text = value.GetValue<string>();
            if (text.Length == 0)
            {
                Shape(Child(path, name), "must not be empty.");
                return null;
            }

            return text;
        }

        Shape(Child(path, name), $"must be a string, not {Describe(node)}.");
        return null;
    }

    /// <summary>A string or a number, as text (Keboola ids are written either way).</summary>
    public string? Id(JsonObject obj, string name, string path, bool required = false)
    {
        if (obj.TryGetPropertyValue(name, out var node) && node is JsonValue value && value.GetValueKind() == JsonValueKind.Number)
        {
            return value.ToJsonString();
        }

        return String(obj, name, path, required);
    }

    public bool? Bool(JsonObject obj, string name, string path)
    {
        if (!obj.TryGetPropertyValue(name, out var node) || node is null)
        {
            return null;
        }

        if (node is JsonValue value && value.GetValueKind() is JsonValueKind.True or JsonValueKind.False)
        {
            return value.GetValue<bool>();
        }

        Shape(Child(path, name), $"must be true or false, not {Describe(node)}.");
        return null;
    }

    public int? Int(JsonObject obj, string name, string path, int min, int max)
    {
        if (!obj.TryGetPropertyValue(name, out var node) || node is null)
        {
            return null;
        }

        if (node is JsonValue value && value.GetValueKind() == JsonValueKind.Number && value.TryGetValue<int>(out var number))
        {
            if (number < min || number > max)
            {
                Shape(Child(path, name), $"must be between {min} and {max}, not {number}.");
                return null;
            }

            return number;
        }

        Shape(Child(path, name), $"must be a whole number, not {Describe(node)}.");
        return null;
    }

    public IReadOnlyList<string>? Strings(JsonObject obj, string name, string path, bool allowNumbers = false)
    {
        if (!obj.TryGetPropertyValue(name, out var node) || node is null)
        {
            return null;
        }

        if (node is not JsonArray array)
        {
            Shape(Child(path, name), $"must be an array of strings, not {Describe(node)}.");
            return null;
        }

        var items = new List<string>();
        for (var i = 0; i < array.Count; i++)
        {
            var item = array[i];
            if (item is JsonValue value && value.GetValueKind() == JsonValueKind.String && value.GetValue<string>().Length > 0)
            {
                items.Add(value.GetValue<string>());
            }
            else if (allowNumbers && item is JsonValue number && number.GetValueKind() == JsonValueKind.Number)
            {
                items.Add(number.ToJsonString());
            }
            else
            {
                Shape(Index(Child(path, name), i), $"must be a non-empty string, not {Describe(item)}.");
            }
        }

        return items;
    }

    public Template? Template(JsonObject obj, string name, string path, ISet<string> arguments, bool required = false, bool allowNumbers = false)
    {
        var text = allowNumbers ? Id(obj, name, path, required) : String(obj, name, path, required);
        return text is null ? null : Template(text, Child(path, name), arguments);
    }

    public Template? Template(string text, string path, ISet<string> arguments)
    {
        if (!Model.Template.TryParse(text, out var template, out var error))
        {
            Error(path, error!);
            return null;
        }

        foreach (var argument in template!.Arguments.Where(a => !arguments.Contains(a)).Distinct(StringComparer.Ordinal))
        {
            Error(path, $"refers to '{{{{{argument}}}}}' but the trigger declares no argument '{argument}'.");
        }

        return template;
    }

    /// <summary>Checks the templates inside any JSON value (string leaves of objects and arrays).</summary>
    public void TemplatesIn(JsonNode? node, string path, ISet<string> arguments)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (name, child) in obj)
                {
                    TemplatesIn(child, Child(path, name), arguments);
                }

                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    TemplatesIn(array[i], Index(path, i), arguments);
                }

                break;
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                Template(value.GetValue<string>(), path, arguments);
                break;
        }
    }

    /// <summary>An endpoint: absolute https (http only on a loopback host), no credentials, query or fragment.</summary>
    public Uri? Endpoint(string text, string path)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            Error(path, $"'{text}' is not an absolute http(s) URL.");
            return null;
        }

        if (EndpointProblem(uri) is { } problem)
        {
            Error(path, problem);
            return null;
        }

        return uri.AbsolutePath.EndsWith('/') ? uri : new Uri(uri.GetLeftPart(UriPartial.Path) + "/");
    }

    /// <summary>
    /// Why <paramref name="uri"/> cannot be a platform endpoint, or null when it can. Every source of a platform URL
    /// (the catalog, a setting that overrides it) is held to these rules, since the platform's token travels to it.
    /// </summary>
    public static string? EndpointProblem(Uri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        if (!uri.IsAbsoluteUri || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            return "must be an absolute http(s) URL.";
        }

        if (uri.Scheme == Uri.UriSchemeHttp && !uri.IsLoopback)
        {
            return "must use https; plain http is allowed only for a loopback host (localhost, 127.0.0.1).";
        }

        if (uri.UserInfo.Length > 0 || uri.Query.Length > 0 || uri.Fragment.Length > 0)
        {
            return "must not carry credentials, a query or a fragment: secrets are named in the catalog, never written in it.";
        }

        return null;
    }

    public string? SecretName(JsonObject obj, string name, string path, bool required)
    {
        var secret = String(obj, name, path, required);
        if (secret is not null && !CatalogNames.IsValidSecretName(secret))
        {
            Shape(Child(path, name), $"'{secret}' is not a Key Vault secret name: 1 to 127 letters, digits and '-'. Write the secret's name here, never its value.");
            return null;
        }

        return secret;
    }

    public static string Describe(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject => "an object",
        JsonArray => "an array",
        JsonValue value => value.GetValueKind() switch
        {
            JsonValueKind.String => "a string",
            JsonValueKind.Number => string.Create(CultureInfo.InvariantCulture, $"the number {value.ToJsonString()}"),
            JsonValueKind.True or JsonValueKind.False => "a boolean",
            _ => "a value",
        },
        _ => "a value",
    };
}
