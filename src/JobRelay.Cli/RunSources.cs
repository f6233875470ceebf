using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using JobRelay.History;
using JobRelay.Http;
using JobRelay.Model;
using JobRelay.Platforms;
using JobRelay.State;
using Microsoft.Extensions.DependencyInjection;

namespace JobRelay.Cli;

/// <summary>Where <c>jobrelay runs</c> reads runs from: the local data folder, or a deployed app's HTTP API.</summary>
internal interface IRunSource : IAsyncDisposable
{
    Task<RunList> ListAsync(RunQuery query, CancellationToken cancellationToken);

    /// <summary>The run with its lineage, or null when no run has that id.</summary>
    Task<RunDetail?> GetAsync(string runId, CancellationToken cancellationToken);

    /// <summary>
    /// Applies a control to the run's job and returns the run with the job's status read after. A control the
    /// platform does not offer or refuses, and an unknown run, are exceptions whose message says why.
    /// </summary>
    Task<RunView> ControlAsync(string runId, JobControl control, CancellationToken cancellationToken);

    /// <summary>The outbound deliveries that failed or were dead-lettered, newest first.</summary>
    Task<IReadOnlyList<RunEventDelivery>> FailedEventsAsync(int limit, CancellationToken cancellationToken);
}

/// <summary>
/// The runs in the local state (<c>--data</c>, <c>--store</c>), read through the same history service as the HTTP
/// routes. Job status is the one last read: a local listing does not call the platforms.
/// </summary>
internal sealed class LocalRunSource : IRunSource
{
    private readonly CliEngine _engine;
    private readonly RunHistory _history;

    private LocalRunSource(CliEngine engine)
    {
        _engine = engine;
        _history = engine.Services.GetRequiredService<RunHistory>();
    }

    /// <summary>
    /// Opens the local runs read-only, or says there are none yet on <paramref name="output"/> and returns null when
    /// there is no store file where they would be: reading never creates a store. With <paramref name="sandbox"/>, or by default when the sandbox's are the only
    /// runs in the working folder, the sandbox's data folder is read, with the folder's catalog or the built-in one.
    /// </summary>
    /// <param name="writable">Whether the command acts on runs (a control of a job): then the store is opened for writing, to record it.</param>
    public static async Task<IRunSource?> StartAsync(ParseResult parse, bool sandbox, TextWriter output, TextWriter notices, CancellationToken cancellationToken, bool writable = false)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(notices);
        var configuration = CliConfiguration.Build(parse, sandbox: null);
        var sqlite = !string.Equals(configuration["JobRelay:Store:Kind"], nameof(StoreKind.Tables), StringComparison.OrdinalIgnoreCase);
        var configured = configuration["JobRelay:Store:DataFolder"];
        if (sqlite && !sandbox && configured is null && !HasStore(StoreOptions.DefaultDataFolder) && HasStore(CliConfiguration.SandboxDataFolder))
        {
            sandbox = true;
            await notices.WriteLineAsync($"Reading the sandbox's runs in {Path.GetFullPath(CliConfiguration.SandboxDataFolder)}: there are no others here (--data DIR reads another folder).");
        }

        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase) { ["JobRelay:Store:ReadOnly"] = writable ? "false" : "true" };
        var folder = configured ?? StoreOptions.DefaultDataFolder;
        if (sandbox)
        {
            folder = parse.GetValue(JobRelayCommandLine.DataOption)?.FullName ?? CliConfiguration.SandboxDataFolder;
            settings["JobRelay:Store:DataFolder"] = folder;
            settings["JobRelay:Catalog:Path"] = SandboxSession.FolderCatalog(parse) ?? SandboxSession.BuiltInCatalogPath;
        }

        if (sqlite && !HasStore(folder))
        {
            await output.WriteLineAsync(NoRunsYet(folder));
            return null;
        }

        return new LocalRunSource(await CliEngine.StartStoredAsync(parse, settings, cancellationToken));
    }

    /// <summary>What <c>runs</c> says when there is no store where it looked.</summary>
    internal static string NoRunsYet(string folder)
        => $"No runs yet: there is no JobRelay data in {Path.GetFullPath(folder)}. 'jobrelay serve' and 'jobrelay fire' record runs there; --sandbox reads the sandbox's, --data DIR another folder.";

    private static bool HasStore(string folder) => File.Exists(Path.Combine(folder, StoreOptions.SqliteFileName));

    public Task<RunList> ListAsync(RunQuery query, CancellationToken cancellationToken)
        => _history.ListAsync(query, cancellationToken);

    public Task<IReadOnlyList<RunEventDelivery>> FailedEventsAsync(int limit, CancellationToken cancellationToken)
        => _history.FailedEventsAsync(limit, cancellationToken);

    public Task<RunDetail?> GetAsync(string runId, CancellationToken cancellationToken)
        => _history.GetAsync(runId, readJobStatus: false, cancellationToken);

    /// <summary>The control through the engine's run actions, as the API applies it; recorded as <c>cli:USER</c>.</summary>
    public async Task<RunView> ControlAsync(string runId, JobControl control, CancellationToken cancellationToken)
    {
        var actions = _engine.Services.GetRequiredService<RunActions>();
        var result = await actions.ControlAsync(runId, control, Operator, cancellationToken);
        return result.Outcome switch
        {
            JobControlOutcome.Applied => result.Run,
            JobControlOutcome.NotSupported notSupported => throw new RelayException(RelayErrorKind.NotSupported, notSupported.Reason),
            JobControlOutcome.Refused refused => throw new RelayException(RelayErrorKind.PlatformRejected, refused.Reason) { PlatformStatusCode = refused.PlatformStatusCode },
            _ => throw new InvalidOperationException($"Unknown control outcome {result.Outcome.GetType().Name}."),
        };
    }

    /// <summary>Who a control from the command line is recorded as: there is no API key, so the user who ran it.</summary>
    internal static string Operator => "cli:" + Environment.UserName;

    public ValueTask DisposeAsync() => _engine.DisposeAsync();
}

