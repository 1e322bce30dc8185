using System;
using System.Collections.Generic;
using System.Linq;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;

namespace EpollGen.Benchmarks;

/// <summary>
/// Runs the benchmarks. Arguments go to BenchmarkDotNet (<c>--filter</c>, <c>--job</c>, …), with two
/// conveniences: no <c>--filter</c> means all benchmarks rather than an interactive prompt, and
/// <c>--quick</c> means <c>--job short</c> (3 warm-ups, 3 iterations, 1 launch).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        // Two-thread wake-up round trips do not fit BenchmarkDotNet's model; they have their own loop.
        if (args.FirstOrDefault() == "pingpong")
            return PingPong.PingPongBenchmark.Run(args[1..]);
        // So does the libevent chain workload and the other epoll comparisons: interleaved rounds.
        if (args.FirstOrDefault() == "epoll")
            return Chain.EpollBenchmark.Run(args[1..]);
        // One concurrent-waiters run of one implementation, for profilers (perf, strace).
        if (args.FirstOrDefault() == "concurrent")
            return Concurrent.ConcurrentWaiters.RunOne(args[1..]);
        // Every comparison at once, written to docs/benchmarks-suite.md with charts.
        if (args.FirstOrDefault() == "suite")
            return Suite.SuiteBenchmark.Run(args[1..]);

        // Fail before any timing if a form is wrong; a fast wrong answer is not a result.
        try
        {
            TranslationAgreement.Verify();
        }
        catch (InvalidOperationException e)
        {
            Console.Error.WriteLine("translation forms disagree: " + e.Message);
            return 2;
        }
        Console.WriteLine("translation guard: the if, loop, table and generated forms agree on every input");

        var arguments = new List<string>(args.Where(a => a != "--quick"));
        if (args.Contains("--quick"))
            arguments.AddRange(["--job", "short"]);
        if (!arguments.Any(a => a is "--filter" or "-f"))
            arguments.AddRange(["--filter", "*"]);

        // Noisy 2-core machines: report the median and the range, not only the mean.
        IConfig config = ManualConfig.Create(DefaultConfig.Instance)
            .AddColumn(StatisticColumn.Median, StatisticColumn.Min, StatisticColumn.Max);
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run([.. arguments], config);
        return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
    }
}
