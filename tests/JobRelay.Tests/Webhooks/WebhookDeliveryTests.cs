using System.Text;
using JobRelay.Webhooks;

namespace JobRelay.Tests.Webhooks;

public sealed class WebhookDeliveryTests
{
    [Fact]
    public void HeadersAreFoundWhateverTheirCase()
    {
        var delivery = new WebhookDelivery("post", new Uri("https://relay.example.com/hook"), [KeyValuePair.Create("X-GitHub-Event", "push")], Array.Empty<byte>());

        Assert.Equal("push", delivery.Header("x-github-event"));
        Assert.Equal("POST", delivery.Method);
    }

    [Fact]
    public void AFormBodyIsParsedInOrderAndDecoded()
    {
        var body = Encoding.UTF8.GetBytes("To=%2B18005551212&text=hello+world&empty=");
        var delivery = new WebhookDelivery("POST", new Uri("https://relay.example.com/hook"), [], body, "application/x-www-form-urlencoded; charset=utf-8");

        Assert.Equal([KeyValuePair.Create("To", "+18005551212"), KeyValuePair.Create("text", "hello world"), KeyValuePair.Create("empty", "")], delivery.Form);
        Assert.False(delivery.IsJson);
    }

    [Fact]
    public void TheQueryIsParsedFromTheUrlAndAJsonBodyIsNotAForm()
    {
        var delivery = new WebhookDelivery("POST", new Uri("https://relay.example.com/hook?token=a%2Bb&x=1"), [KeyValuePair.Create("Content-Type", "application/cloudevents+json")], "{}"u8.ToArray());

        Assert.Equal("a+b", delivery.QueryValue("token"));
        Assert.Null(delivery.Form);
        Assert.True(delivery.IsJson);
    }

    [Fact]
    public void ARelativeUrlIsRefusedBecauseSomeSendersSignTheFullUrl() =>
        Assert.Throws<ArgumentException>(() => new WebhookDelivery("POST", new Uri("/hook", UriKind.Relative), [], Array.Empty<byte>()));
}
