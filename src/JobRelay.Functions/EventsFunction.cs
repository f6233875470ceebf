using JobRelay.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace JobRelay.Functions;

/// <summary>Job-end events for chaining. Anonymous at the Functions level: the platform's event token is its authentication.</summary>
public sealed class EventsFunction(RelayHttpHandlers handlers)
{
    [Function("Events")]
    public Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "events/{platform}")] HttpRequest request,
        string platform,
        CancellationToken cancellationToken)
        => handlers.HandleJobEndAsync(request, platform, cancellationToken);
}
