using System.Reflection;
using Microsoft.Extensions.Logging;

namespace JobRelay.Tests.Architecture;

/// <summary>An operator filters and alerts on a log line's event id: each id names one kind of line.</summary>
public sealed class LogEventIdTests
{
    [Fact]
    public void NoTwoLogMessagesOfTheEngineShareAnEventId()
    {
        var messages = typeof(JobRelay.State.IRelayStore).Assembly.GetTypes()
            .SelectMany(type => type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            .Select(method => (Method: $"{method.DeclaringType!.Name}.{method.Name}", Attribute: method.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(entry => entry.Attribute is not null)
            .ToList();

        Assert.NotEmpty(messages);
        var shared = messages.GroupBy(entry => entry.Attribute!.EventId)
            .Where(group => group.Count() > 1)
            .Select(group => $"{group.Key}: {string.Join(", ", group.Select(entry => entry.Method))}");
        Assert.Empty(shared);
    }
}
