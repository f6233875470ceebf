using JobRelay.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace JobRelay.Functions;

/// <summary>Webhook ingress. Anonymous at the Functions level: each trigger's signature scheme is its authentication.</summary>
public sealed class HooksFunction(RelayHttpHandlers handlers)
{
    [Function("Hooks")]
    public Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", "options", Route = "hooks/{trigger}")] HttpRequest request,
        string trigger,
        CancellationToken cancellationToken)
        => handlers.HandleHookAsync(request, trigger, cancellationToken);
}
