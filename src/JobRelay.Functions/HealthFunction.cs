using JobRelay.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace JobRelay.Functions;

/// <summary>Liveness (anonymous) and readiness (function key: it names the secrets it checked).</summary>
public sealed class HealthFunction(RelayHttpHandlers handlers)
{
    [Function("Health")]
    public IResult Live(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "health")] HttpRequest request)
        => handlers.Live(request);

    [Function("HealthReady")]
    public Task<IResult> Ready(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "health/ready")] HttpRequest request,
        CancellationToken cancellationToken)
        => handlers.ReadyAsync(request, cancellationToken);
}
