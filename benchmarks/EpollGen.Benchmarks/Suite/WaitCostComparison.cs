using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using EpollGen.Benchmarks.Chain;
using static EpollGen.Benchmarks.Statistics;

namespace EpollGen.Benchmarks.Suite;

/// <summary>
/// What one zero-timeout wait returning 100 ready level-triggered eventfds costs as the idle
/// registrations beside them grow (the <c>epoll</c> mode's wait-cost measurement, at more counts
/// and on both tap backends).
/// </summary>
internal static class WaitCostComparison
{
    private const int Ready = 100;

    public static void Run(SuiteOptions o, IReadOnlyList<string> implementations, SuiteReport report, TextWriter log)
    {
        int[] active = Enumerable.Range(0, Ready).Select(_ => EpollBenchmark.eventfd(1, 0x80800)).ToArray();
        int[] idle = Enumerable.Range(0, o.WaitRegistered.Max() - Ready).Select(_ => EpollBenchmark.eventfd(0, 0x80800)).ToArray();
        if (active.Concat(idle).Any(fd => fd < 0))
            throw new InvalidOperationException($"eventfd failed: {o.WaitRegistered.Max():N0} eventfds do not fit this process's fd limit");
        var results = new Dictionary<(int Registered, string Name), List<double>>();
        try
        {
            foreach (string name in implementations)
                EpollBenchmark.WarmUp(() => Measure(name, active, [], o.Waits), o.WarmUp);
            for (int round = 0; round < o.WaitRounds; round++)
            {
                foreach (int registered in o.WaitRegistered)
                {
                    int[] idleHere = idle[..(registered - Ready)];
                    foreach (string name in ChainComparison.Rotate(implementations, round))
                    {
                        if (!results.TryGetValue((registered, name), out List<double>? list))
                            results[(registered, name)] = list = [];
                        list.Add(Measure(name, active, idleHere, o.Waits));
                    }
                }
                log.WriteLine($"wait cost: round {round + 1}/{o.WaitRounds} done");
            }
        }
        finally
        {
            foreach (int fd in active.Concat(idle))
                Sys.close(fd);
        }

        report.Heading("Wait cost against registered fds");
        report.Paragraph(
            $"`epoll_wait(timeout 0)` returning {Ready} ready level-triggered eventfds, with the rest of the registered eventfds idle. " +
            $"Each round builds a fresh set per implementation and count, waits 100 times untimed, then times {o.Waits:N0} waits; {o.WaitRounds} rounds, " +
            "cells give the median and min–max of the round values. " +
            $"{Implementations.DotNetSocket} has no row: .NET sockets expose no wait call (their engine's epoll is internal), so there is nothing of theirs to time here.");
        var rows = new List<string[]>();
        foreach (int registered in o.WaitRegistered)
        {
            foreach (string name in implementations)
            {
                Summary ns = Summary.Of(results[(registered, name)]);
                double first = Median(results[(o.WaitRegistered[0], name)]);
                rows.Add(
                [
                    registered.ToString("N0", CultureInfo.InvariantCulture),
                    name,
                    ChainComparison.Cell(ns, "N0"),
                    (ns.Median / first).ToString("0.00", CultureInfo.InvariantCulture) + "×",
                    (ns.Median / Median(results[(registered, Implementations.RawEpoll)])).ToString("0.00", CultureInfo.InvariantCulture) + "×",
                ]);
            }
        }
        report.Table(["registered fds", "implementation", "ns per wait, median (min–max)",
            $"÷ its own at {o.WaitRegistered[0]:N0}", "÷ raw epoll (C#)"], rows, leftAligned: 2);
        string chart = report.Chart("waitcost.png", "Wait cost against registered fds");
        Charts.Lines(chart, $"One wait returning {Ready} ready events: cost against registered fds (lower is better)",
            "registered fds (log scale)", "ns per epoll_wait",
            implementations.Select(name => new ChartSeries(name,
                o.WaitRegistered.Select(r => (double)r).ToArray(),
                o.WaitRegistered.Select(r => Summary.Of(results[(r, name)])).ToArray())).ToList(),
            ".NET sockets: no wait call to time, no line");
    }

    private static double Measure(string name, int[] active, int[] idle, int waits)
    {
        switch (name)
        {
            case Implementations.RawEpoll:
                return EpollBenchmark.WaitNs<RawEpoll>(active, idle, waits);
            case Implementations.EpollTaps:
                EpollGenEpoll.Backend = "epoll";
                return EpollBenchmark.WaitNs<EpollGenEpoll>(active, idle, waits);
            case Implementations.IoUringTaps:
                EpollGenEpoll.Backend = "io_uring";
                return EpollBenchmark.WaitNs<EpollGenEpoll>(active, idle, waits);
            default:
                throw new ArgumentException($"no wait path named {name}", nameof(name));
        }
    }
}
