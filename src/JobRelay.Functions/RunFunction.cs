using JobRelay.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace JobRelay.Functions;

/// <summary>Reads one run of a trigger (a queued run's answer points here); guarded by a function key.</summary>
public sealed class RunFunction(RelayHttpHandlers handlers)
{
    [Function("Run")]
    public Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "triggers/{trigger}/runs/{runId}")] HttpRequest request,
        string trigger,
        string runId,
        CancellationToken cancellationToken)
        => handlers.GetRunAsync(request, trigger, runId, cancellationToken);
}
