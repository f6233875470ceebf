using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace JobRelay.Scheduling;

public static class SchedulingServiceCollectionExtensions
{
    /// <summary>
    /// Registers the dispatcher and the ticker, with <see cref="ScheduleDispatcherOptions"/> bound from
    /// <c>JobRelay:Scheduling</c> and validated when the host starts. The ticker needs an <see cref="IScheduleTarget"/>,
    /// registered elsewhere. The local loop is not added: hosts that want it call
    /// <see cref="AddJobRelaySchedulerLoop"/>.
    /// </summary>
    public static IServiceCollection AddJobRelayScheduling(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<ScheduleDispatcherOptions>()
            .Bind(configuration.GetSection(ScheduleDispatcherOptions.SectionName))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ScheduleDispatcherOptions>, ScheduleDispatcherOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ScheduleDispatcher>();
        services.TryAddSingleton<ScheduleTicker>();
        return services;
    }

    /// <summary>Adds the local host's scheduler loop (<see cref="SchedulerBackgroundService"/>).</summary>
    public static IServiceCollection AddJobRelaySchedulerLoop(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddHostedService<SchedulerBackgroundService>();
        return services;
    }
}
