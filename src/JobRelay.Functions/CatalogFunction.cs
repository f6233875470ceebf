using JobRelay.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace JobRelay.Functions;

/// <summary>Lists the trigger catalog (names, never secret values); guarded by a function key.</summary>
public sealed class CatalogFunction(RelayHttpHandlers handlers)
{
    [Function("Catalog")]
    public IResult Run(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "triggers")] HttpRequest request)
        => handlers.ListTriggers(request);
}
