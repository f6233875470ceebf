using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using JobRelay.Platforms;
using JobRelay.Scheduling;
using JobRelay.Webhooks;

namespace JobRelay.Triggers;

/// <summary>
/// Loads a trigger catalog (<c>triggers.json</c>, described by <c>triggers.schema.json</c>). Loading checks
/// everything at once and reports every error with its JSON path: unknown fields, wrong types, endpoints that are
/// not https, unknown platforms, arguments a template refers to but nobody declares, and chaining cycles.
/// </summary>
public static class TriggerCatalogLoader
{
    /// <summary>The default TheEye supervisor.</summary>
    public static readonly Uri DefaultTheEyeUrl = new("https://supervisor.theeye.io/");

    private static readonly string[] KeboolaModes = ["run", "debug", "forceRun"];
    private static readonly string[] KeboolaBackendTypes = ["xsmall", "small", "medium", "large"];
    private static readonly string[] HeaderFields = ["header", "prefix"];
    private static readonly string[] HmacFields = ["algorithm", "encoding"];
    private static readonly string[] ConditionFields = ["equals", "in", "matches"];
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

        var reader = new CatalogReader();
        var catalog = Read(root, reader);
        return reader.ErrorCount == 0 ? new CatalogLoadResult(catalog, []) : new CatalogLoadResult(null, reader.Errors);
    }

    private static TriggerCatalog Read(JsonNode? root, CatalogReader reader)
    {
        var platforms = new Dictionary<string, PlatformDefinition>(StringComparer.Ordinal);
        var triggers = new Dictionary<string, TriggerDefinition>(StringComparer.Ordinal);
        if (reader.AsObject(root, "$") is not { } obj)
        {
            return new TriggerCatalog(platforms, triggers);
        }

        reader.OnlyKnown(obj, "$", "$schema", "platforms", "triggers");
        if (obj["platforms"] is null)
        {
            reader.Error("$.platforms", "is required: name at least one Keboola or TheEye platform.");
        }
        else if (reader.AsObject(obj["platforms"], "$.platforms") is { } platformsObj)
        {
            foreach (var (name, node) in platformsObj)
            {
                var path = CatalogReader.Child("$.platforms", name);
                if (!CatalogNames.IsValid(name))
                {
                    reader.Error(path, "is not a valid platform name: letters, digits, '-', '_' and '.', starting with a letter or digit.");
                    continue;
                }

                if (ReadPlatform(name, node, path, reader) is { } platform)
                {
                    platforms[name] = platform;
                }
            }
        }

        if (obj["triggers"] is null)
        {
            reader.Error("$.triggers", "is required.");
        }
        else if (reader.AsObject(obj["triggers"], "$.triggers") is { } triggersObj)
        {
            var triggerNames = triggersObj.Select(t => t.Key).ToHashSet(StringComparer.Ordinal);
            foreach (var (name, node) in triggersObj)
            {
                var path = CatalogReader.Child("$.triggers", name);
                if (!CatalogNames.IsValid(name))
                {
                    reader.Error(path, "is not a valid trigger name: letters, digits, '-', '_' and '.', starting with a letter or digit.");
                    continue;
                }

                if (ReadTrigger(name, node, path, platforms, triggerNames, reader) is { } trigger)
                {
                    triggers[name] = trigger;
                }
            }
        }

        var catalog = new TriggerCatalog(platforms, triggers);
        if (reader.ErrorCount == 0)
        {
            foreach (var cycle in ChainGraph.FindCycles(catalog))
            {
                reader.Error(CatalogReader.Child(CatalogReader.Child("$.triggers", cycle[0]), "after"),
                    $"makes a chaining cycle: {string.Join(" → ", cycle)} → {cycle[0]}. A job would start itself again without end.");
            }
        }

        return catalog;
    }

    private static PlatformDefinition? ReadPlatform(string name, JsonNode? node, string path, CatalogReader reader)
    {
        if (reader.AsObject(node, path) is not { } obj)
        {
            return null;
        }

        var errorsBefore = reader.ErrorCount;
        switch (reader.String(obj, "type", path, required: true))
        {
            case "keboola":
            {
                reader.OnlyKnown(obj, path, "type", "description", "stack", "url", "tokenSecret", "eventSecret");
                reader.String(obj, "description", path);
                var stack = reader.String(obj, "stack", path);
                var urlText = reader.String(obj, "url", path);
                var token = reader.SecretName(obj, "tokenSecret", path, required: true);
                var events = reader.SecretName(obj, "eventSecret", path, required: false);
                Uri? queue = null;
                if (stack is not null && urlText is not null)
                {
                    reader.Error(path, "names both 'stack' and 'url': give one.");
                }
                else if (stack is not null)
                {
                    if (!KeboolaStacks.QueueUrls.TryGetValue(stack, out queue))
                    {
                        reader.Error(CatalogReader.Child(path, "stack"), $"'{stack}' is not a Keboola stack; known stacks: {string.Join(", ", KeboolaStacks.QueueUrls.Keys)}. For a single-tenant stack give 'url'.");
                    }
                }
                else if (urlText is not null)
                {
                    queue = reader.Endpoint(urlText, CatalogReader.Child(path, "url")) is { } url ? KeboolaStacks.QueueUrlFor(url) : null;
                }
                else
                {
                    reader.Error(path, "needs 'stack' (one of " + string.Join(", ", KeboolaStacks.QueueUrls.Keys) + ") or 'url' (the stack's queue endpoint).");
                }

                return reader.ErrorCount == errorsBefore ? new KeboolaPlatformDefinition(name, stack, queue!, token!) { EventSecret = events } : null;
            }

            case "theeye":
            {
                reader.OnlyKnown(obj, path, "type", "description", "url", "customer", "accessTokenSecret", "eventSecret");
                reader.String(obj, "description", path);
                var urlText = reader.String(obj, "url", path);
                var url = urlText is null ? DefaultTheEyeUrl : reader.Endpoint(urlText, CatalogReader.Child(path, "url"));
                var customer = reader.String(obj, "customer", path, required: true);
                var token = reader.SecretName(obj, "accessTokenSecret", path, required: false);
                var events = reader.SecretName(obj, "eventSecret", path, required: false);
                return reader.ErrorCount == errorsBefore ? new TheEyePlatformDefinition(name, url!, customer!, token) { EventSecret = events } : null;
            }

            case null:
                return null;

            case var other:
                reader.Error(CatalogReader.Child(path, "type"), $"'{other}' is not a platform type: use 'keboola' or 'theeye'.");
                return null;
        }
    }

    private static TriggerDefinition? ReadTrigger(
        string name,
        JsonNode? node,
        string path,
        IReadOnlyDictionary<string, PlatformDefinition> platforms,
        ISet<string> triggerNames,
        CatalogReader reader)
    {
        if (reader.AsObject(node, path) is not { } obj)
        {
            return null;
        }

        var errorsBefore = reader.ErrorCount;
        reader.OnlyKnown(obj, path, "description", "platform", "enabled", "arguments", "keboola", "theeye", "schedule", "webhook", "after");
        var description = reader.String(obj, "description", path);
        var platformName = reader.String(obj, "platform", path, required: true);
        var enabled = reader.Bool(obj, "enabled", path) ?? true;
        PlatformDefinition? platform = null;
        if (platformName is not null && !platforms.TryGetValue(platformName, out platform))
        {
            reader.Error(CatalogReader.Child(path, "platform"), $"'{platformName}' is not a platform of the catalog; known: {string.Join(", ", platforms.Keys)}.");
        }

        var arguments = ReadArguments(obj, path, reader);
        var argumentNames = arguments.Keys.ToHashSet(StringComparer.Ordinal);

        KeboolaJobTemplate? keboola = null;
        TheEyeJobTemplate? theEye = null;
        if (platform is not null)
        {
            var (expected, other) = platform.Kind == PlatformKind.Keboola ? ("keboola", "theeye") : ("theeye", "keboola");
            if (obj.ContainsKey(other))
            {
                reader.Error(CatalogReader.Child(path, other), $"does not apply: platform '{platform.Name}' is a {platform.Kind} platform, so the job is described in '{expected}'.");
            }

            if (obj[expected] is null)
            {
                reader.Error(CatalogReader.Child(path, expected), $"is required: it describes the job to start on '{platform.Name}'.");
            }
            else if (platform is KeboolaPlatformDefinition)
            {
                keboola = ReadKeboolaJob(obj[expected], CatalogReader.Child(path, expected), argumentNames, reader);
            }
            else if (platform is TheEyePlatformDefinition theEyePlatform)
            {
                theEye = ReadTheEyeJob(obj[expected], CatalogReader.Child(path, expected), theEyePlatform, argumentNames, reader);
            }
        }

        var schedule = obj["schedule"] is { } scheduleNode ? ReadSchedule(scheduleNode, CatalogReader.Child(path, "schedule"), reader) : null;
        var webhook = obj["webhook"] is { } webhookNode ? ReadWebhook(webhookNode, CatalogReader.Child(path, "webhook"), reader) : null;
        var after = obj["after"] is { } afterNode ? ReadAfter(name, afterNode, CatalogReader.Child(path, "after"), platforms, triggerNames, reader) : [];

        foreach (var argument in arguments.Values.Where(a => a.From is { Kind: ValueSourceKind.Event }))
        {
            if (after.Count == 0)
            {
                reader.Error(CatalogReader.Child(CatalogReader.Child(CatalogReader.Child(path, "arguments"), argument.Name), "from"),
                    "reads a job-end event, but the trigger has no 'after' rules: only chained runs carry an event.");
            }
        }

        if (reader.ErrorCount != errorsBefore)
        {
            return null;
        }

        return new TriggerDefinition
        {
            Name = name,
            Description = description,
            Platform = platformName!,
            PlatformKind = platform!.Kind,
            Enabled = enabled,
            Arguments = arguments,
            Keboola = keboola,
            TheEye = theEye,
            Schedule = schedule,
            Webhook = webhook,
            After = after,
        };
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
                reader.Error(argumentPath, "is not a valid argument name: letters, digits, '-', '_' and '.', starting with a letter or digit.");
                continue;
            }

            if (reader.AsObject(value, argumentPath) is not { } argument)
            {
                continue;
            }

            reader.OnlyKnown(argument, argumentPath, "description", "default", "required", "overridable", "from");
            reader.String(argument, "description", argumentPath);
            var required = reader.Bool(argument, "required", argumentPath) ?? false;
            var overridable = reader.Bool(argument, "overridable", argumentPath) ?? false;
            var hasDefault = argument.TryGetPropertyValue("default", out var defaultValue);
            if (required && hasDefault)
            {
                reader.Error(argumentPath, "is both required and has a default: a default means it is never missing; drop one.");
            }

            ValueSource? from = null;
            if (reader.String(argument, "from", argumentPath) is { } fromText)
            {
                if (ValueSource.TryParse(fromText, out from, out var error))
                {
                    // parsed
                }
                else
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

        var errorsBefore = reader.ErrorCount;
        reader.OnlyKnown(obj, path, "component", "mode", "config", "configRowIds", "configData", "tag", "branchId",
            "variableValuesId", "variables", "backend", "delayedStartTime", "delay", "parallelism", "parentRunId");
        var component = reader.Template(obj, "component", path, arguments, required: true);
        var mode = reader.Template(obj, "mode", path, arguments);
        if (mode is { IsLiteral: true } && !KeboolaModes.Contains(mode.Source, StringComparer.Ordinal))
        {
            reader.Error(CatalogReader.Child(path, "mode"), $"'{mode.Source}' is not a job mode: use run, debug or forceRun.");
        }

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

        if (variableValuesId is not null && variables is not null)
        {
            reader.Error(path, "sets both 'variableValuesId' and 'variables': Keboola takes one or the other.");
        }

        Template? backendType = null;
        Template? backendContext = null;
        if (obj["backend"] is { } backendNode && reader.AsObject(backendNode, CatalogReader.Child(path, "backend")) is { } backend)
        {
            var backendPath = CatalogReader.Child(path, "backend");
            reader.OnlyKnown(backend, backendPath, "type", "context");
            backendType = reader.Template(backend, "type", backendPath, arguments);
            backendContext = reader.Template(backend, "context", backendPath, arguments);
            if (backendType is { IsLiteral: true } && !KeboolaBackendTypes.Contains(backendType.Source, StringComparer.Ordinal))
            {
                reader.Error(CatalogReader.Child(backendPath, "type"), $"'{backendType.Source}' is not a backend size: use {string.Join(", ", KeboolaBackendTypes)}.");
            }

            if (backendType is null && backendContext is null)
            {
                reader.Error(backendPath, "needs 'type', 'context' or both.");
            }
        }

        var delayedStartTime = reader.Template(obj, "delayedStartTime", path, arguments);
        if (delayedStartTime is { IsLiteral: true }
            && !DateTimeOffset.TryParse(delayedStartTime.Source, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out _))
        {
            reader.Error(CatalogReader.Child(path, "delayedStartTime"), $"'{delayedStartTime.Source}' is not an ISO 8601 date-time such as 2026-01-31T02:00:00Z.");
        }

        var delay = reader.Int(obj, "delay", path, 0, int.MaxValue);
        if (delayedStartTime is not null && delay is not null)
        {
            reader.Error(path, "sets both 'delayedStartTime' and 'delay': Keboola takes one or the other.");
        }

        string? parallelism = null;
        if (obj["parallelism"] is JsonValue parallelismValue)
        {
            parallelism = parallelismValue.GetValueKind() switch
            {
                JsonValueKind.Number when parallelismValue.TryGetValue<int>(out var n) && n is >= 2 and <= 100 => n.ToString(CultureInfo.InvariantCulture),
                JsonValueKind.String when parallelismValue.GetValue<string>() == "infinity" => "infinity",
                _ => null,
            };
            if (parallelism is null)
            {
                reader.Error(CatalogReader.Child(path, "parallelism"), $"must be a whole number from 2 to 100 or \"infinity\", not {parallelismValue.ToJsonString()}.");
            }
        }
        else if (obj.ContainsKey("parallelism") && obj["parallelism"] is not null)
        {
            reader.Error(CatalogReader.Child(path, "parallelism"), "must be a whole number from 2 to 100 or \"infinity\".");
        }

        var parentRunId = reader.Template(obj, "parentRunId", path, arguments, allowNumbers: true);

        return reader.ErrorCount != errorsBefore ? null : new KeboolaJobTemplate
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

    private static TheEyeJobTemplate? ReadTheEyeJob(JsonNode? node, string path, TheEyePlatformDefinition platform, ISet<string> arguments, CatalogReader reader)
    {
        if (reader.AsObject(node, path) is not { } obj)
        {
            return null;
        }

        var errorsBefore = reader.ErrorCount;
        reader.OnlyKnown(obj, path, "task", "taskArguments", "auth", "secretKeySecret");
        var task = reader.Template(obj, "task", path, arguments, required: true);
        var taskArguments = new List<JsonNode?>();
        if (obj["taskArguments"] is { } argumentsNode)
        {
            if (argumentsNode is JsonArray array)
            {
                taskArguments.AddRange(array.Select(a => a?.DeepClone()));
                reader.TemplatesIn(argumentsNode, CatalogReader.Child(path, "taskArguments"), arguments);
            }
            else
            {
                reader.Error(CatalogReader.Child(path, "taskArguments"), $"must be an array (one slot per task argument, null for fixed ones), not {CatalogReader.Describe(argumentsNode)}.");
            }
        }

        var authentication = TheEyeAuthentication.AccessToken;
        switch (reader.String(obj, "auth", path))
        {
            case null or "accessToken":
                break;
            case "secretKey":
                authentication = TheEyeAuthentication.SecretKey;
                break;
            case "taskSecretKey":
                authentication = TheEyeAuthentication.TaskSecretKey;
                break;
            case var other:
                reader.Error(CatalogReader.Child(path, "auth"), $"'{other}' is not a TheEye authentication: use accessToken, secretKey or taskSecretKey.");
                break;
        }

        var secretKeySecret = reader.SecretName(obj, "secretKeySecret", path, required: false);
        if (authentication == TheEyeAuthentication.AccessToken)
        {
            if (secretKeySecret is not null)
            {
                reader.Error(CatalogReader.Child(path, "secretKeySecret"), "is used only with auth secretKey or taskSecretKey.");
            }

            if (platform.AccessTokenSecret is null)
            {
                reader.Error(path, $"uses an access token, but platform '{platform.Name}' names no 'accessTokenSecret'. Add one, or set auth to secretKey with 'secretKeySecret'.");
            }
        }
        else if (secretKeySecret is null && !obj.ContainsKey("secretKeySecret"))
        {
            reader.Error(CatalogReader.Child(path, "secretKeySecret"), "is required with auth secretKey or taskSecretKey: name the Key Vault secret holding the task's secret key.");
        }

        return reader.ErrorCount != errorsBefore ? null : new TheEyeJobTemplate
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

        reader.OnlyKnown(obj, path, "cron", "timeZone");
        var cron = reader.String(obj, "cron", path, required: true);
        var timeZone = reader.String(obj, "timeZone", path) ?? "UTC";
        if (cron is null)
        {
            return null;
        }

        try
        {
            _ = TimeZoneInfo.FindSystemTimeZoneById(timeZone);
        }
        catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            reader.Error(CatalogReader.Child(path, "timeZone"), $"'{timeZone}' is not an IANA time zone such as Europe/Prague or UTC.");
            return null;
        }

        if (!CronSchedule.TryParse(cron, timeZone, out var schedule, out var error))
        {
            reader.Error(CatalogReader.Child(path, "cron"), error);
            return null;
        }

        return new ScheduleDefinition(schedule.Expression, schedule.TimeZone);
    }

    private static WebhookDefinition? ReadWebhook(JsonNode node, string path, CatalogReader reader)
    {
        if (reader.AsObject(node, path) is not { } obj)
        {
            return null;
        }

        var errorsBefore = reader.ErrorCount;
        reader.OnlyKnown(obj, path, "scheme", "secrets", "toleranceSeconds", "header", "algorithm", "encoding", "prefix", "deliveryId", "replay", "events", "filters");
        var schemeText = reader.String(obj, "scheme", path, required: true);
        WebhookScheme scheme = default;
        if (schemeText is not null && !WebhookSchemes.TryParse(schemeText, out scheme))
        {
            reader.Error(CatalogReader.Child(path, "scheme"), $"'{schemeText}' is not a webhook scheme; known: {string.Join(", ", WebhookSchemes.Names)}.");
        }

        var secrets = reader.Strings(obj, "secrets", path) ?? [];
        if (!obj.ContainsKey("secrets"))
        {
            reader.Error(CatalogReader.Child(path, "secrets"), "is required: name the Key Vault secret(s) deliveries are verified with (two while rotating).");
        }
        else if (secrets.Count == 0)
        {
            reader.Error(CatalogReader.Child(path, "secrets"), "must name at least one secret.");
        }

        for (var i = 0; i < secrets.Count; i++)
        {
            if (!CatalogNames.IsValidSecretName(secrets[i]))
            {
                reader.Error(CatalogReader.Index(CatalogReader.Child(path, "secrets"), i), $"'{secrets[i]}' is not a Key Vault secret name: 1 to 127 letters, digits and '-'. Write the secret's name here, never its value.");
            }
        }

        var tolerance = reader.Int(obj, "toleranceSeconds", path, 1, 86_400);
        var header = reader.String(obj, "header", path);
        var prefix = reader.String(obj, "prefix", path);
        var configurableHeader = scheme is WebhookScheme.Hmac or WebhookScheme.Token or WebhookScheme.EventGrid or WebhookScheme.CloudEvents
            or WebhookScheme.KeboolaNotification or WebhookScheme.TheEyeJobEnd;
        if (schemeText is not null && !configurableHeader)
        {
            foreach (var field in HeaderFields.Where(obj.ContainsKey))
            {
                reader.Error(CatalogReader.Child(path, field), $"does not apply to scheme '{schemeText}': the sender fixes it.");
            }
        }

        var algorithm = WebhookHmacAlgorithm.Sha256;
        var encoding = WebhookSignatureEncoding.Hex;
        if (scheme == WebhookScheme.Hmac)
        {
            switch (reader.String(obj, "algorithm", path))
            {
                case null or "sha256":
                    break;
                case "sha1":
                    algorithm = WebhookHmacAlgorithm.Sha1;
                    break;
                case var other:
                    reader.Error(CatalogReader.Child(path, "algorithm"), $"'{other}' is not an HMAC algorithm: use sha256 or sha1.");
                    break;
            }

            switch (reader.String(obj, "encoding", path))
            {
                case null or "hex":
                    break;
                case "base64":
                    encoding = WebhookSignatureEncoding.Base64;
                    break;
                case var other:
                    reader.Error(CatalogReader.Child(path, "encoding"), $"'{other}' is not a signature encoding: use hex or base64.");
                    break;
            }
        }
        else if (schemeText is not null)
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
                break;
            case var _ when schemeText is not null && !ReplayDigest.Applies(scheme):
                reader.Error(CatalogReader.Child(path, "replay"), $"does not apply to scheme '{schemeText}': its signature covers a timestamp or an id the sender signs, which is what tells a replay.");
                break;
            case "digest":
                break;
            case "none" when schemeText is not null && !ReplayDigest.MayBeTurnedOff(scheme):
                reader.Error(CatalogReader.Child(path, "replay"), $"cannot be 'none' for scheme '{schemeText}': a signed delivery is always remembered by its digest, so that a captured one cannot start the job again.");
                break;
            case "none":
                replay = WebhookReplay.None;
                break;
            case var other:
                reader.Error(CatalogReader.Child(path, "replay"), $"'{other}' is not a replay rule: use digest (the default) or none.");
                break;
        }

        var events = reader.Strings(obj, "events", path) ?? [];
        var filters = new List<DeliveryFilter>();
        if (obj["filters"] is { } filtersNode)
        {
            var filtersPath = CatalogReader.Child(path, "filters");
            if (filtersNode is JsonArray filterArray)
            {
                for (var i = 0; i < filterArray.Count; i++)
                {
                    if (ReadFilter(filterArray[i], CatalogReader.Index(filtersPath, i), reader) is { } filter)
                    {
                        filters.Add(filter);
                    }
                }
            }
            else
            {
                reader.Error(filtersPath, $"must be an array of filters, not {CatalogReader.Describe(filtersNode)}.");
            }
        }

        return reader.ErrorCount != errorsBefore ? null : new WebhookDefinition
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

        var errorsBefore = reader.ErrorCount;
        reader.OnlyKnown(obj, path, "field", "equals", "in", "matches");
        var field = reader.String(obj, "field", path, required: true);
        ValueSource? source = null;
        if (field is not null && !ValueSource.TryParse(field, out source, out var error))
        {
            reader.Error(CatalogReader.Child(path, "field"), error!);
        }

        var conditions = ConditionFields.Count(obj.ContainsKey);
        if (conditions != 1)
        {
            reader.Error(path, "needs exactly one of 'equals', 'in' or 'matches'.");
        }

        IReadOnlyList<JsonNode?>? values = null;
        if (obj["in"] is { } inNode)
        {
            if (inNode is JsonArray array && array.Count > 0)
            {
                values = [.. array.Select(v => v?.DeepClone())];
            }
            else
            {
                reader.Error(CatalogReader.Child(path, "in"), "must be a non-empty array of values.");
            }
        }

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

        return reader.ErrorCount != errorsBefore ? null : new DeliveryFilter(field!, source!)
        {
            HasEquals = obj.ContainsKey("equals"),
            EqualsValue = obj["equals"]?.DeepClone(),
            In = values,
            Matches = regex,
        };
    }

    private static List<AfterRule> ReadAfter(
        string triggerName,
        JsonNode node,
        string path,
        IReadOnlyDictionary<string, PlatformDefinition> platforms,
        ISet<string> triggerNames,
        CatalogReader reader)
    {
        var rules = new List<AfterRule>();
        if (node is not JsonArray array)
        {
            reader.Error(path, $"must be an array of rules, not {CatalogReader.Describe(node)}.");
            return rules;
        }

        for (var i = 0; i < array.Count; i++)
        {
            var rulePath = CatalogReader.Index(path, i);
            if (reader.AsObject(array[i], rulePath) is not { } obj)
            {
                continue;
            }

            var errorsBefore = reader.ErrorCount;
            reader.OnlyKnown(obj, rulePath, "trigger", "platform", "component", "config", "task", "states");
            var trigger = reader.String(obj, "trigger", rulePath);
            var platformName = reader.String(obj, "platform", rulePath);
            var component = reader.String(obj, "component", rulePath);
            var config = reader.Id(obj, "config", rulePath);
            var task = reader.String(obj, "task", rulePath);
            if ((trigger is null) == (platformName is null))
            {
                reader.Error(rulePath, "names either 'trigger' (a trigger of this catalog) or 'platform' (with a component/config or task), not both or neither.");
            }

            if (trigger is not null)
            {
                if (trigger == triggerName)
                {
                    reader.Error(CatalogReader.Child(rulePath, "trigger"), "names the trigger itself: a job would start itself again without end.");
                }
                else if (!triggerNames.Contains(trigger))
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
                if (!platforms.TryGetValue(platformName, out var platform))
                {
                    reader.Error(CatalogReader.Child(rulePath, "platform"), $"'{platformName}' is not a platform of the catalog.");
                }
                else if (platform.Kind == PlatformKind.Keboola && task is not null)
                {
                    reader.Error(CatalogReader.Child(rulePath, "task"), "applies to TheEye platforms; a Keboola rule names 'component' and 'config'.");
                }
                else if (platform.Kind == PlatformKind.TheEye && (component is not null || config is not null))
                {
                    reader.Error(rulePath, "names a component/config, which apply to Keboola platforms; a TheEye rule names 'task'.");
                }
                else if (platform.Kind == PlatformKind.Keboola && component is null && config is not null)
                {
                    reader.Error(CatalogReader.Child(rulePath, "component"), "is required with 'config': configuration ids are unique only within a component.");
                }
            }

            IReadOnlyList<JobState> states = [JobState.Succeeded];
            if (reader.Strings(obj, "states", rulePath) is { } stateTexts)
            {
                var parsed = new List<JobState>();
                for (var s = 0; s < stateTexts.Count; s++)
                {
                    switch (stateTexts[s])
                    {
                        case "succeeded": parsed.Add(JobState.Succeeded); break;
                        case "failed": parsed.Add(JobState.Failed); break;
                        case "cancelled": parsed.Add(JobState.Cancelled); break;
                        default:
                            reader.Error(CatalogReader.Index(CatalogReader.Child(rulePath, "states"), s), $"'{stateTexts[s]}' is not an end state: use succeeded, failed or cancelled.");
                            break;
                    }
                }

                if (stateTexts.Count == 0)
                {
                    reader.Error(CatalogReader.Child(rulePath, "states"), "must name at least one end state.");
                }

                states = parsed;
            }

            if (reader.ErrorCount == errorsBefore)
            {
                rules.Add(new AfterRule { Trigger = trigger, Platform = platformName, Component = component, Config = config, Task = task, States = states });
            }
        }

        return rules;
    }

    private static string FirstSentence(string message)
    {
        var end = message.IndexOf(". ", StringComparison.Ordinal);
        return end < 0 ? message : message[..(end + 1)];
    }
}
