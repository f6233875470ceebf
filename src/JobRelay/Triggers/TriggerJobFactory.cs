using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using JobRelay.Model;
using JobRelay.Platforms;

namespace JobRelay.Triggers;

/// <summary>Turns a trigger and its argument values into the job request its platform adapter sends.</summary>
public static class TriggerJobFactory
{
    private static readonly string[] KeboolaModes = ["run", "debug", "forceRun"];

    /// <summary>
    /// The argument values a caller (API or CLI) sets. Only arguments the trigger declares overridable may be set;
    /// anything else is refused by name, so that a run never silently ignores what the caller asked for.
    /// </summary>
    public static IReadOnlyDictionary<string, JsonNode?> ApplyOverrides(TriggerDefinition trigger, JsonObject? overrides)
    {
        ArgumentNullException.ThrowIfNull(trigger);
        var values = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        if (overrides is null)
        {
            return values;
        }

        foreach (var (name, value) in overrides)
        {
            if (!trigger.Arguments.TryGetValue(name, out var argument))
            {
                var known = trigger.Arguments.Values.Where(a => a.Overridable).Select(a => a.Name).ToList();
                throw new RelayException(RelayErrorKind.InvalidInput,
                    $"Trigger '{trigger.Name}' has no argument '{name}'. " + (known.Count == 0 ? "It takes no arguments." : $"Overridable arguments: {string.Join(", ", known)}."));
            }

            if (!argument.Overridable)
            {
                throw new RelayException(RelayErrorKind.Forbidden,
                    $"Argument '{name}' of trigger '{trigger.Name}' is not overridable: the catalog fixes it (set \"overridable\": true to allow callers to set it).");
            }

            values[name] = value?.DeepClone();
        }

        return values;
    }

    /// <summary>The values the trigger's arguments read from a delivery or event (<c>from</c>); absent values are left out.</summary>
    public static IReadOnlyDictionary<string, JsonNode?> MapArguments(TriggerDefinition trigger, IValueContext context)
    {
        ArgumentNullException.ThrowIfNull(trigger);
        ArgumentNullException.ThrowIfNull(context);
        var values = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        foreach (var argument in trigger.Arguments.Values)
        {
            if (argument.From?.Read(context) is { } value)
            {
                values[argument.Name] = value;
            }
        }

        return values;
    }

    /// <summary>
    /// The job request for <paramref name="trigger"/>: supplied values first, then defaults; a required argument
    /// without a value is a <see cref="RelayErrorKind.MappingFailed"/> failure that names it and where it was read from.
    /// </summary>
    public static JobRequest Create(TriggerDefinition trigger, TriggerCatalog catalog, IReadOnlyDictionary<string, JsonNode?> supplied)
    {
        ArgumentNullException.ThrowIfNull(trigger);
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(supplied);
        var arguments = Resolve(trigger, supplied);
        return trigger.PlatformKind switch
        {
            PlatformKind.Keboola => CreateKeboola(trigger, trigger.Keboola!, arguments),
            PlatformKind.TheEye => CreateTheEye(trigger, trigger.TheEye!, arguments),
            _ => throw new RelayException(RelayErrorKind.InvalidInput, $"Trigger '{trigger.Name}' is for a platform kind this version does not know."),
        };
    }

    private static Dictionary<string, JsonNode?> Resolve(TriggerDefinition trigger, IReadOnlyDictionary<string, JsonNode?> supplied)
    {
        var arguments = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        foreach (var argument in trigger.Arguments.Values)
        {
            if (supplied.TryGetValue(argument.Name, out var value) && value is not null)
            {
                arguments[argument.Name] = value;
            }
            else if (argument.Default is not null)
            {
                arguments[argument.Name] = argument.Default.DeepClone();
            }
            else if (argument.Required)
            {
                var where = argument.From is { } from ? $" at {from}" : string.Empty;
                throw new RelayException(RelayErrorKind.MappingFailed,
                    $"Trigger '{trigger.Name}' requires argument '{argument.Name}', but no value was found{where}.");
            }
        }

        return arguments;
    }

