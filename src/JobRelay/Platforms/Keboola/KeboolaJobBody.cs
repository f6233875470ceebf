using System.Globalization;
using System.Text.Json.Nodes;
using JobRelay.Model;

namespace JobRelay.Platforms.Keboola;

/// <summary>
/// Checks a <see cref="KeboolaJobRequest"/> and turns it into the <c>POST /jobs</c> body: every member that is set,
/// and nothing else, so that the queue applies its own defaults to the rest.
/// </summary>
internal static class KeboolaJobBody
{
    private const int MinParallelism = 2;
    private const int MaxParallelism = 100;
    private const string Infinity = "infinity";

    /// <summary>Builds the body, or throws <see cref="RelayException"/> (<see cref="RelayErrorKind.InvalidInput"/>) for a request the queue would refuse.</summary>
    public static JsonObject Build(KeboolaJobRequest request, string platform)
    {
        if (string.IsNullOrWhiteSpace(request.Component))
        {
            throw Invalid(platform, request, "a component id is required.");
        }

        if (request.VariableValuesId is not null && request.VariableValues is not null)
        {
            throw Invalid(platform, request, "variable values are given both by id (variableValuesId) and inline (variableValuesData); set only one.");
        }

        if (request.DelayedStartTime is not null && request.DelaySeconds is not null)
        {
            throw Invalid(platform, request, "both a delayed start time (delayedStartTime) and a delay in seconds (delay) are set; set only one.");
        }

        if (request.DelaySeconds < 0)
        {
            throw Invalid(platform, request, $"the delay must be zero or more seconds, not {request.DelaySeconds.Value.ToString(CultureInfo.InvariantCulture)}.");
        }

        if (request.ParentRunId is not null && !IsHeaderSafe(request.ParentRunId))
        {
            throw Invalid(platform, request, "the parent run id (X-KBC-RunId) is empty or holds characters an HTTP header cannot carry.");
        }

        var body = new JsonObject { ["component"] = request.Component };
        if (!string.IsNullOrEmpty(request.Mode))
        {
            body["mode"] = request.Mode;
        }

        AddIfSet(body, "config", request.Config);
        if (request.ConfigRowIds is not null)
        {
            body["configRowIds"] = new JsonArray([.. request.ConfigRowIds.Select(id => JsonValue.Create(id))]);
        }

        if (request.ConfigData is not null)
        {
            body["configData"] = request.ConfigData.DeepClone();
        }

        AddIfSet(body, "tag", request.Tag);
        AddIfSet(body, "branchId", request.BranchId);
        AddIfSet(body, "variableValuesId", request.VariableValuesId);
        if (request.VariableValues is not null)
        {
            var values = new JsonArray();
            foreach (var variable in request.VariableValues)
            {
                values.Add(new JsonObject { ["name"] = variable.Name, ["value"] = variable.Value });
            }

            body["variableValuesData"] = new JsonObject { ["values"] = values };
        }

        if (request.Backend is not null)
        {
            var backend = new JsonObject();
            AddIfSet(backend, "type", request.Backend.Type);
            AddIfSet(backend, "context", request.Backend.Context);
            body["backend"] = backend;
        }

        if (request.DelayedStartTime is { } startAt)
        {
            // RFC 3339 with the caller's offset; at most microseconds, the finest the queue's PHP dates keep.
            body["delayedStartTime"] = startAt.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFzzz", CultureInfo.InvariantCulture);
        }

        if (request.DelaySeconds is { } delay)
        {
            body["delay"] = delay;
        }

        if (request.Parallelism is not null)
        {
            body["parallelism"] = Parallelism(request, platform);
        }

        return body;
    }

    /// <summary>Whether <paramref name="value"/> can be sent as a header value as it is: visible ASCII and inner spaces only.</summary>
    public static bool IsHeaderSafe(string value)
        => value.Length > 0 && value[0] != ' ' && value[^1] != ' ' && value.All(c => c is >= ' ' and <= '~');

    private static JsonValue Parallelism(KeboolaJobRequest request, string platform)
    {
        var text = request.Parallelism!.Trim();
        if (string.Equals(text, Infinity, StringComparison.OrdinalIgnoreCase))
        {
            return JsonValue.Create(Infinity);
        }

        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var rows) && rows is >= MinParallelism and <= MaxParallelism)
        {
            return JsonValue.Create(rows);
        }

        throw Invalid(platform, request, $"parallelism must be a whole number from {MinParallelism} to {MaxParallelism} or \"{Infinity}\", not \"{request.Parallelism}\".");
    }

    private static void AddIfSet(JsonObject target, string name, string? value)
    {
        if (value is not null)
        {
            target[name] = value;
        }
    }

    private static RelayException Invalid(string platform, KeboolaJobRequest request, string problem)
        => new(RelayErrorKind.InvalidInput, $"The Keboola job for trigger '{request.Trigger}' on platform '{platform}' cannot be started: {problem}")
        {
            Platform = platform,
        };
}
