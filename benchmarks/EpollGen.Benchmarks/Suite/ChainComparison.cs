using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using EpollGen.Benchmarks.Chain;
using static EpollGen.Benchmarks.Statistics;

namespace EpollGen.Benchmarks.Suite;

/// <summary>
/// libevent's bench.c chain workload at each N, through every implementation the machine has: raw
/// epoll and EpollGen (both tap backends) from the same C# loop, .NET sockets, and the C programs
/// (raw epoll, libevent, libev). Rounds rotate the order of three groups (the C# loop, .NET, the C
/// processes) and the order inside each, so a slow spell of a shared VM hits all of them; a
/// round's value is the median of its iterations without the first.
/// </summary>
internal static class ChainComparison
{
    private const string AnyMode = "any";

    public static void Run(SuiteOptions o, IReadOnlyList<string> csharp, NativeChainPrograms native, SuiteReport report, TextWriter log)
    {
        var results = new Dictionary<(string Mode, int Pairs, string Name), List<double>>();
        var notes = new List<string>(native.Notes);
        if (o.ChainModes.Contains("et") && native.Programs.Any(p => !p.EdgeTriggered))
            notes.Add($"{Implementations.Libev} has no ET row: libev has no edge-triggered watchers.");
        var broken = new HashSet<string>();
        void Add(string mode, int pairs, string name, double microseconds)
        {
            if (!results.TryGetValue((mode, pairs, name), out List<double>? list))
                results[(mode, pairs, name)] = list = [];
            list.Add(microseconds);
        }

        foreach (int pairs in o.ChainPairs)
        {
            log.WriteLine($"chain: {pairs:N0} pairs, warming up the C# paths");
            foreach (string mode in o.ChainModes)
            {
                using var workload = new ChainWorkload(pairs, o.ChainActive, o.ChainWrites, mode == "et");
                foreach (string name in csharp)
                    EpollBenchmark.WarmUp(() => RunCSharp(workload, name, 3), o.WarmUp);
            }
            using (var sockets = new SocketChain(pairs, o.ChainActive, o.ChainWrites))
                EpollBenchmark.WarmUp(() => sockets.Run(3), o.WarmUp);

            for (int round = 0; round < o.ChainRounds; round++)
            {
                Action[] groups =
                [
                    () =>
                    {
                        foreach (string mode in o.ChainModes)
                        {
                            using var workload = new ChainWorkload(pairs, o.ChainActive, o.ChainWrites, mode == "et");
                            foreach (string name in Rotate(csharp, round))
                                Add(mode, pairs, name, MedianWithoutFirst(RunCSharp(workload, name, o.ChainIterations)));
                        }
                    },
                    () =>
                    {
                        using var sockets = new SocketChain(pairs, o.ChainActive, o.ChainWrites);
                        Add(AnyMode, pairs, Implementations.DotNetSocket, MedianWithoutFirst(sockets.Run(o.ChainIterations)));
                    },
                    () =>
                    {
                        foreach (string mode in o.ChainModes)
                        {
                            foreach (NativeChainProgram program in Rotate(native.Programs, round))
                            {
                                if ((mode == "et" && !program.EdgeTriggered) || broken.Contains(program.Name))
                                    continue;
                                try
                                {
                                    Add(mode, pairs, program.Name, program.MedianMicroseconds(pairs, o.ChainActive, o.ChainWrites, o.ChainIterations, mode));
                                }
                                catch (InvalidOperationException e)
                                {
                                    // A C library that fails here loses its row; the comparison goes on.
                                    broken.Add(program.Name);
                                    notes.Add($"{program.Name} failed and its row was dropped: {e.Message}");
                                }
                            }
                        }
                    },
                ];
                foreach (Action group in Rotate(groups, round))
                    group();
                log.WriteLine($"chain: {pairs:N0} pairs, round {round + 1}/{o.ChainRounds} done");
            }
        }

        report.Heading("Chain workload (libevent's bench.c): events per second against N");
        report.Paragraph(
            $"N AF_UNIX socketpairs, {o.ChainActive} of them written once, {o.ChainWrites:N0} chained writes (each byte read sends one byte into the next pair). " +
            $"An event is one byte read by one callback, so events per second = {o.ChainActive + o.ChainWrites:N0} ÷ the time of one iteration. " +
            "Untimed per iteration: DEL + ADD of every read end and one zero-timeout wait; timed: zero-timeout waits and callbacks until every byte is read. " +
            $"LT reads one byte per event, ET reads to EAGAIN. {o.ChainRounds} rounds × {o.ChainIterations} iterations; a round's value is the median of its iterations without the first; " +
            "cells give the median of the round values and their min–max. The ratio is this row's median time ÷ raw epoll (C#)'s.");
        report.Bullets(
        [
            $"**{Implementations.RawEpoll}**, **{Implementations.EpollTaps}**, **{Implementations.IoUringTaps}**: one C# loop (`benchmarks/EpollGen.Benchmarks/Chain/ChainWorkload.cs`) over the kernel's calls or EpollGen's libc-shaped `Epoll.epoll_*`.",
            $"**{Implementations.IoUringTrusted}**: the same on io_uring sets created with `EPOLLGEN_TRUST_TAPS=1`, which report edge-triggered entries as their completions said, without the poll(2) re-read; in LT it is exact, so its LT row measures the same as the io_uring row. The epoll issue's target for it is at most 0.80 times raw epoll's LT time, given below the tables.",
            $"**{Implementations.DotNetSocket}**: `benchmarks/EpollGen.Benchmarks/Suite/SocketChain.cs`, one async loop of one-byte `ReceiveAsync` per read end on .NET's own engine; nothing to re-register and no LT/ET distinction (every mode's table shows the same run), and its timed part includes the {o.ChainActive} first sends.",
            $"**{Implementations.RawEpollC}**, **{Implementations.Libevent}**, **{Implementations.Libev}**: `benchmarks/PreloadBench/chain.c` and `benchmarks/EpollGen.Benchmarks/Suite/Native/chain_libevent.c` and `chain_libev.c`, compiled with gcc -O2 at run time; one process per round.",
        ]);
        if (notes.Count > 0)
            report.Bullets(notes.Select(n => "Not shown: " + n));

        foreach (string mode in o.ChainModes)
        {
            string[] names = [.. csharp, Implementations.DotNetSocket, .. native.Programs.Select(p => p.Name)];
            List<string> present = names.Where(n => o.ChainPairs.All(p => results.ContainsKey((Key(mode, n), p, n)))).ToList();
            report.Heading($"{mode.ToUpperInvariant()}", 3);
            var rows = new List<string[]>();
            foreach (int pairs in o.ChainPairs)
            {
                double baseline = Median(results[(mode, pairs, Implementations.RawEpoll)]);
                foreach (string name in present)
                {
                    Summary time = Summary.Of(results[(Key(mode, name), pairs, name)]);
                    rows.Add(
                    [
                        pairs.ToString("N0", CultureInfo.InvariantCulture),
                        name,
                        Cell(time, "N0"),
                        EventsPerSecond(o, time.Median).ToString("N0", CultureInfo.InvariantCulture),
                        (time.Median / baseline).ToString("0.00", CultureInfo.InvariantCulture) + "×",
                    ]);
                }
            }
            report.Table(["pairs (N)", "implementation", "µs per iteration, median (min–max)", "events/s, median", "time ÷ raw epoll (C#)"], rows, leftAligned: 2);
            string chart = report.Chart($"chain-{mode}.png", $"Chain workload, {mode.ToUpperInvariant()}: events per second against N");
            Charts.Lines(chart,
                string.Create(CultureInfo.InvariantCulture, $"Chain workload, {mode.ToUpperInvariant()} ({o.ChainActive} active, {o.ChainWrites:N0} writes): events per second (higher is better)"),
                "socket pairs registered (N, log scale)", "events per second",
                present.Select(name => new ChartSeries(name,
                    o.ChainPairs.Select(p => (double)p).ToArray(),
                    o.ChainPairs.Select(p => Summary.Of(results[(Key(mode, name), p, name)]).Map(us => EventsPerSecond(o, us))).ToArray())).ToList(),
                "lines: median over rounds; whiskers: min–max of the rounds");
        }
        TrustedAgainstRawLevel(o, results, report);
    }

