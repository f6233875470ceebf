namespace JobRelay.Platforms;

/// <summary>The names of the controls in the API, the CLI, run histories and messages.</summary>
public static class JobControlNames
{
    /// <summary>Every control, in the order they are listed.</summary>
    public static IReadOnlyList<JobControl> All { get; } = [JobControl.Cancel, JobControl.Approve, JobControl.Reject, JobControl.Restart];

    /// <summary>The control's lower-case name: <c>cancel</c>, <c>approve</c>, <c>reject</c> or <c>restart</c>.</summary>
    public static string Of(JobControl control) => control switch
    {
        JobControl.Cancel => "cancel",
        JobControl.Approve => "approve",
        JobControl.Reject => "reject",
        JobControl.Restart => "restart",
        _ => throw new ArgumentOutOfRangeException(nameof(control), control, null),
    };
}
