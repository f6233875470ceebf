using Microsoft.Extensions.Logging;

namespace JobRelay.Sandbox;

/// <summary>The credentials the sandbox platforms accept.</summary>
public static class SandboxCredentials
{
    public const string KeboolaToken = "sandbox-keboola-token";
    public const string TheEyeAccessToken = "sandbox-theeye-token";
    public const string TheEyeTaskSecretKey = "sandbox-task-key";
    public const string TheEyeCustomer = "sandbox";

    /// <summary>
    /// The Standard Webhooks signing secret the sandbox's receiver verifies with: that scheme takes a base64 key after
    /// <c>whsec_</c>; the key is the bytes of <c>sandbox-webhook-secret</c>.
    /// </summary>
    public static readonly string SigningSecret = "whsec_" + Convert.ToBase64String("sandbox-webhook-secret"u8);
}

/// <summary>How the sandbox runs.</summary>
public sealed class SandboxOptions
{
    /// <summary>The loopback port; 0 picks a free one.</summary>
    public int Port { get; set; }

    /// <summary>How long a sandbox job runs before it ends.</summary>
    public TimeSpan JobDuration { get; set; } = TimeSpan.FromSeconds(6);

    /// <summary>
    /// How many jobs the sandbox remembers, each with its request body; older ones are forgotten (their status reads
    /// answer 404, and a Keboola job forgotten before it ended sends no notification).
    /// </summary>
    public int MaxJobs { get; set; } = 1_000;

    public ILoggerFactory? LoggerFactory { get; set; }

    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// TheEye tasks by id with the number of arguments each takes: a shorter <c>task_arguments</c> array is refused
    /// as TheEye refuses it. Tasks not listed take any number.
    /// </summary>
    public Dictionary<string, int> TheEyeTaskArguments { get; } = new(StringComparer.Ordinal)
    {
        ["sandbox-hello"] = 1,
        ["sandbox-notify"] = 2,
    };
}

/// <summary>
/// A fault the sandbox plays on its next <see cref="Count"/> requests to a platform: a delay, an error status (with
/// <c>Retry-After</c> for 429 and 503), or a connection dropped without an answer.
/// </summary>
public sealed record SandboxFault(string Platform)
{
    public int Count { get; init; } = 1;

    public TimeSpan Latency { get; init; }

    public int? Status { get; init; }

    public int? RetryAfterSeconds { get; init; }

    /// <summary>Close the connection without answering (after reading the request).</summary>
    public bool Drop { get; init; }
}

/// <summary>A job the sandbox created.</summary>
public sealed record SandboxJob(string Platform, string Id, string Name, string State, DateTimeOffset CreatedAt, string RequestBody);

/// <summary>
/// A delivery the sandbox's receiver got: its kind (<c>webhook</c>, <c>slack</c>, <c>teams</c>), whether it was
/// accepted (a verified signature, a well-shaped message) or why not, the <c>webhook-id</c> and the body.
/// </summary>
public sealed record SandboxDelivery(string Kind, DateTimeOffset ReceivedAt, bool Accepted, string? Problem, string? WebhookId, string Body);
