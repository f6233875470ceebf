using JobRelay.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace JobRelay.Functions;

/// <summary>Liveness (anonymous), readiness and the scheduler's heartbeat (function key: they name the secrets checked and the instances that ticked).</summary>
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

    [Function("SchedulerHeartbeat")]
    public Task<IResult> Scheduler(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "health/scheduler")] HttpRequest request,
        CancellationToken cancellationToken)
        => handlers.GetSchedulerHeartbeatAsync(request, cancellationToken);
}
