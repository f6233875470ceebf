using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace JobRelay.Hosting;

/// <summary>
/// Logs each warning of the catalog as the host starts (a chain whose jobs' ends cannot reach JobRelay, and what to
/// set), so that an operator reads it in the start log rather than learning it from a job that never started.
/// </summary>
internal sealed partial class CatalogWarningLog(CatalogSource catalog, ILogger<CatalogWarningLog> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var warning in catalog.LoadResult.Warnings)
        {
            Warn(logger, warning.Path, warning.Message);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 1160, Level = LogLevel.Warning, Message = "Catalog warning at {Path}: {Warning}")]
    private static partial void Warn(ILogger logger, string path, string warning);
}

/// <summary>Registration of the start-up catalog warnings, for hosts that serve requests.</summary>
public static class CatalogWarningLogRegistration
{
    public static IServiceCollection AddJobRelayCatalogWarningLog(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, CatalogWarningLog>());
        return services;
    }
}