    // The trust mode's target compares its ET time with raw epoll's LT time at the same N.
    private static void TrustedAgainstRawLevel(SuiteOptions o, Dictionary<(string, int, string), List<double>> results, SuiteReport report)
    {
        if (!o.ChainModes.Contains("lt") || !o.ChainModes.Contains("et"))
            return;
        var lines = new List<string>();
        foreach (int pairs in o.ChainPairs)
        {
            if (!results.TryGetValue(("et", pairs, Implementations.IoUringTrusted), out List<double>? trusted)
                || !results.TryGetValue(("lt", pairs, Implementations.RawEpoll), out List<double>? level))
                continue;
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"N = {pairs:N0}: {Implementations.IoUringTrusted} in ET {Median(trusted):N0} µs ÷ {Implementations.RawEpoll} in LT {Median(level):N0} µs = **{Median(trusted) / Median(level):0.00}×** (target ≤ 0.80×)"));
        }
        report.Bullets(lines);
    }

    private static string Key(string mode, string name) => name == Implementations.DotNetSocket ? AnyMode : mode;

    private static double[] RunCSharp(ChainWorkload workload, string name, int iterations)
    {
        switch (name)
        {
            case Implementations.RawEpoll:
                return workload.Run<RawEpoll>(iterations);
            case Implementations.EpollTaps:
                EpollGenEpoll.Backend = "epoll";
                return workload.Run<EpollGenEpoll>(iterations);
            case Implementations.IoUringTaps:
                EpollGenEpoll.Backend = "io_uring";
                return workload.Run<EpollGenEpoll>(iterations);
            case Implementations.IoUringTrusted:
                EpollGenEpoll.Backend = "io_uring+trust";
                return workload.Run<EpollGenEpoll>(iterations);
            default:
                throw new ArgumentException($"no C# chain path named {name}", nameof(name));
        }
    }

    private static double MedianWithoutFirst(double[] times) => Median(times[1..]);

    private static double EventsPerSecond(SuiteOptions o, double microseconds) => (o.ChainActive + o.ChainWrites) / (microseconds / 1e6);

    internal static IEnumerable<T> Rotate<T>(IReadOnlyList<T> items, int by) =>
        items.Count == 0 ? [] : Enumerable.Range(0, items.Count).Select(i => items[(i + by) % items.Count]);

    internal static string Cell(Summary s, string format) =>
        string.Create(CultureInfo.InvariantCulture, $"{s.Median.ToString(format, CultureInfo.InvariantCulture)} ({s.Min.ToString(format, CultureInfo.InvariantCulture)}–{s.Max.ToString(format, CultureInfo.InvariantCulture)})");
}
