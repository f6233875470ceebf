using System.Net;
using JobRelay.Platforms;
using JobRelay.Web;
using JobRelay.Webhooks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.HttpOverrides;
using KestrelServerOptions = Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions;
using MinDataRate = Microsoft.AspNetCore.Server.Kestrel.Core.MinDataRate;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobRelay.Http;

/// <summary>
/// The web server around the HTTP surface when JobRelay runs its own (<c>jobrelay serve</c>, and the tests that
/// stand in for it): Kestrel's limits, the drain on stop, trusted proxies, and one error shape for every answer.
/// </summary>
public static class RelayWebHost
{
    /// <summary>Registers <see cref="ServeOptions"/> (validated at start) and applies them to Kestrel and the host.</summary>
    public static IServiceCollection AddJobRelayWebHost(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<ServeOptions>().Bind(configuration.GetSection(ServeOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ServeOptions>, ServeOptionsValidator>());
        services.AddOptions<KestrelServerOptions>().Configure<IOptions<ServeOptions>, IOptions<WebhookOptions>>((kestrel, serve, webhooks) =>
        {
            var limits = serve.Value.Limits;
            kestrel.AddServerHeader = false;
            kestrel.Limits.RequestHeadersTimeout = limits.RequestHeadersTimeout;
            kestrel.Limits.MinRequestBodyDataRate = new MinDataRate(limits.MinRequestBodyBytesPerSecond, limits.MinRequestBodyGracePeriod);
            kestrel.Limits.MaxConcurrentConnections = limits.MaxConcurrentConnections;
            kestrel.Limits.MaxRequestHeadersTotalSize = limits.MaxRequestHeadersTotalSize;
            kestrel.Limits.MaxRequestHeaderCount = limits.MaxRequestHeaderCount;
            kestrel.Limits.MaxRequestLineSize = limits.MaxRequestLineSize;
            kestrel.Limits.MaxRequestBodySize = limits.MaxRequestBodySize ?? webhooks.Value.MaxBodyBytes + 1L;
            kestrel.Limits.KeepAliveTimeout = limits.KeepAliveTimeout;
        });
        services.AddOptions<HostOptions>().Configure<IOptions<ServeOptions>, IOptions<PlatformHttpOptions>>((host, serve, platforms) =>
            host.ShutdownTimeout = serve.Value.ShutdownTimeout ?? platforms.Value.TotalTimeout + ServeOptions.ShutdownMargin);
        services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<ServeOptions>>((forwarded, serve) =>
        {
            var settings = serve.Value.ForwardedHeaders;
            forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost;
            forwarded.ForwardLimit = settings.ForwardLimit;
            forwarded.KnownProxies.Clear();
            forwarded.KnownIPNetworks.Clear();
            foreach (var proxy in settings.KnownProxies)
            {
                forwarded.KnownProxies.Add(IPAddress.Parse(proxy));
            }

            foreach (var network in settings.KnownNetworks)
            {
                forwarded.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
            }
        });
        return services;
    }

    /// <summary>
    /// Adds, in front of the routes: forwarded headers when proxies are configured, then the middleware that answers
    /// every error nobody else shaped (unknown route, wrong method, a framing failure, an unexpected exception) as a
    /// <c>urn:jobrelay:problem:*</c> problem.
    /// </summary>
    public static IApplicationBuilder UseJobRelayWebHost(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (app.ApplicationServices.GetRequiredService<IOptions<ServeOptions>>().Value.ForwardedHeaders.Enabled)
        {
            app.UseForwardedHeaders();
        }

        return app.UseMiddleware<ProblemResponses>();
    }
}

/// <summary>
/// Gives every error answer the problem shape, whoever produced it: routing's bare 404 and 405, Kestrel's refusal
/// of a body's framing or pace seen as an exception, and any failure no handler caught. A client's malformed request
/// is its own fault: logged at Debug, never as an error.
/// </summary>
internal sealed class ProblemResponses(RequestDelegate next, ILogger<ProblemResponses> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (BadHttpRequestException ex) when (!context.Response.HasStarted)
        {
            var path = context.Request.Path.Value ?? "/";
            WebHostLog.RequestRefused(logger, ex.StatusCode, path);
            context.Response.Clear();
            await WriteAsync(context, ex.StatusCode);
            return;
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            return;
        }
        catch (Exception ex) when (!context.Response.HasStarted && ex is not BadHttpRequestException)
        {
            var path = context.Request.Path.Value ?? "/";
            WebHostLog.UnexpectedFailure(logger, path, ex.GetType().Name);
            context.Response.Clear();
            await WriteAsync(context, StatusCodes.Status500InternalServerError);
            return;
        }

        var response = context.Response;
        if (response.StatusCode >= 400 && !response.HasStarted && response.ContentLength is null or 0 && string.IsNullOrEmpty(response.ContentType))
        {
            response.ContentLength = null;
            await WriteAsync(context, response.StatusCode);
        }
    }

    private static Task WriteAsync(HttpContext context, int status)
        => Problems.ForStatus(status, context.Request.Path).ExecuteAsync(context);
}

internal static partial class WebHostLog
{
    [LoggerMessage(EventId = 1650, Level = LogLevel.Debug, Message = "Refused a malformed request to {Path} with {Status}")]
    public static partial void RequestRefused(ILogger logger, int status, string path);

    [LoggerMessage(EventId = 1651, Level = LogLevel.Error, Message = "Unexpected {ExceptionType} while handling {Path}")]
    public static partial void UnexpectedFailure(ILogger logger, string path, string exceptionType);
}
