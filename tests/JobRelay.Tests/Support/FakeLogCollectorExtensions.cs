using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace JobRelay.Tests.Support;

/// <summary>
/// What the tests do with the log lines a <see cref="FakeLogCollector"/> gathered: make a logger factory that keeps
/// every line at every level, and prove that no secret reached any part of any line.
/// </summary>
internal static class FakeLogCollectorExtensions
{
    /// <summary>A logger factory whose every logger, at every level, writes into <paramref name="logs"/>.</summary>
    public static ILoggerFactory CreateFactory(this FakeLogCollector logs)
        => LoggerFactory.Create(builder => builder.SetMinimumLevel(LogLevel.Trace).AddProvider(new FakeLoggerProvider(logs)));

    /// <summary>One line as text: level, category, event id, message, structured state, scopes and exception.</summary>
    public static string Describe(this FakeLogRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var state = record.StructuredState is { } pairs ? string.Join(", ", pairs.Select(p => $"{p.Key}={p.Value}")) : string.Empty;
        var scopes = string.Join(" => ", record.Scopes.Select(scope => scope?.ToString()));
        return $"{record.Level} {record.Category}[{record.Id.Id}] {record.Message} {{{state}}} [{scopes}] {record.Exception}";
    }

    /// <summary>Fails the test if any line holds any of <paramref name="secrets"/> in any of its parts.</summary>
    public static void AssertContainsNone(this FakeLogCollector logs, params string[] secrets)
    {
        ArgumentNullException.ThrowIfNull(logs);
        var lines = logs.GetSnapshot().Select(Describe).ToList();
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(lines, line => line.Contains(secret, StringComparison.Ordinal));
        }
    }
}
