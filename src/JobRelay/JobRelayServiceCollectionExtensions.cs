using JobRelay.Hosting;
using JobRelay.Http;
using JobRelay.Model;
using JobRelay.Platforms;
using JobRelay.Platforms.Keboola;
using JobRelay.Platforms.TheEye;
using JobRelay.Runs;
using JobRelay.Scheduling;
using JobRelay.Secrets;
using JobRelay.State;
using JobRelay.State.AzureTables;
using JobRelay.State.Sqlite;
using JobRelay.Webhooks;
using JobRelay.Webhooks.Schemes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobRelay;

/// <summary>The one registration every host calls: the Functions app and <c>jobrelay serve</c> get the same engine.</summary>
public static class JobRelayServiceCollectionExtensions
{
    /// <summary>The category of ASP.NET Core's per-request start and finish lines.</summary>
    public const string RequestLineCategory = "Microsoft.AspNetCore.Hosting.Diagnostics";

    public static IServiceCollection AddJobRelay(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        services.TryAddSingleton(TimeProvider.System);

        // ASP.NET Core's request lines ("Request starting POST https://…/api/events/kbc?token=…") carry the query
        // string, where Keboola job-end notifications and CloudEvents senders put their tokens. JobRelay writes its own
        // audit line for every request it handles, so those lines are held back in every host, whatever the level set.
        // Held back, the line is also never formatted: formatting it reads the Host header as an international name
        // and throws on a Host such as "xn--a" before any middleware runs.
        services.AddLogging(logging => logging.AddFilter(RequestLineCategory, level => level >= LogLevel.Warning));

        services.AddOptions<CatalogOptions>().Bind(configuration.GetSection(CatalogOptions.SectionName)).ValidateOnStart();
        services.TryAddSingleton<CatalogLoadOnce>();
        services.TryAddSingleton<CatalogSource>();
        services.AddSingleton<IValidateOptions<CatalogOptions>, CatalogOptionsValidator>();

        services.AddOptions<PlatformHttpOptions>()
            .Bind(configuration.GetSection(PlatformHttpOptions.SectionName))
            .ValidateDataAnnotations()
            .Validate(o => o.ConnectTimeout < o.AttemptTimeout, "JobRelay:Platforms:Http:ConnectTimeout must be shorter than AttemptTimeout.")
            .Validate(o => o.AttemptTimeout <= o.TotalTimeout, "JobRelay:Platforms:Http:AttemptTimeout must not exceed TotalTimeout.")
            .ValidateOnStart();
        services.AddHttpClient(JobPlatforms.HttpClientName)
            .ConfigureHttpClient(client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(provider => new SocketsHttpHandler
            {
                ConnectTimeout = provider.GetRequiredService<IOptions<PlatformHttpOptions>>().Value.ConnectTimeout,
                PooledConnectionLifetime = TimeSpan.FromMinutes(2),
                AutomaticDecompression = System.Net.DecompressionMethods.All,

                // A redirect is an answer to read (TheEye's 303 means "still running"); following one could carry a
                // platform token to another host.
                AllowAutoRedirect = false,
            })
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan)

            // The default HttpClient logging writes request addresses, and TheEye task keys travel in the path.
            .RemoveAllLoggers();
        services.TryAddSingleton(BuildPlatforms);

        services.AddJobRelaySecrets(configuration);
        services.AddJobRelayWebhooks(configuration);
        services.AddJobRelayWebhookVerifiers();
        services.AddJobRelayScheduling(configuration);
        services.AddJobRelayState(configuration);
        services.TryAddSingleton(CreateStore);

        services.TryAddSingleton(provider => new TriggerRunner(
            provider.GetRequiredService<CatalogSource>(),
            provider.GetRequiredService<JobPlatforms>(),
            provider.GetRequiredService<IRelayStore>(),
            provider.GetRequiredService<IOptions<StoreOptions>>(),
            provider.GetRequiredService<IOptions<WatchOptions>>(),
            provider.GetRequiredService<TimeProvider>(),
            provider.GetRequiredService<Microsoft.Extensions.Logging.ILogger<TriggerRunner>>(),
            provider.GetRequiredService<OutcomeCounter>()));
        services.TryAddSingleton<IJobWatch>(provider => new JobRelay.Watching.JobWatch(
            provider.GetRequiredService<IRelayStore>(),
            provider.GetRequiredService<JobPlatforms>(),
            provider.GetRequiredService<TriggerRunner>(),
            provider.GetRequiredService<JobRelay.Chaining.ChainProcessor>(),
            provider.GetRequiredService<JobRelay.History.RunActions>(),
            provider.GetRequiredService<IOptions<WatchOptions>>(),
            provider.GetRequiredService<TimeProvider>(),
            provider.GetRequiredService<Microsoft.Extensions.Logging.ILogger<JobRelay.Watching.JobWatch>>()));
        services.TryAddSingleton(provider => new RunSweep(
            provider.GetRequiredService<IRelayStore>(),
            provider.GetRequiredService<TriggerRunner>(),
            provider.GetRequiredService<IJobWatch>(),
            provider.GetRequiredService<IOptions<StoreOptions>>(),
            provider.GetRequiredService<TimeProvider>(),
            provider.GetRequiredService<Microsoft.Extensions.Logging.ILogger<RunSweep>>(),
            provider.GetRequiredService<JobRelay.Outbound.OutboundDispatcher>()));
        AddOutbound(services, configuration);
        services.AddOptions<SchedulerHeartbeatOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SchedulerHeartbeatOptions>, SchedulerHeartbeatOptionsValidator>());
        services.TryAddSingleton(provider => new SchedulerHeartbeat(
            provider.GetRequiredService<IRelayStore>(),
            provider.GetRequiredService<IOptions<SchedulerHeartbeatOptions>>(),
            provider.GetRequiredService<TimeProvider>(),
            provider.GetRequiredService<Microsoft.Extensions.Logging.ILogger<SchedulerHeartbeat>>()));
        services.AddHostedService<SchedulerHeartbeatStart>();
        services.AddOptions<HistoryOptions>().Bind(configuration.GetSection(HistoryOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<HistoryOptions>, HistoryOptionsValidator>());
        services.TryAddSingleton<OutcomeCounter>();
        services.TryAddSingleton(provider => new JobRelay.History.RunHistory(
            provider.GetRequiredService<IRelayStore>(),
            provider.GetRequiredService<JobPlatforms>(),
            provider.GetRequiredService<CatalogSource>(),
            provider.GetRequiredService<TimeProvider>(),
            provider.GetRequiredService<Microsoft.Extensions.Logging.ILogger<JobRelay.History.RunHistory>>()));
        services.TryAddSingleton(provider => new JobRelay.History.RunActions(
            provider.GetRequiredService<IRelayStore>(),
            provider.GetRequiredService<TriggerRunner>(),
            provider.GetRequiredService<JobPlatforms>(),
            provider.GetRequiredService<TimeProvider>(),
            provider.GetRequiredService<Microsoft.Extensions.Logging.ILogger<JobRelay.History.RunActions>>()));
        services.AddHostedService<OutcomeCountFlushService>();
        services.AddOptions<ApiKeyOptions>().Bind(configuration.GetSection(ApiKeyOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ApiKeyOptions>, ApiKeyOptionsValidator>());
        services.TryAddSingleton<ApiKeys>();
        services.TryAddSingleton<WebhookProcessor>();
        services.TryAddSingleton<JobRelay.Chaining.ChainProcessor>();
        services.TryAddSingleton<JobRelay.Chaining.KeboolaSubscriptions>();
        services.TryAddSingleton<RelayHttpHandlers>();
        services.TryAddSingleton<IScheduleTarget, CatalogScheduleTarget>();
        return services;
    }

    /// <summary>One adapter per catalog platform, each with its own sender.</summary>
    private static JobPlatforms BuildPlatforms(IServiceProvider provider)
    {
        var catalog = provider.GetRequiredService<CatalogSource>().Catalog;
        var httpClientFactory = provider.GetRequiredService<IHttpClientFactory>();
        var secrets = provider.GetRequiredService<ISecretStore>();
        var jobSecrets = provider.GetRequiredService<IJobSecretSource>();
        var httpOptions = provider.GetRequiredService<IOptions<PlatformHttpOptions>>().Value;
        var clock = provider.GetRequiredService<TimeProvider>();
        var loggers = provider.GetRequiredService<ILoggerFactory>();
        var adapters = new List<IJobPlatform>(catalog.Platforms.Count);
        foreach (var definition in catalog.Platforms.Values)
        {
            var sender = new PlatformSender(
                httpClientFactory.CreateClient(JobPlatforms.HttpClientName),
                definition.Name,
                httpOptions,
                clock,
                loggers.CreateLogger<PlatformSender>());
            adapters.Add(definition switch
            {
                KeboolaPlatformDefinition keboola => new KeboolaJobPlatform(
                    new KeboolaPlatformSettings(keboola.Name, keboola.QueueUrl, keboola.TokenSecret),
                    sender,
                    secrets,
                    loggers.CreateLogger<KeboolaJobPlatform>()),
                TheEyePlatformDefinition theEye => new TheEyeJobPlatform(
                    new TheEyePlatformSettings(theEye.Name, theEye.Url, theEye.Customer, theEye.AccessTokenSecret),
                    sender,
                    secrets,
                    jobSecrets,
                    loggers.CreateLogger<TheEyeJobPlatform>()),
                _ => throw new InvalidOperationException($"Platform '{definition.Name}' is of a kind this version does not know."),
            });
        }

        return new JobPlatforms(adapters);
    }

    /// <summary>The store <c>JobRelay:Store:Kind</c> names.</summary>
    /// <summary>
    /// Outbound events: the catalog's subscriptions decide which deliveries each state change writes (in the same store
    /// write), and the sweep's tick sends them through one HTTP client that follows no redirect and logs no address
    /// (a Slack or Teams webhook address is a secret).
    /// </summary>
    private static void AddOutbound(IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<JobRelay.Outbound.OutboundOptions>().Bind(configuration.GetSection(JobRelay.Outbound.OutboundOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<JobRelay.Outbound.OutboundOptions>, JobRelay.Outbound.OutboundOptionsValidator>());
        services.AddHttpClient(JobRelay.Outbound.OutboundSender.HttpClientName)
            .ConfigureHttpClient(client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
            .RemoveAllLoggers();
        services.TryAddSingleton<IOutboxPlanner>(provider =>
        {
            var catalog = provider.GetRequiredService<CatalogSource>();
            return new JobRelay.Outbound.CatalogOutboxPlanner(() => catalog.Catalog);
        });
        services.TryAddSingleton(provider => new JobRelay.Outbound.OutboundSender(
            provider.GetRequiredService<IHttpClientFactory>(),
            provider.GetRequiredService<ISecretStore>(),
            provider.GetRequiredService<TimeProvider>(),
            provider.GetRequiredService<IOptions<JobRelay.Outbound.OutboundOptions>>().Value));
        services.TryAddSingleton(provider =>
        {
            var catalog = provider.GetRequiredService<CatalogSource>();
            return new JobRelay.Outbound.OutboundDispatcher(
                provider.GetRequiredService<IRelayStore>(),
                () => catalog.Catalog,
                provider.GetRequiredService<JobRelay.Outbound.OutboundSender>(),
                provider.GetRequiredService<IOptions<JobRelay.Outbound.OutboundOptions>>(),
                provider.GetRequiredService<TimeProvider>(),
                provider.GetRequiredService<Microsoft.Extensions.Logging.ILogger<JobRelay.Outbound.OutboundDispatcher>>());
        });
    }

    private static IRelayStore CreateStore(IServiceProvider provider)
    {
        var options = provider.GetRequiredService<IOptions<StoreOptions>>().Value;
        var clock = provider.GetRequiredService<TimeProvider>();
        var loggers = provider.GetRequiredService<ILoggerFactory>();
        return options.Kind switch
        {
            StoreKind.Tables => TableRelayStore.Create(options, clock, loggers.CreateLogger<TableRelayStore>(), provider.GetRequiredService<IOutboxPlanner>()),
            _ => new SqliteRelayStore(options.SqlitePath, clock, loggers.CreateLogger<SqliteRelayStore>(), options.ReadOnly, provider.GetRequiredService<IOutboxPlanner>()),
        };
    }

    /// <summary>
    /// Adds the local host's sweep loop: pending starts, abandoned claims and retention (<see cref="RunSweep"/>). Its
    /// iterations are the host's scheduler ticks, recorded as <c>serve</c>'s every sweep interval.
    /// </summary>
    public static IServiceCollection AddJobRelaySweepLoop(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddHostedService<RunSweepService>();
        services.AddOptions<SchedulerHeartbeatOptions>().Configure<IOptions<StoreOptions>>((heartbeat, store) =>
        {
            heartbeat.Host = "serve";
            heartbeat.Interval = store.Value.SweepInterval;
        });
        return services;
    }
}
