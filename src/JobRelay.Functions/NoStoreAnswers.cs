using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;

namespace JobRelay.Functions;

/// <summary>
/// Marks every HTTP answer <c>Cache-Control: no-store</c>, as serve does for its <c>/api</c> routes: run data and
/// job status change by the second, and no browser or proxy may keep them. A result that sets its own caching (the
/// dashboard's static assets) overrides this.
/// </summary>
internal sealed class NoStoreAnswers : IFunctionsWorkerMiddleware
{
    public Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        if (context.GetHttpContext() is { } http)
        {
            http.Response.Headers.CacheControl = "no-store";
        }

        return next(context);
    }
}
