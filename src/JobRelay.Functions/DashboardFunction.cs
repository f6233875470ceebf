using JobRelay.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace JobRelay.Functions;

/// <summary>
/// The operator dashboard at <c>/api/dashboard</c> (the Functions host puts every HTTP function under its route
/// prefix). Anonymous: the page and its assets hold no data, and every call the page makes carries a function key.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1822", Justification = "The worker's generated invoker calls function methods on an instance, as for every other function class.")]
public sealed class DashboardFunction
{
    [Function("Dashboard")]
    public IResult Page(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "dashboard")] HttpRequest request)
        => DashboardPage.Page(request);

    [Function("DashboardAsset")]
    public IResult Asset(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "dashboard/{asset}")] HttpRequest request,
        string asset)
        => DashboardPage.Asset(request, asset);
}
