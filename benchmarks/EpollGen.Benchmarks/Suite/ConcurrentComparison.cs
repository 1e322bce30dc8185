using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using EpollGen.Benchmarks.Chain;
using EpollGen.Benchmarks.Concurrent;
using static EpollGen.Benchmarks.Statistics;

namespace EpollGen.Benchmarks.Suite;

/// <summary>
/// Several threads sharing one set (<see cref="ConcurrentWaiters"/>): the one-shot worker pool and
/// the edge-triggered pool, token moves per second against raw epoll from C# in the same run.
/// </summary>
internal static class ConcurrentComparison
{
    public static void Run(SuiteOptions o, IReadOnlyList<string> implementations, SuiteReport report, TextWriter log)
    {
        ConcurrentWaiters.Pattern[] patterns = [ConcurrentWaiters.Pattern.OneShot, ConcurrentWaiters.Pattern.EdgeTriggered];
        var results = new Dictionary<(ConcurrentWaiters.Pattern Pattern, string Name), List<double>>();
        foreach (ConcurrentWaiters.Pattern pattern in patterns)
        {
            foreach (string name in implementations)
                EpollBenchmark.WarmUp(() => Measure(name, pattern, o, o.ConcurrentMoves / 10), o.WarmUp);
        }
        for (int round = 0; round < o.ConcurrentRounds; round++)
        {
            foreach (ConcurrentWaiters.Pattern pattern in patterns)
            {
                foreach (string name in ChainComparison.Rotate(implementations, round))
                {
                    if (!results.TryGetValue((pattern, name), out List<double>? list))
                        results[(pattern, name)] = list = [];
                    list.Add(Measure(name, pattern, o, o.ConcurrentMoves));
                }
            }
            log.WriteLine($"concurrent waiters: round {round + 1}/{o.ConcurrentRounds} done");
        }

        report.Heading("Concurrent waiters: one set, several threads");
        report.Paragraph(
            $"{o.ConcurrentThreads} threads wait on one set of {o.ConcurrentFds} eventfds through which {o.ConcurrentTokens} tokens circulate, each in a lane of its own: a thread that " +
            "gets an eventfd's event reads its token and writes it to the next eventfd of the lane (`benchmarks/EpollGen.Benchmarks/Concurrent/ConcurrentWaiters.cs`). " +
            "One-shot: EPOLLIN|EPOLLONESHOT, one event per wait, re-armed by MOD after the hand-on (the worker-pool pattern). " +
            "Edge-triggered: EPOLLIN|EPOLLET, up to 16 events per wait, each eventfd read to EAGAIN. " +
            $"Each round moves {o.ConcurrentMoves:N0} tokens per implementation and checks that none was lost; {o.ConcurrentRounds} rounds, implementations interleaved. " +
            "Cells: token moves per second, median (min–max).");
        var rows = new List<string[]>();
        foreach (ConcurrentWaiters.Pattern pattern in patterns)
        {
            double raw = Median(results[(pattern, Implementations.RawEpoll)]);
            foreach (string name in implementations)
            {
                Summary moves = Summary.Of(results[(pattern, name)]);
                rows.Add(
                [
                    pattern == ConcurrentWaiters.Pattern.OneShot ? "one-shot pool" : "edge-triggered pool",
                    name,
                    ChainComparison.Cell(moves, "N0"),
                    (moves.Median / raw).ToString("0.00", CultureInfo.InvariantCulture) + "×",
                ]);
            }
        }
        report.Table(["pattern", "implementation", "token moves per second, median (min–max)", "÷ raw epoll (C#)"], rows, leftAligned: 2);
    }

    private static double Measure(string name, ConcurrentWaiters.Pattern pattern, SuiteOptions o, int moves)
    {
        switch (name)
        {
            case Implementations.RawEpoll:
                return ConcurrentWaiters.MovesPerSecond<RawEpoll>(pattern, o.ConcurrentThreads, o.ConcurrentFds, o.ConcurrentTokens, moves);
            case Implementations.EpollTaps:
                EpollGenEpoll.Backend = "epoll";
                return ConcurrentWaiters.MovesPerSecond<EpollGenEpoll>(pattern, o.ConcurrentThreads, o.ConcurrentFds, o.ConcurrentTokens, moves);
            case Implementations.IoUringTaps:
                EpollGenEpoll.Backend = "io_uring";
                return ConcurrentWaiters.MovesPerSecond<EpollGenEpoll>(pattern, o.ConcurrentThreads, o.ConcurrentFds, o.ConcurrentTokens, moves);
            default:
                throw new ArgumentException($"no concurrent path named {name}", nameof(name));
        }
    }
}
