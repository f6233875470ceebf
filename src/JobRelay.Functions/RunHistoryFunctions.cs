using JobRelay.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace JobRelay.Functions;

/// <summary>The run history: runs newest first, one run with its lineage, failed outbound deliveries, a trigger's outcome counts; guarded by a function key.</summary>
public sealed class RunHistoryFunctions(RelayHttpHandlers handlers)
{
    [Function("ListRuns")]
    public Task<IResult> ListRuns(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "runs")] HttpRequest request,
        CancellationToken cancellationToken)
        => handlers.ListRunsAsync(request, cancellationToken);

    [Function("GetRun")]
    public Task<IResult> GetRun(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "runs/{runId}")] HttpRequest request,
        string runId,
        CancellationToken cancellationToken)
        => handlers.GetRunAsync(request, runId, cancellationToken);

    [Function("ListFailedDeliveries")]
    public Task<IResult> ListFailedDeliveries(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "deliveries/failed")] HttpRequest request,
        CancellationToken cancellationToken)
        => handlers.ListFailedDeliveriesAsync(request, cancellationToken);

    [Function("TriggerStats")]
    public Task<IResult> TriggerStats(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "triggers/{trigger}/stats")] HttpRequest request,
        string trigger,
        CancellationToken cancellationToken)
        => handlers.GetTriggerStatsAsync(request, trigger, cancellationToken);
}
