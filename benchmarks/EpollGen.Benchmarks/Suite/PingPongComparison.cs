using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using EpollGen.Benchmarks.PingPong;
using ScottPlot;
using static EpollGen.Benchmarks.Statistics;

namespace EpollGen.Benchmarks.Suite;

/// <summary>
/// Wake-up round trips between two threads (the <c>pingpong</c> mode's measurement), with every
/// round trip's own time kept for the distribution, plus the same round trip over .NET sockets.
/// </summary>
internal static class PingPongComparison
{
    private const string Unpinned = "unpinned";
    private static readonly double[] Quantiles = [0.5, 0.9, 0.99, 0.999];

    public static void Run(SuiteOptions o, bool ioUring, SuiteReport report, TextWriter log)
    {
        string[] modes = ioUring
            ? [PingPongBenchmark.RawMode, PingPongBenchmark.EpollMode, PingPongBenchmark.IoUringMode, PingPongBenchmark.IoUringSingleMode, PingPongBenchmark.RawIoUringMode]
            : [PingPongBenchmark.RawMode, PingPongBenchmark.EpollMode];
        var means = new Dictionary<(string Placement, string Name), List<double>>();
        var samples = new Dictionary<(string Placement, string Name), List<long>>();
        void Add(string placement, string name, double mean, long[] ticks)
        {
            if (!means.TryGetValue((placement, name), out List<double>? list))
            {
                means[(placement, name)] = list = [];
                samples[(placement, name)] = [];
            }
            list.Add(mean);
            samples[(placement, name)].AddRange(ticks);
        }

        for (int round = 0; round < o.PingPongRounds; round++)
        {
            foreach ((string placement, int[] cpus) in PingPongBenchmark.Placements)
            {
                foreach (string mode in ChainComparison.Rotate(modes, round))
                {
                    var ticks = new long[o.PingPongRoundTrips];
                    Add(placement, NameOf(mode), PingPongBenchmark.Measure(mode, cpus, o.PingPongRoundTrips, ticks), ticks);
                }
            }
            var socketTicks = new long[o.PingPongRoundTrips];
            Add(Unpinned, Implementations.DotNetSocket, SocketPingPong.Measure(o.PingPongRoundTrips, socketTicks), socketTicks);
            log.WriteLine($"ping-pong: round {round + 1}/{o.PingPongRounds} done");
        }

        report.Heading("Ping-pong: wake-up round-trip latency distribution");
        report.Paragraph(
            $"Two threads, each with its own eventfd; each hop writes the peer's eventfd, waits for its own and reads it (`benchmarks/EpollGen.Benchmarks/PingPong/PingPong.cs`). " +
            $"Raw epoll waits with `epoll_wait` from C#; EpollGen waits on an event queue whose tap watches the eventfd. " +
            $"{Implementations.RawIoUring} is the kernel's ring with nothing above it: a default ring per thread, one multishot poll of its eventfd, and a wait that enters the kernel only when the completion queue is empty (the floor any io_uring backend stands on). Both threads pinned to CPU 1 (same core), then to CPUs 0 and 1 (two cores). " +
            $"{Implementations.DotNetSocket} is the same round trip over an AF_UNIX socketpair with `SendAsync`/`ReceiveAsync` on .NET's engine and thread pool, which cannot be pinned (`benchmarks/EpollGen.Benchmarks/Suite/SocketPingPong.cs`). " +
            $"{o.PingPongRounds} rounds × {o.PingPongRoundTrips:N0} timed round trips (after a tenth as many untimed), modes interleaved. " +
            "The mean column is the median (min–max) of the per-round means; the percentiles pool every round trip of every round.");
        var rows = new List<string[]>();
        var lines = new List<(string, string, LinePattern, double[])>();
        foreach (string placement in PingPongBenchmark.Placements.Select(p => p.Name).Append(Unpinned))
        {
            double? baseline = means.TryGetValue((placement, Implementations.RawEpoll), out List<double>? raw) ? Median(raw) : null;
            foreach (string name in means.Keys.Where(k => k.Placement == placement).Select(k => k.Name))
            {
                Summary mean = Summary.Of(means[(placement, name)]);
                double[] microseconds = samples[(placement, name)].Select(t => t * 1e6 / Stopwatch.Frequency).Order().ToArray();
                double[] percentiles = Quantiles.Select(q => Percentile(microseconds, q)).ToArray();
                rows.Add(
                [
                    placement,
                    name,
                    ChainComparison.Cell(mean, "0.00"),
                    .. percentiles.Select(p => p.ToString("0.0", CultureInfo.InvariantCulture)),
                    microseconds[^1].ToString("N0", CultureInfo.InvariantCulture),
                    baseline is { } b ? (mean.Median / b).ToString("0.000", CultureInfo.InvariantCulture) : "–",
                ]);
                LinePattern pattern = placement switch { "same core" => LinePattern.Solid, "two cores" => LinePattern.Dashed, _ => LinePattern.DenselyDashed };
                lines.Add(($"{name}, {placement}", name, pattern, percentiles));
            }
        }
        report.Table(["placement", "implementation", "mean µs per round trip, median (min–max)", "p50 µs", "p90 µs", "p99 µs", "p99.9 µs", "max µs", "mean ÷ raw epoll"], rows, leftAligned: 2);
        string chart = report.Chart("pingpong.png", "Ping-pong round-trip latency percentiles");
        Charts.Percentiles(chart, "Ping-pong wake-up round trip: latency percentiles (lower is better)", Quantiles, lines,
            "solid: both threads on one core; dashed: two cores; .NET: unpinned thread pool");
    }

    private static string NameOf(string mode) => mode == PingPongBenchmark.RawMode ? Implementations.RawEpoll : mode;

    // Nearest rank on sorted values.
    private static double Percentile(double[] sorted, double q) =>
        sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];
}
