using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Threading;
using EpollGen.Echo.Baseline;
using EpollGen.Echo.Load;
using EpollGen.Echo.Report;
using EpollGen.Echo.Server;

namespace EpollGen.Echo;

/// <summary>
/// The main job: an edge-triggered echo server on EpollSet and an echo server on .NET's Socket
/// async API, each driven by the same closed-loop load generator over loopback in this one
/// process, one after the other, with a live progress line and then a table and the ratio.
/// </summary>
public static class Program
{
    public static int Main(string[] args) =>
        new EchoCommand().Invoke(args, options => options.ServerOnly ? ServeOnly(options) : Compare(options));

    private static EchoServerOptions ServerOptions(EchoOptions options, int port) => new()
    {
        Port = port,
        Loops = options.Loops,
        OutputLimit = options.OutputLimit,
        IdleTimeout = options.IdleTimeoutSeconds is { } idle ? TimeSpan.FromSeconds(idle) : null,
        Backend = options.Backend,
    };

    private static int ServeOnly(EchoOptions options)
    {
        using var ceq = new CeqCounters();
        using var server = new EpollEchoServer(ServerOptions(options, options.Port));
        Console.WriteLine($"EpollGen echo on 127.0.0.1:{server.Port}: {options.Loops} loop(s), tap backend {server.Backend}. Ctrl+C stops.");
        if (EchoSets.Mismatch(options.Backend, server.Sets[0].Queue.TapBackend) is { } note)
            Console.WriteLine(note);
        using var stop = new ManualResetEventSlim();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Set();
        };
        var progress = new ProgressLine(Console.Out);
        while (!stop.Wait(TimeSpan.FromSeconds(1)))
        {
            CeqSnapshot s = ceq.Snapshot();
            progress.Update($"connections {server.ConnectionCount}, accepted {server.Accepted}, CEQ posts {s.Posts:N0}, coalesced {s.CoalescedPosts:N0}, overflows {s.Overflows:N0}");
        }
        progress.End();
        return 0;
    }

    private static int Compare(EchoOptions options)
    {
        TextWriter output = Console.Out;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"EpollGen echo vs .NET Socket: {options.Connections} connections, {options.Size}-byte messages, {options.Seconds}s measured after {options.WarmupSeconds}s warm-up, {options.Rounds} round(s)"));
        output.WriteLine($"client: {options.ClientThreads} thread(s), each a raw kernel epoll over its connections, closed loop; EpollGen server: {options.Loops} loop(s); {Environment.ProcessorCount} CPUs");
        using var ceq = new CeqCounters();
        var rows = new List<Row>();
        string? note = null;
        for (int round = 1; round <= options.Rounds; round++)
        {
            // Alternating who goes first cancels out warm-machine and thermal drift between the two.
            bool epollFirst = round % 2 == 1;
            for (int turn = 0; turn < 2; turn++)
            {
                bool epoll = epollFirst == (turn == 0);
                rows.Add(epoll ? RunEpoll(options, round, ceq, ref note) : RunBaseline(options, round));
                // Garbage from one server's run is not the next one's pause.
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
        }
        output.WriteLine();
        Table.Print(output, rows, "EpollGen", ".NET Socket");
        if (note is not null)
            output.WriteLine(note);
        long errors = 0;
        foreach (Row row in rows)
            errors += row.Errors;
        return errors == 0 ? 0 : 1;
    }

    private static Row RunEpoll(EchoOptions options, int round, CeqCounters ceq, ref string? note)
    {
        using var server = new EpollEchoServer(ServerOptions(options, 0));
        note ??= EchoSets.Mismatch(options.Backend, server.Sets[0].Queue.TapBackend);
        CeqSnapshot before = ceq.Snapshot();
        LoadResult result = Drive(server, options, round);
        CeqSnapshot during = ceq.Snapshot() - before;
        return ToRow(round, server, options, result, during);
    }

    private static Row RunBaseline(EchoOptions options, int round)
    {
        using var server = new SocketEchoServer();
        return ToRow(round, server, options, Drive(server, options, round), null);
    }

    private static LoadResult Drive(IEchoServer server, EchoOptions options, int round)
    {
        var progress = new ProgressLine(Console.Out);
        string label = $"round {round} {server.Name,-11}";
        LoadResult result = LoadGenerator.Run(new LoadOptions
        {
            Port = server.Port,
            Connections = options.Connections,
            MessageSize = options.Size,
            Duration = TimeSpan.FromSeconds(options.Seconds),
            Warmup = TimeSpan.FromSeconds(options.WarmupSeconds),
            Threads = options.ClientThreads,
        }, p => progress.Update(p.WarmingUp
            ? string.Create(CultureInfo.InvariantCulture, $"{label} warming up {p.Seconds,5:0.0}s   rps {p.RequestsPerSecond,10:N0}")
            : string.Create(CultureInfo.InvariantCulture, $"{label} {p.Seconds,5:0.0}s/{options.Seconds:0.#}s  requests {p.Requests,12:N0}  rps {p.RequestsPerSecond,10:N0}")));
        progress.Update(string.Create(CultureInfo.InvariantCulture,
            $"{label} done: {result.Requests:N0} requests, {result.RequestsPerSecond:N0}/s, p99 {result.Latency.Microseconds(0.99):0.0} µs, errors {result.Errors}"));
        progress.End();
        return result;
    }

    private static Row ToRow(int round, IEchoServer server, EchoOptions options, LoadResult result, CeqSnapshot? ceq) => new(
        round, server.Name, options.Connections, options.Size, result.RequestsPerSecond,
        result.Latency.Microseconds(0.50), result.Latency.Microseconds(0.99), result.Latency.Microseconds(0.999),
        result.Errors, server.Backend, ceq);
}
