using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using EpollGen.Echo.Baseline;
using EpollGen.Echo.Load;
using EpollGen.Echo.Server;
using EpollGen.Taps;

namespace EpollGen.Benchmarks.Suite;

/// <summary>
/// The echo sample's workload: its closed-loop load generator against its EpollGen server on each
/// tap backend, its .NET Socket server, and the same server shape on raw epoll from C#, one server
/// at a time in this process, the order rotating per round.
/// </summary>
internal static class EchoComparison
{
    private sealed record Measured(double RequestsPerSecond, double P50, double P99, double P999, long Errors);

    public static void Run(SuiteOptions o, IReadOnlyList<string> implementations, SuiteReport report, TextWriter log)
    {
        string[] servers = [.. implementations, Implementations.DotNetSocket];
        var results = servers.ToDictionary(s => s, _ => new List<Measured>());
        var notes = new List<string>();
        for (int round = 0; round < o.EchoRounds; round++)
        {
            foreach (string name in ChainComparison.Rotate(servers, round))
            {
                using (IEchoServer server = Start(name))
                {
                    if (name == Implementations.IoUringTaps && server.Backend != "io_uring")
                        notes.Add($"the io_uring server ran on the {server.Backend} tap backend");
                    LoadResult r = LoadGenerator.Run(new LoadOptions
                    {
                        Port = server.Port,
                        Connections = o.EchoConnections,
                        MessageSize = o.EchoSize,
                        Duration = TimeSpan.FromSeconds(o.EchoSeconds),
                        Warmup = TimeSpan.FromSeconds(o.EchoWarmupSeconds),
                        Threads = Math.Max(1, Environment.ProcessorCount / 2),
                    });
                    results[name].Add(new Measured(r.RequestsPerSecond, r.Latency.Microseconds(0.50), r.Latency.Microseconds(0.99), r.Latency.Microseconds(0.999), r.Errors));
                }
                // One server's garbage is not the next one's pause.
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
            log.WriteLine($"echo: round {round + 1}/{o.EchoRounds} done");
        }

        report.Heading("Echo server throughput");
        report.Paragraph(
            $"The echo sample's workload (samples/EpollGen.Echo, referenced by this program): {o.EchoConnections} loopback TCP connections, {o.EchoSize}-byte messages, " +
            $"closed loop, driven by the sample's load generator (raw kernel epoll, {Math.Max(1, Environment.ProcessorCount / 2)} thread(s)). " +
            $"Servers: the sample's edge-triggered EpollSet server on each tap backend (one loop per CPU), its .NET Socket async server, and `benchmarks/EpollGen.Benchmarks/Suite/RawEpollEchoServer.cs`, " +
            $"the same loop shape on the kernel's epoll from C#. {o.EchoRounds} rounds of {o.EchoSeconds:0.#} s after {o.EchoWarmupSeconds:0.#} s of warm-up per server, the order rotating; " +
            "requests/s gives the median and min–max of the rounds, the latency columns the median of the rounds' percentiles. " +
            "The client shares the machine's CPUs with the server, so this measures the pair.");
        if (notes.Count > 0)
            report.Bullets(notes.Distinct());
        double baseline = Statistics.Median(results[Implementations.DotNetSocket].Select(m => m.RequestsPerSecond).ToList());
        var rows = new List<string[]>();
        var bars = new List<(string, Summary)>();
        foreach (string name in servers)
        {
            List<Measured> m = results[name];
            Summary rps = Summary.Of(m.Select(x => x.RequestsPerSecond).ToList());
            bars.Add((name, rps));
            rows.Add(
            [
                name,
                ChainComparison.Cell(rps, "N0"),
                Statistics.Median(m.Select(x => x.P50).ToList()).ToString("N0", CultureInfo.InvariantCulture),
                Statistics.Median(m.Select(x => x.P99).ToList()).ToString("N0", CultureInfo.InvariantCulture),
                Statistics.Median(m.Select(x => x.P999).ToList()).ToString("N0", CultureInfo.InvariantCulture),
                m.Sum(x => x.Errors).ToString(CultureInfo.InvariantCulture),
                (rps.Median / baseline).ToString("0.00", CultureInfo.InvariantCulture) + "×",
            ]);
        }
        report.Table(["server", "requests/s, median (min–max)", "p50 µs", "p99 µs", "p99.9 µs", "errors", $"requests/s ÷ {Implementations.DotNetSocket}"], rows);
        string chart = report.Chart("echo.png", "Echo server throughput");
        Charts.Bars(chart, string.Create(CultureInfo.InvariantCulture, $"Echo over loopback TCP, {o.EchoConnections} connections, {o.EchoSize}-byte messages (higher is better)"),
            "requests per second", bars, "bars: median over rounds; whiskers: min–max of the rounds");
    }

    private static IEchoServer Start(string name) => name switch
    {
        Implementations.RawEpoll => new RawEpollEchoServer(Environment.ProcessorCount),
        Implementations.EpollTaps => new EpollEchoServer(new EchoServerOptions { Backend = TapBackendKind.Epoll }),
        Implementations.IoUringTaps => new EpollEchoServer(new EchoServerOptions { Backend = TapBackendKind.IoUring }),
        Implementations.DotNetSocket => new SocketEchoServer(),
        _ => throw new ArgumentException($"no echo server named {name}", nameof(name)),
    };
}
