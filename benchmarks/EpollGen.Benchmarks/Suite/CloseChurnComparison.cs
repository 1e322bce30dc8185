using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using EpollGen.Benchmarks.Chain;
using EpollGen.Interop;
using static EpollGen.Benchmarks.Statistics;

namespace EpollGen.Benchmarks.Suite;

/// <summary>
/// What a connection's life costs a set that many other registrations share: a pipe is made, its
/// read end ADDed, and both ends closed without a DEL (as nginx closes its connections), with 0,
/// 1,000 and 10,000 idle eventfds registered beside it. The ADD is timed on its own as well.
/// </summary>
internal static class CloseChurnComparison
{
    public static void Run(SuiteOptions o, IReadOnlyList<string> implementations, SuiteReport report, TextWriter log)
    {
        int[] idle = Enumerable.Range(0, o.ChurnIdle.Max()).Select(_ => Sys.eventfd(0, 0x80800)).ToArray();
        if (idle.Any(fd => fd < 0))
            throw new InvalidOperationException($"eventfd failed: {o.ChurnIdle.Max():N0} eventfds do not fit this process's fd limit");
        var cycles = new Dictionary<(int Idle, string Name), List<double>>();
        var adds = new Dictionary<(int Idle, string Name), List<double>>();
        try
        {
            foreach (string name in implementations)
                EpollBenchmark.WarmUp(() => Measure(name, [], o.ChurnCycles), o.WarmUp);
            for (int round = 0; round < o.ChurnRounds; round++)
            {
                foreach (int count in o.ChurnIdle)
                {
                    foreach (string name in ChainComparison.Rotate(implementations, round))
                    {
                        (double cycle, double add) = Measure(name, idle[..count], o.ChurnCycles);
                        Add(cycles, (count, name), cycle);
                        Add(adds, (count, name), add);
                    }
                }
                log.WriteLine($"close churn: round {round + 1}/{o.ChurnRounds} done");
            }
        }
        finally
        {
            foreach (int fd in idle)
                Sys.close(fd);
        }

        report.Heading("Close churn against registered fds");
        report.Paragraph(
            "One connection's life in a busy set: `pipe2`, `EPOLL_CTL_ADD` of the read end (EPOLLIN|EPOLLET), then `close` of both ends " +
            "without a DEL, the registration left to the close as nginx leaves it; the set also holds the given number of idle eventfds. " +
            $"Each round builds a fresh set per implementation and size, runs {o.ChurnCycles / 10:N0} cycles untimed, then times {o.ChurnCycles:N0}; " +
            $"{o.ChurnRounds} rounds, interleaved; cells give the median and min–max of the round values. The ADD column times the ADD alone " +
            "(a clock read on each side of it, in every implementation alike). Through EpollGen the calls are its libc-shaped ones (`Epoll.epoll_ctl`, `Epoll.close`), " +
            "as the preload makes them; the baseline is the kernel's epoll from C#.");
        var rows = new List<string[]>();
        foreach (int count in o.ChurnIdle)
        {
            foreach (string name in implementations)
            {
                Summary cycle = Summary.Of(cycles[(count, name)]);
                Summary add = Summary.Of(adds[(count, name)]);
                rows.Add(
                [
                    count.ToString("N0", CultureInfo.InvariantCulture),
                    name,
                    ChainComparison.Cell(cycle, "N0"),
                    Ratio(cycle.Median, Median(cycles[(count, Implementations.RawEpoll)])),
                    ChainComparison.Cell(add, "N0"),
                    Ratio(add.Median, Median(adds[(count, Implementations.RawEpoll)])),
                ]);
            }
        }
        report.Table(["idle registrations", "implementation", "ns per cycle, median (min–max)", "÷ raw epoll (C#)",
            "ns per ADD, median (min–max)", "÷ raw epoll (C#)"], rows, leftAligned: 2);
    }

    private static string Ratio(double value, double baseline) =>
        (value / baseline).ToString("0.00", CultureInfo.InvariantCulture) + "×";

    private static void Add(Dictionary<(int, string), List<double>> results, (int, string) key, double value)
    {
        if (!results.TryGetValue(key, out List<double>? list))
            results[key] = list = [];
        list.Add(value);
    }

    private static (double Cycle, double Add) Measure(string name, int[] idle, int cycles)
    {
        switch (name)
        {
            case Implementations.RawEpoll:
                return Churn<RawEpoll>(idle, cycles);
            case Implementations.EpollTaps:
                EpollGenEpoll.Backend = "epoll";
                return Churn<EpollGenEpoll>(idle, cycles);
            case Implementations.IoUringTaps:
                EpollGenEpoll.Backend = "io_uring";
                return Churn<EpollGenEpoll>(idle, cycles);
            default:
                throw new ArgumentException($"no close-churn path named {name}", nameof(name));
        }
    }

    // ns per pipe + ADD + close of both ends, and per ADD alone, on a fresh set holding idle.
    private static unsafe (double Cycle, double Add) Churn<TApi>(int[] idle, int cycles)
        where TApi : IEpollApi
    {
        int epfd = TApi.Create();
        byte* ev = stackalloc byte[16];
        foreach (int fd in idle)
        {
            EpollEvent.WriteNative(ev, 0, new EpollEvent { Events = EpollEvents.EPOLLIN, data = (ulong)fd });
            Check(TApi.Ctl(epfd, 1, fd, ev) == 0, "ADD of an idle eventfd");
        }
        int* ends = stackalloc int[2];
        long addTicks = 0;
        long start = 0;
        int warm = cycles / 10;
        for (int i = 0; i < warm + cycles; i++)
        {
            if (i == warm)
            {
                addTicks = 0;
                start = Stopwatch.GetTimestamp();
            }
            Check(Sys.pipe2(ends, 0x80800) == 0, "pipe2");
            EpollEvent.WriteNative(ev, 0, new EpollEvent { Events = EpollEvents.EPOLLIN | EpollEvents.EPOLLET, data = (ulong)ends[0] });
            long before = Stopwatch.GetTimestamp();
            int added = TApi.Ctl(epfd, 1, ends[0], ev);
            addTicks += Stopwatch.GetTimestamp() - before;
            Check(added == 0, "ADD of the pipe");
            TApi.Close(ends[1]);
            TApi.Close(ends[0]);
        }
        double total = Stopwatch.GetElapsedTime(start).TotalNanoseconds;
        TApi.Close(epfd);
        return (total / cycles, addTicks * 1e9 / Stopwatch.Frequency / cycles);
    }

    private static void Check(bool ok, string what)
    {
        if (!ok)
            throw new InvalidOperationException($"{what} failed: errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}");
    }
}