/// <summary>A deployed app's runs over <c>GET /api/runs</c> and <c>GET /api/runs/{runId}</c>, with the API key.</summary>
internal sealed class ApiRunSource : IRunSource
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly HttpClient _client;

    private ApiRunSource(HttpClient client)
    {
        _client = client;
    }

    public static ApiRunSource Create(Uri url, string apiKey)
    {
        ArgumentNullException.ThrowIfNull(url);
        var root = url.AbsoluteUri.EndsWith('/') ? url : new Uri(url.AbsoluteUri + "/");
        var client = new HttpClient { BaseAddress = root, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Add(RelayEndpoints.ApiKeyHeader, apiKey);
        return new ApiRunSource(client);
    }

    public async Task<RunList> ListAsync(RunQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var parameters = new List<string> { "limit=" + query.Limit.ToString(CultureInfo.InvariantCulture) };
        Add(parameters, "trigger", query.Trigger);
        Add(parameters, "state", query.State);
        Add(parameters, "origin", query.Origin);
        Add(parameters, "cursor", query.Cursor);
        using var response = await _client.GetAsync(new Uri("api/runs?" + string.Join('&', parameters), UriKind.Relative), cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
        return await response.Content.ReadFromJsonAsync<RunList>(Json, cancellationToken)
            ?? throw new RunsApiException("The app answered the runs listing with an empty body.", callerError: false);
    }

    public async Task<RunDetail?> GetAsync(string runId, CancellationToken cancellationToken)
    {
        using var response = await _client.GetAsync(new Uri("api/runs/" + Uri.EscapeDataString(runId), UriKind.Relative), cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        await EnsureSuccessAsync(response, cancellationToken);
        return await response.Content.ReadFromJsonAsync<RunDetail>(Json, cancellationToken)
            ?? throw new RunsApiException("The app answered the run with an empty body.", callerError: false);
    }

    /// <summary><c>GET /api/deliveries/failed</c>: the deliveries that failed or were dead-lettered, newest first.</summary>
    public async Task<IReadOnlyList<RunEventDelivery>> FailedEventsAsync(int limit, CancellationToken cancellationToken)
    {
        using var response = await _client.GetAsync(new Uri("api/deliveries/failed?limit=" + limit.ToString(CultureInfo.InvariantCulture), UriKind.Relative), cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
        return (await response.Content.ReadFromJsonAsync<FailedDeliveryList>(Json, cancellationToken))?.Deliveries
            ?? throw new RunsApiException("The app answered the deliveries listing with an empty body.", callerError: false);
    }

    /// <summary><c>POST /api/runs/{runId}/{control}</c>: the app applies the control and records it under the API key's name.</summary>
    public async Task<RunView> ControlAsync(string runId, JobControl control, CancellationToken cancellationToken)
    {
        using var content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json");
        using var response = await _client.PostAsync(new Uri($"api/runs/{Uri.EscapeDataString(runId)}/{JobControlNames.Of(control)}", UriKind.Relative), content, cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
        var answer = await response.Content.ReadFromJsonAsync<JsonObject>(Json, cancellationToken);
        return answer?["run"].Deserialize<RunView>(Json)
            ?? throw new RunsApiException($"The app answered the {JobControlNames.Of(control)} without the run.", callerError: false);
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }

    private static void Add(List<string> parameters, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            parameters.Add(name + "=" + Uri.EscapeDataString(value));
        }
    }

    /// <summary>A refusal becomes the problem's own words; the request URL, which may name the app, is not repeated.</summary>
    private static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        string? detail = null;
        var platformRefused = false;
        try
        {
            var problem = await response.Content.ReadFromJsonAsync<JsonObject>(cancellationToken);
            detail = (string?)problem?["detail"] ?? (string?)problem?["title"];
            platformRefused = problem?["platformStatus"] is not null;
        }
        catch (JsonException)
        {
            detail = null;
        }

        // A 403 that carries the platform's status is the platform refusing a control of its job, not the app the key.
        var status = (int)response.StatusCode;
        var text = status is 401 || (status == 403 && !platformRefused) ? "The app refused the API key" : detail ?? "The app did not answer as expected";
        throw new RunsApiException(string.Create(CultureInfo.InvariantCulture, $"{text.TrimEnd('.')} (HTTP {status})."), callerError: status is 400 or 404);
    }
}

/// <summary>The app refused or could not answer a runs request; <see cref="CallerError"/> when the request itself was wrong.</summary>
internal sealed class RunsApiException(string message, bool callerError) : Exception(message)
{
    public bool CallerError { get; } = callerError;
}