    private static KeboolaJobRequest CreateKeboola(TriggerDefinition trigger, KeboolaJobTemplate job, Dictionary<string, JsonNode?> arguments)
    {
        var component = Optional(job.Component, arguments)
            ?? throw Mapping(trigger, "keboola.component", "rendered empty");
        var mode = Optional(job.Mode, arguments) ?? "run";
        if (!KeboolaModes.Contains(mode, StringComparer.Ordinal))
        {
            throw Mapping(trigger, "keboola.mode", $"is '{mode}', not run, debug or forceRun");
        }

        DateTimeOffset? delayedStart = null;
        if (Optional(job.DelayedStartTime, arguments) is { } delayedText)
        {
            delayedStart = DateTimeOffset.TryParse(delayedText, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var parsed)
                ? parsed
                : throw Mapping(trigger, "keboola.delayedStartTime", $"is '{delayedText}', not an ISO 8601 date-time");
        }

        var backendType = Optional(job.BackendType, arguments);
        var backendContext = Optional(job.BackendContext, arguments);
        return new KeboolaJobRequest
        {
            Trigger = trigger.Name,
            Component = component,
            Mode = mode,
            Config = Optional(job.Config, arguments),
            ConfigRowIds = job.ConfigRowIds?.Select(r => r.Render(arguments)).Where(r => r.Length > 0).ToList(),
            ConfigData = job.ConfigData is null ? null : RenderNode(job.ConfigData, arguments)!.AsObject(),
            Tag = Optional(job.Tag, arguments),
            BranchId = Optional(job.BranchId, arguments),
            VariableValuesId = Optional(job.VariableValuesId, arguments),
            VariableValues = job.Variables?.Select(v => new KeboolaVariableValue(v.Key, v.Value.Render(arguments))).ToList(),
            Backend = backendType is null && backendContext is null ? null : new KeboolaBackend(backendType, backendContext),
            DelayedStartTime = delayedStart,
            DelaySeconds = job.DelaySeconds,
            Parallelism = job.Parallelism,
            ParentRunId = Optional(job.ParentRunId, arguments),
        };
    }

    private static TheEyeJobRequest CreateTheEye(TriggerDefinition trigger, TheEyeJobTemplate job, Dictionary<string, JsonNode?> arguments)
        => new()
        {
            Trigger = trigger.Name,
            TaskId = Optional(job.Task, arguments) ?? throw Mapping(trigger, "theeye.task", "rendered empty"),
            TaskArguments = [.. job.TaskArguments.Select(a => RenderNode(a, arguments))],
            Authentication = job.Authentication,
            SecretKeySecretName = job.SecretKeySecret,
        };

    /// <summary>A JSON value with its string leaves rendered: a leaf that is exactly one placeholder takes the argument's own JSON value.</summary>
    private static JsonNode? RenderNode(JsonNode? node, IReadOnlyDictionary<string, JsonNode?> arguments) => node switch
    {
        null => null,
        JsonObject obj => new JsonObject(obj.Select(p => KeyValuePair.Create(p.Key, RenderNode(p.Value, arguments)))),
        JsonArray array => new JsonArray([.. array.Select(item => RenderNode(item, arguments))]),
        JsonValue value when value.GetValueKind() == JsonValueKind.String && Template.TryParse(value.GetValue<string>(), out var template, out _)
            => template!.RenderNode(arguments),
        _ => node.DeepClone(),
    };

    private static string? Optional(Template? template, IReadOnlyDictionary<string, JsonNode?> arguments)
        => template?.Render(arguments) is { Length: > 0 } text ? text : null;

    private static RelayException Mapping(TriggerDefinition trigger, string field, string problem)
        => new(RelayErrorKind.MappingFailed, $"Trigger '{trigger.Name}': {field} {problem} after its arguments were applied.");
}
