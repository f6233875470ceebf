using BenchmarkDotNet.Running;
using JobRelay.Benchmarks;
using JobRelay.Benchmarks.OutOfProcess;

return args.FirstOrDefault() switch
{
    "micro" => RunMicro(args[1..]),
    "load" => await LoadHarness.RunAsync(args[1..]),
    "faults" => await FaultSuite.RunAsync(),
    "oop" => await OutOfProcessSuite.RunAsync(args[1..]),
    "store" => await StoreCost.RunAsync(args[1..]),
    "scale" => await ScaleSuite.RunAsync(args[1..]),
    "history" => await HistorySuite.RunAsync(args[1..]),
    "watch" => await WatchSuite.RunAsync(args[1..]),
    "stand-in" => await Servers.RunStandInAsync(args[1..]),
    "bare-relay" => await Servers.RunBareRelayAsync(args[1..]),
    _ => Usage(),
};

static int RunMicro(string[] rest)
{
    BenchmarkSwitcher.FromAssembly(typeof(HotPathBenchmarks).Assembly).Run(rest.Length == 0 ? ["--filter", "*"] : rest);
    return 0;
}

static int Usage()
{
    Console.Error.WriteLine("usage: dotnet run -c Release --project benchmarks/JobRelay.Benchmarks -- oop|store|scale|history|watch|micro|load|faults");
    return 2;
}
