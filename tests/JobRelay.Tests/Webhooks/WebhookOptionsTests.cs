using JobRelay.Model;
using JobRelay.Webhooks;
using JobRelay.Webhooks.Schemes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace JobRelay.Tests.Webhooks;

public sealed class WebhookOptionsTests
{
    private static ServiceProvider Services(params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value)))
            .Build();
        return new ServiceCollection().AddLogging().AddJobRelayWebhooks(configuration).AddJobRelayWebhookVerifiers().BuildServiceProvider();
    }

    [Fact]
    public void TheDefaultsAreOneMebibyteFiveMinutesOneDayAndAHundredThousandDeliveries()
    {
        using var services = Services();

        var options = services.GetRequiredService<IOptions<WebhookOptions>>().Value;

        Assert.Equal(1024 * 1024, options.MaxBodyBytes);
        Assert.Equal(TimeSpan.FromMinutes(5), options.DefaultTolerance);
        Assert.Null(options.PublicBaseUrl);
    }

    [Fact]
    public void EveryInvalidSettingIsReportedByItsConfigurationKey()
    {
        using var services = Services(
            ("JobRelay:Webhooks:MaxBodyBytes", "0"),
            ("JobRelay:Webhooks:DefaultTolerance", "00:00:00"),
            ("JobRelay:Webhooks:PublicBaseUrl", "https://relay.example.net/?x=1"));

        var failure = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<WebhookOptions>>().Value);

        Assert.Equal(3, failure.Failures.Count());
        Assert.Contains(failure.Failures, f => f.Contains("JobRelay:Webhooks:PublicBaseUrl", StringComparison.Ordinal));
    }

    [Fact]
    public void TheRegisteredServicesVerify()
    {
        using var services = Services(("JobRelay:Webhooks:DefaultTolerance", "00:01:00"));

        var verifier = services.GetRequiredService<IWebhookVerifierFactory>().Get(WebhookScheme.GitHub);

        Assert.Equal(WebhookScheme.GitHub, verifier.Scheme);
    }

    [Fact]
    public void EverySchemeHasAVerifier()
    {
        using var services = Services();
        var factory = services.GetRequiredService<IWebhookVerifierFactory>();

        Assert.All(Enum.GetValues<WebhookScheme>(), scheme => Assert.Equal(scheme, factory.Get(scheme).Scheme));
    }
}
