using System.Text.Json;
using System.Text.Json.Nodes;

namespace JobRelay.Tests.Support;

/// <summary>
/// A test's trigger catalog: platform <c>kbc</c> (Keboola) and <c>eye</c> (TheEye) with the secret names
/// <see cref="Http.RelayHost"/> holds values for, on placeholder URLs the host replaces with the test's own
/// platforms, and the triggers the test names.
/// </summary>
internal sealed class CatalogBuilder
{
    private const string Placeholder = "http://127.0.0.1:1/";
    private readonly JsonObject _platforms = [];
    private readonly JsonObject _triggers = [];

    /// <summary>Keboola as platform <c>kbc</c>, its token in secret <c>kbc-token</c>; with a job-end event secret when given.</summary>
    public CatalogBuilder Keboola(string? eventSecret = null)
    {
        var platform = new JsonObject { ["type"] = "keboola", ["url"] = Placeholder, ["tokenSecret"] = "kbc-token" };
        if (eventSecret is not null)
        {
            platform["eventSecret"] = eventSecret;
        }

        _platforms["kbc"] = platform;
        return this;
    }

    /// <summary>TheEye as platform <c>eye</c>, customer <c>acme</c>, its access token in secret <c>eye-token</c>.</summary>
    public CatalogBuilder TheEye()
    {
        _platforms["eye"] = new JsonObject { ["type"] = "theeye", ["url"] = Placeholder, ["customer"] = "acme", ["accessTokenSecret"] = "eye-token" };
        return this;
    }

    /// <summary>A platform written out in full, as the catalog's JSON.</summary>
    public CatalogBuilder Platform(string name, string json)
    {
        _platforms[name] = JsonNode.Parse(json);
        return this;
    }

    /// <summary>A trigger written out in full, as the catalog's JSON.</summary>
    public CatalogBuilder Trigger(string name, string json)
    {
        _triggers[name] = JsonNode.Parse(json);
        return this;
    }

    /// <summary>A trigger that runs Keboola's <c>keboola.ex-db</c> with <paramref name="config"/>.</summary>
    public CatalogBuilder KeboolaJob(string name, string config)
        => Trigger(name, $$"""{ "platform": "kbc", "keboola": { "component": "keboola.ex-db", "config": "{{config}}" } }""");

    /// <summary>A trigger that runs TheEye task <paramref name="task"/>.</summary>
    public CatalogBuilder TheEyeTask(string name, string task)
        => Trigger(name, $$"""{ "platform": "eye", "theeye": { "task": "{{task}}" } }""");

    /// <summary>
    /// A token webhook whose <c>X-Delivery</c> header is both its delivery id and the Keboola job's
    /// <c>delivery</c> variable, so that each job names the delivery that started it.
    /// </summary>
    public CatalogBuilder DeliveryHook(string name = "hook") => KeboolaTokenHook(name, "delivery", "header:X-Delivery", "1");

    /// <summary>A token webhook that hands the body's <c>sha</c> to Keboola config 42.</summary>
    public CatalogBuilder CommitHook(string name = "ingest") => KeboolaTokenHook(name, "sha", "body:$.sha", "42");

    /// <summary>The catalog as <c>triggers.json</c> holds it.</summary>
    public string Build() => new JsonObject { ["platforms"] = _platforms.DeepClone(), ["triggers"] = _triggers.DeepClone() }
        .ToJsonString(new JsonSerializerOptions { WriteIndented = true });

    /// <summary>
    /// A webhook to Keboola config <paramref name="config"/> authenticated by the token in secret <c>hook-token</c>,
    /// its delivery id from <c>X-Delivery</c>, with one required argument passed on as the job's variable of that name.
    /// </summary>
    private CatalogBuilder KeboolaTokenHook(string name, string argument, string from, string config)
        => Trigger(name, $$$"""
            {
              "platform": "kbc",
              "arguments": { "{{{argument}}}": { "from": "{{{from}}}", "required": true } },
              "keboola": { "component": "keboola.ex-db", "config": "{{{config}}}", "variables": { "{{{argument}}}": "{{{{{argument}}}}}" } },
              "webhook": { "scheme": "token", "secrets": ["hook-token"], "deliveryId": "header:X-Delivery" }
            }
            """);
}
