using System.Text;

namespace JobRelay.Tests.Support;

/// <summary>
/// What a command writes, kept as it arrives, with a wait for the line a test expects next: the standard output of a
/// <see cref="CliProcess"/>, or the writer a command runs against in the test's own process.
/// </summary>
public sealed class OutputLines : TextWriter
{
    private readonly StringBuilder _text = new();
    private readonly Lock _gate = new();

    public override Encoding Encoding => Encoding.UTF8;

    /// <summary>Everything written so far.</summary>
    public string Text
    {
        get
        {
            lock (_gate)
            {
                return _text.ToString();
            }
        }
    }

    public override void Write(char value)
    {
        lock (_gate)
        {
            _text.Append(value);
        }
    }

    public override void Write(string? value)
    {
        lock (_gate)
        {
            _text.Append(value);
        }
    }

    public override void Write(char[] buffer, int index, int count)
    {
        lock (_gate)
        {
            _text.Append(buffer, index, count);
        }
    }

    /// <summary>
    /// Waits until a line starts with <paramref name="prefix"/> (leading spaces aside) and returns the rest of it;
    /// stops early once <paramref name="ended"/> says no more output can come.
    /// </summary>
    public async Task<string> WaitForLineAsync(string prefix, TimeSpan timeout, Func<bool> ended, Func<string> describe)
    {
        ArgumentNullException.ThrowIfNull(ended);
        ArgumentNullException.ThrowIfNull(describe);
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var line = Text.Split('\n').FirstOrDefault(l => l.TrimStart().StartsWith(prefix, StringComparison.Ordinal));
            if (line is not null)
            {
                return line.TrimStart()[prefix.Length..].Trim();
            }

            if (ended())
            {
                break;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"No line starting '{prefix}'. {describe()}");
    }
}
