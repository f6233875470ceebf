using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace JobRelay.Tests.Support;

/// <summary>One log line as written, with its structured properties rendered to text.</summary>
public sealed record CapturedLog(string Category, LogLevel Level, EventId EventId, string Message, string Properties, string? Exception)
{
    public override string ToString() => $"{Level} {Category}[{EventId.Id}] {Message} {{{Properties}}} {Exception}";
}

/// <summary>
/// Captures every log line, at every level, with its properties and exception text, so that tests can assert
/// that no secret reached any of them.
/// </summary>
public sealed class CapturingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<CapturedLog> _logs = new();

    public IReadOnlyList<CapturedLog> Logs => [.. _logs];

    /// <summary>Every captured line as one text, for substring assertions.</summary>
    public string AllText => string.Join('\n', _logs.Select(l => l.ToString()));

    public ILoggerFactory CreateFactory() => LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(this));

    public ILogger CreateLogger(string categoryName) => new CapturingLogger(categoryName, _logs);

    public void Dispose()
    {
    }

    /// <summary>Fails the test if any captured line contains any of <paramref name="secrets"/>.</summary>
    public void AssertContainsNone(params string[] secrets)
    {
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(_logs, l => l.ToString().Contains(secret, StringComparison.Ordinal));
        }
    }

    private sealed class CapturingLogger(string category, ConcurrentQueue<CapturedLog> logs) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var properties = state is IEnumerable<KeyValuePair<string, object?>> pairs
                ? string.Join(", ", pairs.Select(p => $"{p.Key}={p.Value}"))
                : string.Empty;
            logs.Enqueue(new CapturedLog(category, logLevel, eventId, formatter(state, exception), properties, exception?.ToString()));
        }
    }
}
