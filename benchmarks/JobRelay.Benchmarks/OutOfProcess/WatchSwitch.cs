using Microsoft.Data.Sqlite;

namespace JobRelay.Benchmarks.OutOfProcess;

/// <summary>
/// Turns the watches of one trigger's started jobs on and off in a SQLite store a running <c>serve</c> uses (SQLite lets
/// two processes share the file): on, each job is read once per minute, its next read spread evenly over the minute that
/// began one tick ago, so the next tick and every one after it read a sixth of the jobs, as in the steady state of jobs
/// that have run for a while; off, no job is watched. The suite's only writes
/// outside the store's interface, so that one serve is measured with and without its watches in the same repetition.
/// </summary>
internal sealed class WatchSwitch(string file, string trigger, int jobs)
{
    /// <summary>serve's tick (its default sweep interval).</summary>
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(10);

    public string File { get; } = file;

    public async Task TurnAsync(bool on)
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = File, Pooling = false, DefaultTimeout = 30 }.ToString());
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();

        // Run ids are run-000000 … (WatchSuite.FillAsync): the number spreads the reads over the minute. The
        // version moves, so a check in flight when the switch turns writes nothing (its compare-and-set fails).
        command.CommandText = on
            ? "UPDATE runs SET version = version + 1, watch_state = 'Watching', watch_checks = 3, watch_lease_until = NULL, " +
              "watch_next_at = $now - $tick + CAST(substr(run_id, 5) AS INTEGER) * 60000 / $jobs WHERE trigger_name = $trigger"
            : "UPDATE runs SET version = version + 1, watch_state = 'None', watch_lease_until = NULL WHERE trigger_name = $trigger";
        command.Parameters.AddWithValue("$now", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$jobs", jobs);
        command.Parameters.AddWithValue("$tick", (long)Tick.TotalMilliseconds);
        command.Parameters.AddWithValue("$trigger", trigger);
        await command.ExecuteNonQueryAsync();
    }
}
