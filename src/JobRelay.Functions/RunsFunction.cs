using JobRelay.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace JobRelay.Functions;

/// <summary>Starts a trigger through the API; guarded by a function key.</summary>
public sealed class RunsFunction(RelayHttpHandlers handlers)
{
    [Function("Runs")]
    public Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "triggers/{trigger}/runs")] HttpRequest request,
        string trigger,
        CancellationToken cancellationToken)
        => handlers.HandleRunAsync(request, trigger, cancellationToken);
}
