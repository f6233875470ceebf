namespace JobRelay.Platforms;

/// <summary>An action on a job a platform already started, beyond reading its status.</summary>
public enum JobControl
{
    /// <summary>Stops the job (Keboola's kill, TheEye's cancel).</summary>
    Cancel,

    /// <summary>Approves a job that waits for approval (TheEye approval jobs).</summary>
    Approve,

    /// <summary>Rejects a job that waits for approval (TheEye approval jobs).</summary>
    Reject,

    /// <summary>Runs a completed job once more with the same parameters (TheEye script and Node.js jobs).</summary>
    Restart,
}
