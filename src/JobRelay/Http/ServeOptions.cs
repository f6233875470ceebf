using System.Net;
using Microsoft.Extensions.Options;

namespace JobRelay.Http;

/// <summary>
/// How <c>jobrelay serve</c> runs its web server (section <c>JobRelay:Serve</c>): the limits Kestrel enforces before
/// and while a request reaches JobRelay, the proxies whose forwarded headers are believed, and how long a stop waits
/// for requests in flight. The Functions app does not use these: Azure's front end and the Functions host own them.
/// </summary>
internal sealed class ServeOptions
{
    public const string SectionName = "JobRelay:Serve";

    /// <summary>
    /// How long a stop (SIGTERM, Ctrl+C) lets requests in flight finish. Unset: the platforms' total timeout
    /// (<c>JobRelay:Platforms:Http:TotalTimeout</c>) plus <see cref="ShutdownMargin"/>, so a job start the platform
    /// is holding is still answered.
    /// </summary>
    public TimeSpan? ShutdownTimeout { get; set; }

    public ServeLimits Limits { get; set; } = new();

    public ForwardedHeadersSettings ForwardedHeaders { get; set; } = new();

    /// <summary>What a drain waits beyond the platforms' total timeout, for the answer to be written.</summary>
    public static readonly TimeSpan ShutdownMargin = TimeSpan.FromSeconds(5);
}

/// <summary>Kestrel's limits, chosen for a webhook receiver rather than left at the server's general-purpose defaults.</summary>
internal sealed class ServeLimits
{
    /// <summary>How long a client may take to send the request line and headers (Kestrel default: 30 s).</summary>
    public TimeSpan RequestHeadersTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The slowest a request body may arrive, after <see cref="MinRequestBodyGracePeriod"/>; slower is a 408.</summary>
    public double MinRequestBodyBytesPerSecond { get; set; } = 240;

    /// <summary>How long a body may be slower than <see cref="MinRequestBodyBytesPerSecond"/> before it is refused.</summary>
    public TimeSpan MinRequestBodyGracePeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Open connections at once; more wait in the listen backlog (Kestrel default: no limit).</summary>
    public long MaxConcurrentConnections { get; set; } = 1000;

    /// <summary>The request line and headers together (Kestrel default: 32 KiB); more is a 431.</summary>
    public int MaxRequestHeadersTotalSize { get; set; } = 32 * 1024;

    /// <summary>The number of request headers (Kestrel default: 100); more is a 431.</summary>
    public int MaxRequestHeaderCount { get; set; } = 100;

    /// <summary>The request line (Kestrel default: 8 KiB); longer is a 414.</summary>
    public int MaxRequestLineSize { get; set; } = 8 * 1024;

    /// <summary>
    /// The largest body Kestrel lets through; unset: <c>JobRelay:Webhooks:MaxBodyBytes</c>, which every route also
    /// enforces while it reads.
    /// </summary>
    public long? MaxRequestBodySize { get; set; }

    /// <summary>How long an idle keep-alive connection is kept (Kestrel default: 130 s).</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(60);
}

/// <summary>
/// The proxies trusted to say, in <c>X-Forwarded-For</c>, <c>X-Forwarded-Proto</c> and <c>X-Forwarded-Host</c>,
/// what the client sent. Empty (the default): the headers are ignored, whoever sends them.
/// </summary>
internal sealed class ForwardedHeadersSettings
{
    /// <summary>Addresses of the proxies, such as <c>10.0.0.4</c>.</summary>
    public IList<string> KnownProxies { get; } = [];

    /// <summary>Networks of the proxies in CIDR form, such as <c>10.0.0.0/24</c>.</summary>
    public IList<string> KnownNetworks { get; } = [];

    /// <summary>How many proxies in a row are believed (entries read from the right of each header).</summary>
    public int ForwardLimit { get; set; } = 1;

    public bool Enabled => KnownProxies.Count > 0 || KnownNetworks.Count > 0;
}

/// <summary>Checks <see cref="ServeOptions"/> at start, naming each bad value by its configuration key.</summary>
internal sealed class ServeOptionsValidator : IValidateOptions<ServeOptions>
{
    public ValidateOptionsResult Validate(string? name, ServeOptions options)
    {
        var failures = new List<string>();
        var limits = options.Limits;
        var prefix = ServeOptions.SectionName;
        if (options.ShutdownTimeout is { } shutdown && (shutdown < TimeSpan.FromSeconds(1) || shutdown > TimeSpan.FromHours(1)))
        {
            failures.Add($"{prefix}:ShutdownTimeout must be between 00:00:01 and 01:00:00.");
        }

        if (limits.RequestHeadersTimeout < TimeSpan.FromSeconds(1) || limits.RequestHeadersTimeout > TimeSpan.FromMinutes(5))
        {
            failures.Add($"{prefix}:Limits:RequestHeadersTimeout must be between 00:00:01 and 00:05:00.");
        }

        if (limits.MinRequestBodyBytesPerSecond is <= 0 or > 1_000_000)
        {
            failures.Add($"{prefix}:Limits:MinRequestBodyBytesPerSecond must be above 0 and at most 1000000.");
        }

        if (limits.MinRequestBodyGracePeriod <= TimeSpan.FromSeconds(1) || limits.MinRequestBodyGracePeriod > TimeSpan.FromMinutes(5))
        {
            failures.Add($"{prefix}:Limits:MinRequestBodyGracePeriod must be over 00:00:01 (Kestrel's heartbeat) and at most 00:05:00.");
        }

        if (limits.MaxConcurrentConnections < 1)
        {
            failures.Add($"{prefix}:Limits:MaxConcurrentConnections must be at least 1.");
        }

        if (limits.MaxRequestHeadersTotalSize is < 4096 or > 1024 * 1024)
        {
            failures.Add($"{prefix}:Limits:MaxRequestHeadersTotalSize must be between 4096 and 1048576 bytes.");
        }

        if (limits.MaxRequestHeaderCount is < 10 or > 1000)
        {
            failures.Add($"{prefix}:Limits:MaxRequestHeaderCount must be between 10 and 1000.");
        }

        if (limits.MaxRequestLineSize is < 1024 or > 64 * 1024)
        {
            failures.Add($"{prefix}:Limits:MaxRequestLineSize must be between 1024 and 65536 bytes.");
        }

        if (limits.MaxRequestBodySize is < 1024)
        {
            failures.Add($"{prefix}:Limits:MaxRequestBodySize must be at least 1024 bytes.");
        }

        if (limits.KeepAliveTimeout < TimeSpan.FromSeconds(1) || limits.KeepAliveTimeout > TimeSpan.FromMinutes(10))
        {
            failures.Add($"{prefix}:Limits:KeepAliveTimeout must be between 00:00:01 and 00:10:00.");
        }

        var forwarded = options.ForwardedHeaders;
        for (var i = 0; i < forwarded.KnownProxies.Count; i++)
        {
            if (!IPAddress.TryParse(forwarded.KnownProxies[i], out _))
            {
                failures.Add($"{prefix}:ForwardedHeaders:KnownProxies:{i} is not an IP address.");
            }
        }

        for (var i = 0; i < forwarded.KnownNetworks.Count; i++)
        {
            if (!IPNetwork.TryParse(forwarded.KnownNetworks[i], out _))
            {
                failures.Add($"{prefix}:ForwardedHeaders:KnownNetworks:{i} is not a network in CIDR form (10.0.0.0/24).");
            }
        }

        if (forwarded.ForwardLimit is < 1 or > 10)
        {
            failures.Add($"{prefix}:ForwardedHeaders:ForwardLimit must be between 1 and 10.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
