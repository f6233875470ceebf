using JobRelay.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace JobRelay.Functions;

/// <summary>The operator actions on a run, each recorded in the run's history; guarded by a function key.</summary>
public sealed class RunActionFunctions(RelayHttpHandlers handlers)
{
    [Function("StartRunAgain")]
    public Task<IResult> StartAgain(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "runs/{runId}/start-again")] HttpRequest request,
        string runId,
        CancellationToken cancellationToken)
        => handlers.StartAgainAsync(request, runId, cancellationToken);

    [Function("ReplayRun")]
    public Task<IResult> Replay(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "runs/{runId}/replay")] HttpRequest request,
        string runId,
        CancellationToken cancellationToken)
        => handlers.ReplayAsync(request, runId, cancellationToken);

    [Function("CancelRun")]
    public Task<IResult> Cancel(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "runs/{runId}/cancel")] HttpRequest request,
        string runId,
        CancellationToken cancellationToken)
        => handlers.CancelAsync(request, runId, cancellationToken);

    [Function("ApproveRun")]
    public Task<IResult> Approve(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "runs/{runId}/approve")] HttpRequest request,
        string runId,
        CancellationToken cancellationToken)
        => handlers.ApproveAsync(request, runId, cancellationToken);

    [Function("RejectRun")]
    public Task<IResult> Reject(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "runs/{runId}/reject")] HttpRequest request,
        string runId,
        CancellationToken cancellationToken)
        => handlers.RejectAsync(request, runId, cancellationToken);

    [Function("RestartRun")]
    public Task<IResult> Restart(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "runs/{runId}/restart")] HttpRequest request,
        string runId,
        CancellationToken cancellationToken)
        => handlers.RestartAsync(request, runId, cancellationToken);
}
