using JobRelay.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace JobRelay.Functions;

/// <summary>Reads a job's current status from its platform; guarded by a function key.</summary>
public sealed class JobStatusFunction(RelayHttpHandlers handlers)
{
    [Function("JobStatus")]
    public Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "triggers/{trigger}/jobs/{jobId}")] HttpRequest request,
        string trigger,
        string jobId,
        CancellationToken cancellationToken)
        => handlers.GetJobStatusAsync(request, trigger, jobId, cancellationToken);
}
