using Microsoft.Extensions.Options;

namespace JobRelay.State;

/// <summary>Which store holds JobRelay's state.</summary>
public enum StoreKind
{
    /// <summary>A SQLite file in <see cref="StoreOptions.DataFolder"/>: one machine, one or more processes.</summary>
    Sqlite,

    /// <summary>Azure Table Storage: every instance of the Functions app, or several machines.</summary>
    Tables,
}

/// <summary>The state store and the rules of its claims and sweep (section <c>JobRelay:Store</c>).</summary>
public sealed class StoreOptions
{
    public const string SectionName = "JobRelay:Store";

    /// <summary>The folder <c>jobrelay serve</c> keeps its state in when no other is given (relative to the working folder).</summary>
    public const string DefaultDataFolder = ".jobrelay";

    /// <summary>The SQLite file's name inside <see cref="DataFolder"/>.</summary>
    public const string SqliteFileName = "jobrelay.db";

    public StoreKind Kind { get; set; } = StoreKind.Sqlite;

    /// <summary>Where the SQLite file lives.</summary>
    public string DataFolder { get; set; } = DefaultDataFolder;

    /// <summary>The table endpoint (<c>https://{account}.table.core.windows.net</c>), reached with <c>DefaultAzureCredential</c>.</summary>
    public Uri? TableServiceUri { get; set; }

    /// <summary>A Table Storage connection string (Azurite, for instance); used instead of <see cref="TableServiceUri"/>.</summary>
    public string? TableConnectionString { get; set; }

    /// <summary>The table's name.</summary>
    public string TableName { get; set; } = "JobRelayRuns";

    /// <summary>With <see cref="TableServiceUri"/>: the client id of the user-assigned managed identity to use.</summary>
    public string? ManagedIdentityClientId { get; set; }

    /// <summary>How long a claim is held before the platform is called; after that another claimant may take it over.</summary>
    public TimeSpan ClaimLease { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a platform call may take before its claim counts as abandoned mid-call (outcome unknown).</summary>
    public TimeSpan StartLease { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long a duplicate waits for an in-flight original before the sender is asked to retry.</summary>
    public TimeSpan InFlightWait { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>How long a pending start is retried before it is refused.</summary>
    public TimeSpan PendingDeadline { get; set; } = TimeSpan.FromHours(24);

    /// <summary>The first wait before a pending start is sent again; it doubles up to <see cref="RetryMaxDelay"/>.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The longest wait between two attempts of a pending start.</summary>
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often <c>jobrelay serve</c> sweeps for pending starts and expired claims.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Settled runs older than this are deleted by the sweep (Table Storage has no TTL of its own).</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// Opens the SQLite store read-only: an existing file only, never created, never written (set by the CLI's read
    /// commands, such as <c>jobrelay runs</c>).
    /// </summary>
    public bool ReadOnly { get; set; }

    /// <summary>Set by the Functions app: its instances share nothing on disk, so only <see cref="StoreKind.Tables"/> will do.</summary>
    public bool RequireShared { get; set; }

    /// <summary>The SQLite file this configuration names.</summary>
    public string SqlitePath => Path.GetFullPath(Path.Combine(DataFolder, SqliteFileName));
}

/// <summary>Checks <see cref="StoreOptions"/> at start, listing every problem by its configuration key.</summary>
internal sealed class StoreOptionsValidator : IValidateOptions<StoreOptions>
{
    public ValidateOptionsResult Validate(string? name, StoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        void Between(TimeSpan value, TimeSpan min, TimeSpan max, string key)
        {
            if (value < min || value > max)
            {
                failures.Add($"{StoreOptions.SectionName}:{key} must be between {min:c} and {max:c}.");
            }
        }

        if (!Enum.IsDefined(options.Kind))
        {
            failures.Add($"{StoreOptions.SectionName}:Kind must be sqlite or tables.");
        }

        if (options.Kind == StoreKind.Sqlite)
        {
            if (options.RequireShared)
            {
                failures.Add($"{StoreOptions.SectionName}:Kind must be tables here: the instances of the Functions app share no disk, so a SQLite file cannot hold their state.");
            }

            if (string.IsNullOrWhiteSpace(options.DataFolder))
            {
                failures.Add($"{StoreOptions.SectionName}:DataFolder must name a folder.");
            }
        }

        if (options.Kind == StoreKind.Tables)
        {
            if (options.TableServiceUri is null && string.IsNullOrWhiteSpace(options.TableConnectionString))
            {
                failures.Add($"{StoreOptions.SectionName}:TableServiceUri (or TableConnectionString, for Azurite) is required when Kind is tables.");
            }

            if (options.TableServiceUri is { } uri && (!uri.IsAbsoluteUri || uri.Scheme != Uri.UriSchemeHttps))
            {
                failures.Add($"{StoreOptions.SectionName}:TableServiceUri must be an absolute https URL, such as https://account.table.core.windows.net.");
            }

            if (options.TableName is not { Length: >= 3 and <= 63 } table || !char.IsAsciiLetter(table[0]) || !table.All(char.IsAsciiLetterOrDigit))
            {
                failures.Add($"{StoreOptions.SectionName}:TableName must be 3-63 letters and digits, starting with a letter.");
            }
        }

        Between(options.ClaimLease, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(10), nameof(StoreOptions.ClaimLease));
        Between(options.StartLease, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1), nameof(StoreOptions.StartLease));
        Between(options.InFlightWait, TimeSpan.Zero, TimeSpan.FromMinutes(2), nameof(StoreOptions.InFlightWait));
        Between(options.PendingDeadline, TimeSpan.FromSeconds(1), TimeSpan.FromDays(7), nameof(StoreOptions.PendingDeadline));
        Between(options.RetryBaseDelay, TimeSpan.FromMilliseconds(10), TimeSpan.FromHours(1), nameof(StoreOptions.RetryBaseDelay));
        Between(options.RetryMaxDelay, options.RetryBaseDelay, TimeSpan.FromHours(6), nameof(StoreOptions.RetryMaxDelay));
        Between(options.SweepInterval, TimeSpan.FromMilliseconds(10), TimeSpan.FromHours(1), nameof(StoreOptions.SweepInterval));
        Between(options.Retention, TimeSpan.FromHours(1), TimeSpan.FromDays(365), nameof(StoreOptions.Retention));
        if (options.Retention < options.PendingDeadline)
        {
            failures.Add($"{StoreOptions.SectionName}:Retention must be at least PendingDeadline, or a pending start could outlive its record.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
