using JobRelay.Functions;
using JobRelay.Hosting;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;

var builder = FunctionsApplication.CreateBuilder(args);

// The catalog's first check is the longest step of the worker's start: it runs while the host is built, and the
// start-up validation finds it warm.
_ = CatalogWarmUp.Start(builder.Configuration);
builder
    .ConfigureJobRelayFunctions()
    .Build()
    .Run();
