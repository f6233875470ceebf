using System.Text.Json.Nodes;
using JobRelay.Model;

namespace JobRelay.Webhooks;

/// <summary>
/// The values of one verified delivery that mappings and filters read: the JSON body (or, for a form post, its
/// fields as an object), headers, query parameters and route values.
/// </summary>
internal sealed class DeliveryValues : IValueContext
{
    private readonly WebhookDelivery _delivery;
    private readonly string _trigger;

    public DeliveryValues(WebhookDelivery delivery, string trigger, JsonNode? body, JsonNode? jobEvent)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        _delivery = delivery;
        _trigger = trigger;
        Body = body ?? FormObject(delivery);
        JobEvent = jobEvent;
    }

    public JsonNode? Body { get; }

    public JsonNode? JobEvent { get; }

    public string? Header(string name) => _delivery.Header(name);

    public string? Query(string name) => _delivery.QueryValue(name);

    public string? Route(string name) => string.Equals(name, "trigger", StringComparison.OrdinalIgnoreCase) ? _trigger : null;

    /// <summary>The value at <paramref name="source"/> as text, or null.</summary>
    public string? Text(ValueSource source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return source.ReadText(this);
    }

    private static JsonObject? FormObject(WebhookDelivery delivery)
    {
        if (delivery.Form is not { } form)
        {
            return null;
        }

        var obj = new JsonObject();
        foreach (var (name, value) in form)
        {
            obj[name] = value;
        }

        return obj;
    }
}

/// <summary>Whether a verified delivery applies to its trigger: its event type and the trigger's filters.</summary>
internal static class WebhookFilters
{
    /// <summary>Null when the delivery applies; otherwise why it is ignored, in words for the sender's delivery log.</summary>
    public static string? Rejects(WebhookDefinition webhook, string? eventType, IValueContext values)
    {
        ArgumentNullException.ThrowIfNull(webhook);
        ArgumentNullException.ThrowIfNull(values);
        if (webhook.Events.Count > 0 && (eventType is null || !webhook.Events.Contains(eventType, StringComparer.Ordinal)))
        {
            return eventType is null
                ? $"the delivery names no event type; the trigger takes {string.Join(", ", webhook.Events)}"
                : $"event '{eventType}' is not one the trigger takes ({string.Join(", ", webhook.Events)})";
        }

        foreach (var filter in webhook.Filters)
        {
            var value = filter.Source.Read(values);
            if (!Applies(filter, value))
            {
                var shown = value is null ? "absent" : Shorten(JsonText.Of(value));
                return $"{filter.Field} is {shown}, which does not meet the trigger's filter";
            }
        }

        return null;
    }

    private static bool Applies(DeliveryFilter filter, JsonNode? value)
    {
        if (filter.HasEquals)
        {
            return SameValue(filter.EqualsValue, value);
        }

        if (filter.In is { } options)
        {
            return options.Any(option => SameValue(option, value));
        }

        if (filter.Matches is { } regex)
        {
            if (value is null)
            {
                return false;
            }

            try
            {
                return regex.IsMatch(JsonText.Of(value));
            }
            catch (System.Text.RegularExpressions.RegexMatchTimeoutException)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>JSON equality, except that a string filter value also matches a number or boolean written the same way.</summary>
    private static bool SameValue(JsonNode? expected, JsonNode? actual)
    {
        if (expected is null || actual is null)
        {
            return expected is null && actual is null;
        }

        return JsonNode.DeepEquals(expected, actual)
            || (expected is JsonValue && actual is JsonValue && JsonText.Of(expected) == JsonText.Of(actual));
    }

    private static string Shorten(string text) => text.Length <= 80 ? $"'{text}'" : $"'{text[..77]}...'";
}

/// <summary>The verifier settings of a trigger's webhook block.</summary>
internal static class WebhookSettings
{
    public static WebhookVerifierSettings From(WebhookDefinition webhook, TimeSpan defaultTolerance)
    {
        ArgumentNullException.ThrowIfNull(webhook);
        return new WebhookVerifierSettings(webhook.Scheme)
        {
            Tolerance = webhook.Tolerance ?? defaultTolerance,
            Header = webhook.Header,
            Algorithm = webhook.Algorithm,
            Encoding = webhook.Encoding,
            Prefix = webhook.Prefix,
            DeliveryIdHeader = webhook.DeliveryId is { Kind: ValueSourceKind.Header } source ? source.Name : null,
        };
    }
}
