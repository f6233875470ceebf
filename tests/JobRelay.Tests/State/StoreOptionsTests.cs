using JobRelay.State;
using JobRelay.State.AzureTables;
using JobRelay.State.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobRelay.Tests.State;

public sealed class StoreOptionsTests
{
    [Fact]
    public void TheDefaultStoreIsASqliteFileInTheDotJobrelayFolder()
    {
        using var services = Services();

        var options = services.GetRequiredService<IOptions<StoreOptions>>().Value;
        using var store = Assert.IsType<SqliteRelayStore>(services.GetRequiredService<IRelayStore>());

        Assert.Equal(StoreKind.Sqlite, options.Kind);
        Assert.Equal(Path.GetFullPath(Path.Combine(".jobrelay", "jobrelay.db")), store.Path);
        Assert.Equal(TimeSpan.FromDays(7), options.Retention);
    }

    [Fact]
    public void ConfigurationChoosesAzureTables()
    {
        using var services = Services(
            ("JobRelay:Store:Kind", "tables"),
            ("JobRelay:Store:TableServiceUri", "https://account.table.core.windows.net"),
            ("JobRelay:Store:ManagedIdentityClientId", "00000000-0000-0000-0000-000000000001"));

        Assert.IsType<TableRelayStore>(services.GetRequiredService<IRelayStore>());
    }

    [Fact]
    public void EveryBadSettingIsListedByItsKey()
    {
        using var services = Services(
            ("JobRelay:Store:Kind", "tables"),
            ("JobRelay:Store:TableName", "no-dashes"),
            ("JobRelay:Store:ClaimLease", "00:00:00"),
            ("JobRelay:Store:Retention", "01:00:00"));

        var failure = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<StoreOptions>>().Value);

        Assert.Contains(failure.Failures, f => f.Contains("JobRelay:Store:TableServiceUri", StringComparison.Ordinal));
        Assert.Contains(failure.Failures, f => f.Contains("JobRelay:Store:TableName", StringComparison.Ordinal));
        Assert.Contains(failure.Failures, f => f.Contains("JobRelay:Store:ClaimLease", StringComparison.Ordinal));
        Assert.Contains(failure.Failures, f => f.Contains("JobRelay:Store:Retention must be at least PendingDeadline", StringComparison.Ordinal));
        Assert.Equal(4, failure.Failures.Count());
    }

    [Fact]
    public void AHostThatNeedsSharedStateRefusesASqliteFile()
    {
        var configuration = new ConfigurationBuilder().Build();
        using var services = new ServiceCollection()
            .AddLogging()
            .AddJobRelay(configuration)
            .Configure<StoreOptions>(o => o.RequireShared = true)
            .BuildServiceProvider();

        var failure = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<StoreOptions>>().Value);

        Assert.Contains("Kind must be tables here", Assert.Single(failure.Failures), StringComparison.Ordinal);
    }

    private static ServiceProvider Services(params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings.ToDictionary(s => s.Key, s => (string?)s.Value)).Build();
        return new ServiceCollection().AddLogging(b => b.SetMinimumLevel(LogLevel.None)).AddJobRelay(configuration).BuildServiceProvider();
    }
}
