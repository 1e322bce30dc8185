using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using EpollGen.Benchmarks.Chain;
using static EpollGen.Benchmarks.Suite.AsyncFdPingPong;

namespace EpollGen.Benchmarks.Suite;

/// <summary>
/// AsyncFd against .NET's own async I/O on the same ping-pong (issue 19): over a socketpair
/// against <c>Socket.ReceiveAsync</c>/<c>SendAsync</c>, over two pipes against the anonymous
/// PipeStreams, with raw epoll from C# as the floor, and what each allocates per round trip.
/// </summary>
internal static class AsyncFdComparison
{
    private const string DotNetPipeStream = ".NET PipeStream async";
    private const string AsyncFdEpoll = "AsyncFd, epoll taps";
    private const string AsyncFdIoUring = "AsyncFd, io_uring taps";
    private const string RawEpollOneCpu = "raw epoll (C#), one CPU";

    // An allocation per await is at least 24 bytes (an object header and a field), four awaits per
    // round trip; a few hundred bytes once per run (a pool thread started, a method tiered up)
    // come to hundredths of a byte per round trip.
    private const double NothingPerRoundTrip = 1;

    public static void Run(SuiteOptions o, bool ioUring, SuiteReport report, TextWriter log)
    {
        Kind[] kinds = ioUring
            ? [Kind.DotNet, Kind.AsyncFdEpoll, Kind.AsyncFdIoUring, Kind.RawEpoll, Kind.RawEpollOneCpu]
            : [Kind.DotNet, Kind.AsyncFdEpoll, Kind.RawEpoll, Kind.RawEpollOneCpu];
        Transport[] transports = [Transport.SocketPair, Transport.Pipes];
        var results = new Dictionary<(Transport, int Size, Kind), List<Result>>();
        foreach (Transport transport in transports)
        {
            foreach (Kind kind in kinds)
                EpollBenchmark.WarmUp(() => Measure(kind, transport, o.AsyncFdSizes[0], o.AsyncFdRoundTrips / 10), o.WarmUp);
        }
        for (int round = 0; round < o.AsyncFdRounds; round++)
        {
            foreach (Transport transport in transports)
            {
                foreach (int size in o.AsyncFdSizes)
                {
                    foreach (Kind kind in ChainComparison.Rotate(kinds, round))
                    {
                        if (!results.TryGetValue((transport, size, kind), out List<Result>? list))
                            results[(transport, size, kind)] = list = [];
                        list.Add(Measure(kind, transport, size, o.AsyncFdRoundTrips));
                    }
                }
            }
            log.WriteLine($"asyncfd: round {round + 1}/{o.AsyncFdRounds} done");
        }

        report.Heading("AsyncFd against .NET's async sockets and pipe streams");
        report.Paragraph(
            "Two ends pass a message back and forth, each answering the other's; a round trip is one message each way. " +
            "Over a socketpair (AF_UNIX, stream) the baseline is .NET's `Socket.SendAsync`/`ReceiveAsync(Memory<byte>)` on both ends, waiting in .NET's epoll engine; " +
            "over two pipes (one per direction) it is .NET's `AnonymousPipeServerStream`/`AnonymousPipeClientStream` `WriteAsync`/`ReadAsync`, which wait in that engine too. " +
            "The AsyncFd rows are `AsyncFd.WriteAsync`/`ReadAsync` on the same kind of fds, nonblocking, on engines whose sets use epoll taps or io_uring taps; " +
            "AsyncFd and .NET both run the awaiting code on the thread pool. " +
            "The raw epoll rows are the kernel's path with nothing above it: a thread per end that writes, then blocks in `epoll_wait` (level-triggered) and reads; " +
            "unpinned, or with both threads on the last CPU, where a hop is a switch on one CPU rather than a wake-up of another. " +
            "Unpinned raw threads can come out slower than .NET on a quiet machine: each hop wakes a thread asleep on an idle virtual CPU, " +
            "where the thread pool's spinning workers catch most completions awake. " +
            $"Each run builds fresh fds, runs {o.AsyncFdRoundTrips / 10:N0} round trips untimed, then times {o.AsyncFdRoundTrips:N0}; " +
            $"{o.AsyncFdRounds} rounds with the implementations interleaved; cells give the median and min–max of the round values, and the ratio is to the median of .NET's row. " +
            "Bytes allocated are the whole process's (`GC.GetTotalAllocatedBytes(precise: true)`) over the timed round trips, per round trip " +
            "(`benchmarks/EpollGen.Benchmarks/Suite/AsyncFdPingPong.cs`).");
        var rows = new List<string[]>();
        foreach (Transport transport in transports)
        {
            foreach (int size in o.AsyncFdSizes)
            {
                double baseline = Statistics.Median(Rates(results[(transport, size, Kind.DotNet)]));
                foreach (Kind kind in kinds)
                {
                    List<Result> runs = results[(transport, size, kind)];
                    Summary rate = Summary.Of(Rates(runs));
                    rows.Add(
                    [
                        transport == Transport.SocketPair ? "socketpair" : "two pipes",
                        size.ToString("N0", CultureInfo.InvariantCulture),
                        NameOf(kind, transport),
                        ChainComparison.Cell(rate, "N0"),
                        (rate.Median / baseline).ToString("0.00", CultureInfo.InvariantCulture) + "×",
                        ChainComparison.Cell(Summary.Of(runs.Select(r => r.BytesPerRoundTrip).ToList()), "0.00"),
                    ]);
                }
            }
        }
        report.Table(["transport", "message bytes", "implementation", "round trips/s, median (min–max)", "÷ .NET",
            "bytes allocated per round trip, median (min–max)"], rows, leftAligned: 3);
        report.Paragraph(AllocationCheck(results));
    }

    private static string NameOf(Kind kind, Transport transport) => kind switch
    {
        Kind.DotNet => transport == Transport.SocketPair ? Implementations.DotNetSocket : DotNetPipeStream,
        Kind.AsyncFdEpoll => AsyncFdEpoll,
        Kind.AsyncFdIoUring => AsyncFdIoUring,
        Kind.RawEpoll => Implementations.RawEpoll,
        _ => RawEpollOneCpu,
    };

    private static List<double> Rates(List<Result> runs) => runs.Select(r => r.RoundTripsPerSecond).ToList();

    // Issue 19 asks that an await allocate nothing once warm; every round is warm (untimed round
    // trips first, and untimed runs of each path before the rounds).
    private static string AllocationCheck(Dictionary<(Transport, int Size, Kind), List<Result>> results)
    {
        double worst = results
            .Where(r => r.Key.Item3 is Kind.AsyncFdEpoll or Kind.AsyncFdIoUring)
            .SelectMany(r => r.Value)
            .Max(r => r.BytesPerRoundTrip);
        string most = worst.ToString("0.00", CultureInfo.InvariantCulture);
        return worst < NothingPerRoundTrip
            ? $"Allocation check: passed. AsyncFd allocated at most {most} bytes per round trip (four awaits) in any round, " +
                $"below the bar of {NothingPerRoundTrip:0} byte (one allocation per await would be 96 or more): nothing per await once warm."
            : $"Allocation check: **failed**. AsyncFd allocated up to {most} bytes per round trip (four awaits) in a round; " +
                "once warm it should allocate nothing per await.";
    }
}
