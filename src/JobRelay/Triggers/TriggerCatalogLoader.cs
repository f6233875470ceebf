using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using JobRelay.Model;
using JobRelay.Scheduling;

namespace JobRelay.Triggers;

/// <summary>
/// Loads a trigger catalog (<c>triggers.json</c>). Its structure (fields, types, required members, allowed values)
/// is checked against <c>triggers.schema.json</c>, built into JobRelay; this class checks only what a schema cannot
/// say: names across the catalog (platforms, <c>after</c> targets), chaining cycles, endpoints, cron expressions and
/// time zones, value sources and argument templates. Every error of both, with its JSON path, comes in one pass.
/// </summary>
public static class TriggerCatalogLoader
{
    /// <summary>The default TheEye supervisor.</summary>
    public static readonly Uri DefaultTheEyeUrl = new("https://supervisor.theeye.io/");

    private static readonly string[] HeaderFields = ["header", "prefix"];
    private static readonly string[] HmacFields = ["algorithm", "encoding"];
    private static readonly string[] JobFields = ["component", "config", "task"];
    private static readonly TimeSpan RegexTimeout = TimeSpan.FromMilliseconds(100);

    private static readonly JsonDocumentOptions DocumentOptions = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        MaxDepth = 64,
    };

    /// <summary>Reads and loads a catalog file.</summary>
    public static async Task<CatalogLoadResult> LoadFileAsync(string path, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(path);
        string json;
        try
        {
            json = await File.ReadAllTextAsync(path, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new CatalogLoadResult(null, [new CatalogError("$", $"The trigger catalog '{path}' cannot be read: {ex.Message}")]);
        }

        return Parse(json, path);
    }

    /// <summary>Loads a catalog from its JSON text; <paramref name="source"/> names it in messages.</summary>
    public static CatalogLoadResult Parse(string json, string source = "triggers.json")
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(json, new JsonNodeOptions { PropertyNameCaseInsensitive = false }, DocumentOptions);
        }
        catch (JsonException ex)
        {
            return new CatalogLoadResult(null, [new CatalogError("$", $"'{source}' is not valid JSON (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}): {FirstSentence(ex.Message)}")]);
        }

        IReadOnlyList<SchemaError> schemaErrors;
        using (var document = JsonDocument.Parse(json, DocumentOptions))
        {
            schemaErrors = CatalogSchemaCheck.Check(document.RootElement, root);
        }

        var reader = new CatalogReader();
        var catalog = Read(root, reader);
        var errors = Merge(schemaErrors, reader);
        return errors.Count == 0 && reader.IssueCount == 0
            ? new CatalogLoadResult(catalog, []) { Warnings = ChainFeed.Warnings(catalog) }
            : new CatalogLoadResult(null, errors);
    }

    /// <summary>
    /// The schema's errors and this loader's, in path order. A pattern the schema found broken where the loader says
    /// precisely why is left to the loader; a shape problem the schema did not report (it cannot be, but a schema edit
    /// could let one through) is reported rather than lost.
    /// </summary>
    private static List<CatalogError> Merge(IReadOnlyList<SchemaError> schemaErrors, CatalogReader reader)
    {
        var loaderPaths = reader.Errors.Select(e => e.Path).ToHashSet(StringComparer.Ordinal);
        var errors = schemaErrors
            .Where(e => e.Keyword != "pattern" || !loaderPaths.Contains(e.Path))
            .Select(e => new CatalogError(e.Path, e.Message))
            .Concat(reader.Errors)
            .Concat(reader.Structural.Where(s => !schemaErrors.Any(e => Covers(e.Path, s.Path))))
            .Distinct()
            .ToList();
        return [.. errors.OrderBy(e => e.Path, StringComparer.Ordinal)];
    }

    private static bool Covers(string ancestor, string path)
        => path.StartsWith(ancestor, StringComparison.Ordinal)
           && (path.Length == ancestor.Length || path[ancestor.Length] is '.' or '[');

    private static TriggerCatalog Read(JsonNode? root, CatalogReader reader)
    {
        var platforms = new Dictionary<string, PlatformDefinition>(StringComparer.Ordinal);
        var triggers = new Dictionary<string, TriggerDefinition>(StringComparer.Ordinal);
        if (reader.AsObject(root, "$") is not { } obj)
        {
            return new TriggerCatalog(platforms, triggers);
        }

        // Every platform the catalog declares, with its type when that is readable, whether or not it loads: a
        // trigger naming a platform in error is checked against its type, and the platform's own error is the one
        // reported, never a second "not a platform of the catalog".
        var declared = new Dictionary<string, PlatformKind?>(StringComparer.Ordinal);
        if (reader.AsObject(obj["platforms"], "$.platforms") is { } platformsObj)
        {
            foreach (var (name, node) in platformsObj)
            {
                var path = CatalogReader.Child("$.platforms", name);
                declared[name] = DeclaredKind(node);
                var validName = CatalogNames.IsValid(name);
                if (!validName)
                {
                    reader.Error(path, "is not a valid platform name: letters, digits, '-', '_' and '.', starting with a letter or digit.");
                }

                if (ReadPlatform(name, node, path, reader) is { } platform && validName)
                {
                    platforms[name] = platform;
                }
            }
        }

        if (reader.AsObject(obj["triggers"], "$.triggers") is { } triggersObj)
        {
            var triggerNames = triggersObj.Select(t => t.Key).ToHashSet(StringComparer.Ordinal);
            foreach (var (name, node) in triggersObj)
            {
                var path = CatalogReader.Child("$.triggers", name);
                var validName = CatalogNames.IsValid(name);
                if (!validName)
                {
                    reader.Error(path, "is not a valid trigger name: letters, digits, '-', '_' and '.', starting with a letter or digit.");
                }

                if (ReadTrigger(name, node, path, new CatalogNamesSeen(platforms, declared, triggerNames), reader) is { } trigger && validName)
                {
                    triggers[name] = trigger;
                }
            }
        }

        // Cycles among the triggers that loaded are real whatever else is wrong: a trigger in error only takes edges away.
        var catalog = new TriggerCatalog(platforms, triggers);
        foreach (var cycle in ChainGraph.FindCycles(catalog))
        {
            reader.Error(CatalogReader.Child(CatalogReader.Child("$.triggers", cycle[0]), "after"),
                $"makes a chaining cycle: {string.Join(" → ", cycle)} → {cycle[0]}. A job would start itself again without end.");
        }

        return OutboundCatalogReader.Read(obj, catalog, reader);
    }

    /// <summary>The type a platform entry declares, read without reporting anything (its own check does).</summary>
    private static PlatformKind? DeclaredKind(JsonNode? node)
        => (node as JsonObject)?["type"] is JsonValue type && type.GetValueKind() == JsonValueKind.String
            ? type.GetValue<string>() switch
            {
                "keboola" => PlatformKind.Keboola,
                "theeye" => PlatformKind.TheEye,
                _ => null,
            }
            : null;

    private static PlatformDefinition? ReadPlatform(string name, JsonNode? node, string path, CatalogReader reader)
    {
        if (reader.AsObject(node, path) is not { } obj)
        {
            return null;
        }

        var errorsBefore = reader.IssueCount;
        switch (reader.String(obj, "type", path, required: true))
        {
            case "keboola":
            {
                reader.String(obj, "description", path);
                var stack = reader.String(obj, "stack", path);
                var urlText = reader.String(obj, "url", path);
                var token = reader.SecretName(obj, "tokenSecret", path, required: true);
                var events = reader.SecretName(obj, "eventSecret", path, required: false);
                var queue = stack is not null
                    ? KeboolaStacks.QueueUrls.GetValueOrDefault(stack)
                    : urlText is not null && reader.Endpoint(urlText, CatalogReader.Child(path, "url")) is { } url ? KeboolaStacks.QueueUrlFor(url) : null;
                return reader.IssueCount == errorsBefore && queue is not null && token is not null
                    ? new KeboolaPlatformDefinition(name, stack, queue, token) { EventSecret = events }
                    : null;
            }

            case "theeye":
            {
                reader.String(obj, "description", path);
                var urlText = reader.String(obj, "url", path);
                var url = urlText is null ? DefaultTheEyeUrl : reader.Endpoint(urlText, CatalogReader.Child(path, "url"));
                var customer = reader.String(obj, "customer", path, required: true);
                var token = reader.SecretName(obj, "accessTokenSecret", path, required: false);
                var events = reader.SecretName(obj, "eventSecret", path, required: false);
                return reader.IssueCount == errorsBefore ? new TheEyePlatformDefinition(name, url!, customer!, token) { EventSecret = events } : null;
            }

            default:
                return null;
        }
    }

    private static TriggerDefinition? ReadTrigger(string name, JsonNode? node, string path, CatalogNamesSeen names, CatalogReader reader)
    {
        if (reader.AsObject(node, path) is not { } obj)
        {
            return null;
        }

        var errorsBefore = reader.IssueCount;
        var description = reader.String(obj, "description", path);
        var platformName = reader.String(obj, "platform", path, required: true);
        var enabled = reader.Bool(obj, "enabled", path) ?? true;
        PlatformDefinition? platform = null;
        PlatformKind? kind = null;
        if (platformName is not null && !names.Platforms.TryGetValue(platformName, out platform))
        {
            if (!names.Declared.TryGetValue(platformName, out kind))
            {
                reader.Error(CatalogReader.Child(path, "platform"), $"'{platformName}' is not a platform of the catalog; known: {string.Join(", ", names.Declared.Keys)}.");
            }
        }

        kind = platform?.Kind ?? kind;
        var arguments = ReadArguments(obj, path, reader);

        // Every declared argument, even one in error, so that its templates are not also reported as undeclared.
        var argumentNames = (obj["arguments"] as JsonObject)?.Select(a => a.Key).ToHashSet(StringComparer.Ordinal) ?? [];

        if (kind is { } platformKind)
        {
            var (expected, other) = platformKind == PlatformKind.Keboola ? ("keboola", "theeye") : ("theeye", "keboola");
            if (obj.ContainsKey(other))
            {
                reader.Error(CatalogReader.Child(path, other), $"does not apply: platform '{platformName}' is a {platformKind} platform, so the job is described in '{expected}'.");
            }

            if (obj[expected] is null)
            {
                reader.Error(CatalogReader.Child(path, expected), $"is required: it describes the job to start on '{platformName}'.");
            }
        }

        // Without a known platform type, whichever job block is there is still checked on its own.
        var keboola = obj["keboola"] is { } keboolaNode && kind is null or PlatformKind.Keboola
            ? ReadKeboolaJob(keboolaNode, CatalogReader.Child(path, "keboola"), argumentNames, reader)
            : null;
        var theEye = obj["theeye"] is { } theEyeNode && kind is null or PlatformKind.TheEye
            ? ReadTheEyeJob(theEyeNode, CatalogReader.Child(path, "theeye"), platform as TheEyePlatformDefinition, argumentNames, reader)
            : null;

        var schedule = obj["schedule"] is { } scheduleNode ? ReadSchedule(scheduleNode, CatalogReader.Child(path, "schedule"), reader) : null;
        var webhook = obj["webhook"] is { } webhookNode ? ReadWebhook(webhookNode, CatalogReader.Child(path, "webhook"), reader) : null;
        var after = obj["after"] is { } afterNode ? ReadAfter(name, afterNode, CatalogReader.Child(path, "after"), names, reader) : [];

        // Whether the trigger has rules as written: a rule in error has its own message, and does not make the
        // trigger's event arguments wrong as well.
        var chained = obj["after"] is not (null or JsonArray { Count: 0 });

        var watch = obj["watch"] is { } watchNode && reader.AsObject(watchNode, CatalogReader.Child(path, "watch")) is { } watchObj
            ? new WatchPolicy(Duration(watchObj, "firstCheck", CatalogReader.Child(path, "watch"), reader), Duration(watchObj, "maxInterval", CatalogReader.Child(path, "watch"), reader))
            : null;
        if (watch is { FirstCheck: { } firstCheck, MaxInterval: { } maxInterval } && maxInterval < firstCheck)
        {
            reader.Error(CatalogReader.Child(CatalogReader.Child(path, "watch"), "maxInterval"), "must not be shorter than firstCheck: the wait between reads grows from firstCheck up to it.");
        }

        var maxDuration = Duration(obj, "maxDuration", path, reader);
        var onTimeout = reader.String(obj, "onTimeout", path) == "cancel" ? TimeoutAction.Cancel : TimeoutAction.Mark;
        if (onTimeout == TimeoutAction.Cancel && maxDuration is null)
        {
            reader.Error(CatalogReader.Child(path, "onTimeout"), "needs 'maxDuration': a job is cancelled once it runs longer than that.");
        }

        foreach (var argument in arguments.Values.Where(a => a.From is { Kind: ValueSourceKind.Event }))
        {
            if (!chained)
            {
                reader.Error(CatalogReader.Child(CatalogReader.Child(CatalogReader.Child(path, "arguments"), argument.Name), "from"),
                    "reads a job-end event, but the trigger has no 'after' rules: only chained runs carry an event.");
            }
        }

        // A trigger on a platform in error is not built: the platform's error stands for it.
        if (reader.IssueCount != errorsBefore || platform is null)
        {
            return null;
        }

        return new TriggerDefinition
        {
            Name = name,
            Description = description,
            Platform = platformName!,
            PlatformKind = platform.Kind,
            Enabled = enabled,
            Arguments = arguments,
            Keboola = keboola,
            TheEye = theEye,
            Schedule = schedule,
            Webhook = webhook,
            After = after,
            Watch = watch,
            MaxDuration = maxDuration,
            OnTimeout = onTimeout,
        };
    }

    /// <summary>An ISO 8601 duration member (<c>PT10S</c>), at least a second; null when absent or wrong.</summary>
    internal static TimeSpan? Duration(JsonObject obj, string name, string path, CatalogReader reader)
    {
        if (reader.String(obj, name, path) is not { } text)
        {
            return null;
        }

        TimeSpan duration;
        try
        {
            duration = System.Xml.XmlConvert.ToTimeSpan(text);
        }
        catch (FormatException)
        {
            reader.Error(CatalogReader.Child(path, name), $"'{text}' is not an ISO 8601 duration such as 'PT10S', 'PT30M' or 'P1D'.");
            return null;
        }
        catch (OverflowException)
        {
            reader.Error(CatalogReader.Child(path, name), $"'{text}' is too long a duration.");
            return null;
        }

        if (duration < TimeSpan.FromSeconds(1))
        {
            reader.Error(CatalogReader.Child(path, name), $"'{text}' is shorter than a second.");
            return null;
        }

        return duration;
    }

    private static Dictionary<string, ArgumentDefinition> ReadArguments(JsonObject trigger, string triggerPath, CatalogReader reader)
    {
        var arguments = new Dictionary<string, ArgumentDefinition>(StringComparer.Ordinal);
        if (trigger["arguments"] is not { } node)
        {
            return arguments;
        }

        var path = CatalogReader.Child(triggerPath, "arguments");
        if (reader.AsObject(node, path) is not { } obj)
        {
            return arguments;
        }

        foreach (var (name, value) in obj)
        {
            var argumentPath = CatalogReader.Child(path, name);
            if (!CatalogNames.IsValid(name))
            {
                // The trigger is not built; the argument is still read, so that its own errors come in this run too.
                reader.Error(argumentPath, "is not a valid argument name: letters, digits, '-', '_' and '.', starting with a letter or digit.");
            }

            if (reader.AsObject(value, argumentPath) is not { } argument)
            {
                continue;
            }

            reader.String(argument, "description", argumentPath);
            var required = reader.Bool(argument, "required", argumentPath) ?? false;
            var overridable = reader.Bool(argument, "overridable", argumentPath) ?? false;
            argument.TryGetPropertyValue("default", out var defaultValue);

            ValueSource? from = null;
            if (reader.String(argument, "from", argumentPath) is { } fromText)
            {
                if (!ValueSource.TryParse(fromText, out from, out var error))
                {
                    reader.Error(CatalogReader.Child(argumentPath, "from"), error!);
                }
            }

            arguments[name] = new ArgumentDefinition(name, defaultValue?.DeepClone(), required, overridable, from);
        }

        return arguments;
    }

    private static KeboolaJobTemplate? ReadKeboolaJob(JsonNode? node, string path, ISet<string> arguments, CatalogReader reader)
    {
        if (reader.AsObject(node, path) is not { } obj)
        {
            return null;
        }

        var errorsBefore = reader.IssueCount;
        var component = reader.Template(obj, "component", path, arguments, required: true);
        var mode = reader.Template(obj, "mode", path, arguments);

        var config = reader.Template(obj, "config", path, arguments, allowNumbers: true);
        List<Template>? rows = null;
        if (reader.Strings(obj, "configRowIds", path, allowNumbers: true) is { } rowTexts)
        {
            rows = [];
            for (var i = 0; i < rowTexts.Count; i++)
            {
                if (reader.Template(rowTexts[i], CatalogReader.Index(CatalogReader.Child(path, "configRowIds"), i), arguments) is { } row)
                {
                    rows.Add(row);
                }
            }
        }

        JsonObject? configData = null;
        if (obj["configData"] is { } configDataNode)
        {
            configData = reader.AsObject(configDataNode, CatalogReader.Child(path, "configData"))?.DeepClone().AsObject();
            reader.TemplatesIn(configData, CatalogReader.Child(path, "configData"), arguments);
        }

        var tag = reader.Template(obj, "tag", path, arguments);
        var branchId = reader.Template(obj, "branchId", path, arguments, allowNumbers: true);
        var variableValuesId = reader.Template(obj, "variableValuesId", path, arguments, allowNumbers: true);
        List<KeyValuePair<string, Template>>? variables = null;
        if (obj["variables"] is { } variablesNode && reader.AsObject(variablesNode, CatalogReader.Child(path, "variables")) is { } variablesObj)
        {
            variables = [];
            foreach (var (variable, _) in variablesObj)
            {
                if (reader.Template(variablesObj, variable, CatalogReader.Child(path, "variables"), arguments, required: true, allowNumbers: true) is { } value)
                {
                    variables.Add(KeyValuePair.Create(variable, value));
                }
            }
        }

        Template? backendType = null;
        Template? backendContext = null;
        if (obj["backend"] is { } backendNode && reader.AsObject(backendNode, CatalogReader.Child(path, "backend")) is { } backend)
        {
            var backendPath = CatalogReader.Child(path, "backend");
            backendType = reader.Template(backend, "type", backendPath, arguments);
            backendContext = reader.Template(backend, "context", backendPath, arguments);
        }

        var delayedStartTime = reader.Template(obj, "delayedStartTime", path, arguments);
        if (delayedStartTime is { IsLiteral: true }
            && !DateTimeOffset.TryParse(delayedStartTime.Source, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out _))
        {
            reader.Error(CatalogReader.Child(path, "delayedStartTime"), $"'{delayedStartTime.Source}' is not an ISO 8601 date-time such as 2026-01-31T02:00:00Z.");
        }

        var delay = reader.Int(obj, "delay", path, 0, int.MaxValue);
        var parallelism = obj["parallelism"] is JsonValue parallelismValue
            ? parallelismValue.GetValueKind() == JsonValueKind.String ? parallelismValue.GetValue<string>() : parallelismValue.ToJsonString()
            : null;

        var parentRunId = reader.Template(obj, "parentRunId", path, arguments, allowNumbers: true);

        return reader.IssueCount != errorsBefore ? null : new KeboolaJobTemplate
        {
            Component = component!,
            Mode = mode,
            Config = config,
            ConfigRowIds = rows,
            ConfigData = configData,
            Tag = tag,
            BranchId = branchId,
            VariableValuesId = variableValuesId,
            Variables = variables,
            BackendType = backendType,
            BackendContext = backendContext,
            DelayedStartTime = delayedStartTime,
            DelaySeconds = delay,
            Parallelism = parallelism,
            ParentRunId = parentRunId,
        };
    }

    /// <param name="platform">The trigger's platform, or null when it is unknown or in error (its own error stands).</param>
    private static TheEyeJobTemplate? ReadTheEyeJob(JsonNode? node, string path, TheEyePlatformDefinition? platform, ISet<string> arguments, CatalogReader reader)
    {
        if (reader.AsObject(node, path) is not { } obj)
        {
            return null;
        }

        var errorsBefore = reader.IssueCount;
        var task = reader.Template(obj, "task", path, arguments, required: true);
        var taskArguments = new List<JsonNode?>();
        if (obj["taskArguments"] is { } argumentsNode)
        {
            if (argumentsNode is JsonArray array)
            {
                taskArguments.AddRange(array.Select(a => a?.DeepClone()));
                reader.TemplatesIn(argumentsNode, CatalogReader.Child(path, "taskArguments"), arguments);
            }
        }

        var authentication = reader.String(obj, "auth", path) switch
        {
            "secretKey" => TheEyeAuthentication.SecretKey,
            "taskSecretKey" => TheEyeAuthentication.TaskSecretKey,
            _ => TheEyeAuthentication.AccessToken,
        };

        var secretKeySecret = reader.SecretName(obj, "secretKeySecret", path, required: false);
        if (authentication == TheEyeAuthentication.AccessToken)
        {
            if (secretKeySecret is not null)
            {
                reader.Error(CatalogReader.Child(path, "secretKeySecret"), "is used only with auth secretKey or taskSecretKey.");
            }

            if (platform is { AccessTokenSecret: null })
            {
                reader.Error(path, $"uses an access token, but platform '{platform.Name}' names no 'accessTokenSecret'. Add one, or set auth to secretKey with 'secretKeySecret'.");
            }
        }
        else if (secretKeySecret is null && !obj.ContainsKey("secretKeySecret"))
        {
            reader.Error(CatalogReader.Child(path, "secretKeySecret"), "is required with auth secretKey or taskSecretKey: name the Key Vault secret holding the task's secret key.");
        }

        return reader.IssueCount != errorsBefore ? null : new TheEyeJobTemplate
        {
            Task = task!,
            TaskArguments = taskArguments,
            Authentication = authentication,
            SecretKeySecret = secretKeySecret,
        };
    }

    private static ScheduleDefinition? ReadSchedule(JsonNode node, string path, CatalogReader reader)
    {
        if (reader.AsObject(node, path) is not { } obj)
        {
            return null;
        }

        var cron = reader.String(obj, "cron", path, required: true);
        var timeZone = reader.String(obj, "timeZone", path) ?? "UTC";

        // The expression and the zone are checked apart: a wrong one does not hide the other.
        TimeZoneInfo? zone = null;
        if (!CronSchedule.TryFindTimeZone(timeZone, out zone, out var zoneError))
        {
            reader.Error(CatalogReader.Child(path, "timeZone"), zoneError);
        }

        CronSchedule? schedule = null;
        if (cron is not null && !CronSchedule.TryParse(cron, zone ?? TimeZoneInfo.Utc, out schedule, out var error))
        {
            reader.Error(CatalogReader.Child(path, "cron"), error);
        }

        return zone is not null && schedule is not null ? new ScheduleDefinition(schedule.Expression, zone) : null;
    }

    private static WebhookDefinition? ReadWebhook(JsonNode node, string path, CatalogReader reader)
    {
        if (reader.AsObject(node, path) is not { } obj)
        {
            return null;
        }

        var errorsBefore = reader.IssueCount;
        var schemeText = reader.String(obj, "scheme", path, required: true);

        // An unknown scheme is the schema's error; the checks that do not depend on the scheme still run.
        var schemeKnown = WebhookSchemes.TryParse(schemeText ?? string.Empty, out var scheme);
        var secrets = reader.Strings(obj, "secrets", path) ?? [];

        var tolerance = reader.Int(obj, "toleranceSeconds", path, 1, 86_400);
        var header = reader.String(obj, "header", path);
        var prefix = reader.String(obj, "prefix", path);
        var configurableHeader = scheme is WebhookScheme.Hmac or WebhookScheme.Token or WebhookScheme.EventGrid or WebhookScheme.CloudEvents
            or WebhookScheme.KeboolaNotification or WebhookScheme.TheEyeJobEnd;
        if (schemeKnown && !configurableHeader)
        {
            foreach (var field in HeaderFields.Where(obj.ContainsKey))
            {
                reader.Error(CatalogReader.Child(path, field), $"does not apply to scheme '{schemeText}': the sender fixes it.");
            }
        }

        var algorithm = reader.String(obj, "algorithm", path) == "sha1" ? WebhookHmacAlgorithm.Sha1 : WebhookHmacAlgorithm.Sha256;
        var encoding = reader.String(obj, "encoding", path) == "base64" ? WebhookSignatureEncoding.Base64 : WebhookSignatureEncoding.Hex;
        if (schemeKnown && scheme != WebhookScheme.Hmac)
        {
            foreach (var field in HmacFields.Where(obj.ContainsKey))
            {
                reader.Error(CatalogReader.Child(path, field), $"applies only to scheme 'hmac'.");
            }
        }

        ValueSource? deliveryId = null;
        if (reader.String(obj, "deliveryId", path) is { } deliveryIdText && !ValueSource.TryParse(deliveryIdText, out deliveryId, out var deliveryIdError))
        {
            reader.Error(CatalogReader.Child(path, "deliveryId"), deliveryIdError!);
        }

        var replay = WebhookReplay.Digest;
        switch (reader.String(obj, "replay", path))
        {
            case null:
            case var _ when !schemeKnown:
                break;
            case var _ when !WebhookSchemes.DigestApplies(scheme):
                reader.Error(CatalogReader.Child(path, "replay"), $"does not apply to scheme '{schemeText}': its signature covers a timestamp or an id the sender signs, which is what tells a replay.");
                break;
            case "digest":
                break;
            case "none" when !WebhookSchemes.DigestMayBeTurnedOff(scheme):
                reader.Error(CatalogReader.Child(path, "replay"), $"cannot be 'none' for scheme '{schemeText}': a signed delivery is always remembered by its digest, so that a captured one cannot start the job again.");
                break;
            case "none":
                replay = WebhookReplay.None;
                break;
            default:
                // Any other value breaks the schema's enum, which reports it.
                break;
        }

        var digestWindow = reader.Int(obj, "digestWindowSeconds", path, 1, 604_800);
        if (digestWindow is not null && schemeKnown)
        {
            if (!WebhookSchemes.DigestMayBeTurnedOff(scheme))
            {
                reader.Error(CatalogReader.Child(path, "digestWindowSeconds"), $"does not apply to scheme '{schemeText}': "
                    + (WebhookSchemes.DigestApplies(scheme)
                        ? "a repeat of its signed content is a replay, a duplicate for the whole retention."
                        : "its signature covers a timestamp or an id the sender signs, which is what tells a replay."));
            }
            else if (replay == WebhookReplay.None)
            {
                reader.Error(CatalogReader.Child(path, "digestWindowSeconds"), "does not apply with replay 'none': no digest is kept.");
            }
        }

        var events = reader.Strings(obj, "events", path) ?? [];
        var filters = new List<DeliveryFilter>();
        if (obj["filters"] is { } filtersNode)
        {
            var filtersPath = CatalogReader.Child(path, "filters");
            for (var i = 0; filtersNode is JsonArray filterArray && i < filterArray.Count; i++)
            {
                if (ReadFilter(filterArray[i], CatalogReader.Index(filtersPath, i), reader) is { } filter)
                {
                    filters.Add(filter);
                }
            }
        }

        return reader.IssueCount != errorsBefore || !schemeKnown ? null : new WebhookDefinition
        {
            Scheme = scheme,
            Secrets = secrets,
            Tolerance = tolerance is { } seconds ? TimeSpan.FromSeconds(seconds) : null,
            Header = header,
            Algorithm = algorithm,
            Encoding = encoding,
            Prefix = prefix,
            DeliveryId = deliveryId,
            Replay = replay,
            DigestWindow = digestWindow is { } windowSeconds ? TimeSpan.FromSeconds(windowSeconds) : WebhookDefinition.DefaultDigestWindow,
            Events = events,
            Filters = filters,
        };
    }

    private static DeliveryFilter? ReadFilter(JsonNode? node, string path, CatalogReader reader)
    {
        if (reader.AsObject(node, path) is not { } obj)
        {
            return null;
        }

        var errorsBefore = reader.IssueCount;
        var field = reader.String(obj, "field", path, required: true);
        ValueSource? source = null;
        if (field is not null && !ValueSource.TryParse(field, out source, out var error))
        {
            reader.Error(CatalogReader.Child(path, "field"), error!);
        }

        IReadOnlyList<JsonNode?>? values = obj["in"] is JsonArray array ? [.. array.Select(v => v?.DeepClone())] : null;

        Regex? regex = null;
        if (reader.String(obj, "matches", path) is { } pattern)
        {
            try
            {
                regex = new Regex(pattern, RegexOptions.CultureInvariant, RegexTimeout);
            }
            catch (ArgumentException ex)
            {
                reader.Error(CatalogReader.Child(path, "matches"), $"is not a regular expression: {ex.Message}");
            }
        }

        return reader.IssueCount != errorsBefore ? null : new DeliveryFilter(field!, source!)
        {
            HasEquals = obj.ContainsKey("equals"),
            EqualsValue = obj["equals"]?.DeepClone(),
            In = values,
            Matches = regex,
        };
    }

    private static List<AfterRule> ReadAfter(string triggerName, JsonNode node, string path, CatalogNamesSeen names, CatalogReader reader)
    {
        var rules = new List<AfterRule>();
        if (node is not JsonArray array)
        {
            return rules;
        }

        for (var i = 0; i < array.Count; i++)
        {
            var rulePath = CatalogReader.Index(path, i);
            if (reader.AsObject(array[i], rulePath) is not { } obj)
            {
                continue;
            }

            var errorsBefore = reader.IssueCount;
            var trigger = reader.String(obj, "trigger", rulePath);
            var platformName = reader.String(obj, "platform", rulePath);
            var component = reader.String(obj, "component", rulePath);
            var config = reader.Id(obj, "config", rulePath);
            var task = reader.String(obj, "task", rulePath);
            if (trigger is not null)
            {
                if (trigger == triggerName)
                {
                    reader.Error(CatalogReader.Child(rulePath, "trigger"), "names the trigger itself: a job would start itself again without end.");
                }
                else if (!names.Triggers.Contains(trigger))
                {
                    reader.Error(CatalogReader.Child(rulePath, "trigger"), $"'{trigger}' is not a trigger of the catalog.");
                }

                foreach (var field in JobFields.Where(obj.ContainsKey))
                {
                    reader.Error(CatalogReader.Child(rulePath, field), "applies only to a rule that names a 'platform'.");
                }
            }

            if (platformName is not null)
            {
                // A platform declared but in error has its own message; its type still tells which fields apply.
                if (!names.Declared.TryGetValue(platformName, out var kind))
                {
                    reader.Error(CatalogReader.Child(rulePath, "platform"), $"'{platformName}' is not a platform of the catalog.");
                }
                else if (kind == PlatformKind.Keboola && task is not null)
                {
                    reader.Error(CatalogReader.Child(rulePath, "task"), "applies to TheEye platforms; a Keboola rule names 'component' and 'config'.");
                }
                else if (kind == PlatformKind.TheEye && (component is not null || config is not null))
                {
                    reader.Error(rulePath, "names a component/config, which apply to Keboola platforms; a TheEye rule names 'task'.");
                }
                else if (kind == PlatformKind.Keboola && component is null && config is not null)
                {
                    reader.Error(CatalogReader.Child(rulePath, "component"), "is required with 'config': configuration ids are unique only within a component.");
                }
            }

            IReadOnlyList<JobState> states = reader.Strings(obj, "states", rulePath) is { } stateTexts
                ? [.. stateTexts.Select(text => text switch { "failed" => JobState.Failed, "cancelled" => JobState.Cancelled, _ => JobState.Succeeded })]
                : [JobState.Succeeded];

            if (reader.IssueCount == errorsBefore)
            {
                rules.Add(new AfterRule { Trigger = trigger, Platform = platformName, Component = component, Config = config, Task = task, States = states });
            }
        }

        return rules;
    }

    /// <summary>
    /// The names a trigger may refer to: the platforms that loaded, every platform declared (with its type, when
    /// readable) and every trigger declared.
    /// </summary>
    private sealed record CatalogNamesSeen(
        IReadOnlyDictionary<string, PlatformDefinition> Platforms,
        IReadOnlyDictionary<string, PlatformKind?> Declared,
        ISet<string> Triggers);

    private static string FirstSentence(string message)
    {
        var end = message.IndexOf(". ", StringComparison.Ordinal);
        return end < 0 ? message : message[..(end + 1)];
    }
}
