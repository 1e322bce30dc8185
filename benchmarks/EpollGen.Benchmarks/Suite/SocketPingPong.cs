using System;
using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading.Tasks;
using EpollGen.Benchmarks.Chain;

namespace EpollGen.Benchmarks.Suite;

/// <summary>
/// The ping-pong round trip written with .NET sockets: an AF_UNIX socketpair, one async loop per
/// end, each hop a one-byte <c>SendAsync</c> answered by the peer's awaited <c>ReceiveAsync</c>.
/// The loops run on .NET's thread pool and its epoll engine, which cannot be pinned the way the
/// raw and EpollGen threads are; the suite shows it unpinned, beside the two-core runs.
/// </summary>
internal static class SocketPingPong
{
    /// <summary>µs per round trip over <paramref name="roundTrips"/>; each round trip's ticks go to <paramref name="roundTripTicks"/>.</summary>
    public static unsafe double Measure(int roundTrips, long[] roundTripTicks)
    {
        int* pair = stackalloc int[2];
        if (Sys.socketpair(1, 1 | 0x80000, 0, pair) != 0)
            throw new InvalidOperationException($"socketpair failed: errno {Marshal.GetLastPInvokeError()}");
        using var ping = new Socket(new SafeSocketHandle(pair[0], ownsHandle: true));
        using var pong = new Socket(new SafeSocketHandle(pair[1], ownsHandle: true));
        Task echo = Task.Run(() => Pong(pong));
        double microseconds = Task.Run(() => Ping(ping, roundTrips, roundTripTicks)).GetAwaiter().GetResult();
        ping.Shutdown(SocketShutdown.Send);
        echo.GetAwaiter().GetResult();
        return microseconds;
    }

    private static async Task<double> Ping(Socket socket, int roundTrips, long[] roundTripTicks)
    {
        var buffer = new byte[1];
        int warmUp = roundTrips / 10;
        long start = 0;
        for (int i = 0; i < warmUp + roundTrips; i++)
        {
            if (i == warmUp)
                start = Stopwatch.GetTimestamp();
            long sent = Stopwatch.GetTimestamp();
            await socket.SendAsync(buffer.AsMemory(), SocketFlags.None).ConfigureAwait(false);
            if (await socket.ReceiveAsync(buffer.AsMemory(), SocketFlags.None).ConfigureAwait(false) != 1)
                throw new InvalidOperationException("the pong side closed early");
            if (i >= warmUp)
                roundTripTicks[i - warmUp] = Stopwatch.GetTimestamp() - sent;
        }
        return Stopwatch.GetElapsedTime(start).TotalMicroseconds / roundTrips;
    }

    private static async Task Pong(Socket socket)
    {
        var buffer = new byte[1];
        while (await socket.ReceiveAsync(buffer.AsMemory(), SocketFlags.None).ConfigureAwait(false) == 1)
            await socket.SendAsync(buffer.AsMemory(), SocketFlags.None).ConfigureAwait(false);
    }
}
