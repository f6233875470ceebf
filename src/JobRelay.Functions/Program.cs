using JobRelay.Functions;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;

FunctionsApplication.CreateBuilder(args)
    .ConfigureJobRelayFunctions()
    .Build()
    .Run();
