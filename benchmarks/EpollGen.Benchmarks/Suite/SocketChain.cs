using System;
using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using EpollGen.Benchmarks.Chain;

namespace EpollGen.Benchmarks.Suite;

/// <summary>
/// The chain workload written the way .NET code would write it: every read end is a
/// <see cref="Socket"/> with one async loop awaiting one-byte <c>ReceiveAsync</c>s (one byte per
/// callback, as the level-triggered C workload), and each byte read makes one chained
/// <c>Send</c> into the next pair. .NET's own epoll engine and thread pool dispatch the
/// completions. There is nothing to re-register per iteration, and because the engine starts
/// reading as soon as the first byte lands, the timed part includes the <c>active</c> first sends.
/// </summary>
internal sealed class SocketChain : IDisposable
{
    private static readonly TimeSpan StallLimit = TimeSpan.FromSeconds(10);

    private readonly Socket[] _readEnds;
    private readonly Socket[] _writeEnds;
    private readonly Task[] _loops;
    private readonly int _active;
    private readonly int _writes;
    private readonly ManualResetEventSlim _done = new();
    private int _writesLeft;
    private int _received;
    private int _total;

    public unsafe SocketChain(int pairs, int active, int writes)
    {
        _active = active;
        _writes = writes;
        _readEnds = new Socket[pairs];
        _writeEnds = new Socket[pairs];
        int* pair = stackalloc int[2];
        for (int i = 0; i < pairs; i++)
        {
            if (Sys.socketpair(1, 1 | 0x80000, 0, pair) != 0)
            {
                Dispose();
                throw new InvalidOperationException($"socketpair failed after {i} pairs: errno {Marshal.GetLastPInvokeError()}");
            }
            _readEnds[i] = new Socket(new SafeSocketHandle(pair[0], ownsHandle: true));
            _writeEnds[i] = new Socket(new SafeSocketHandle(pair[1], ownsHandle: true));
        }
        _loops = new Task[pairs];
        for (int i = 0; i < pairs; i++)
            _loops[i] = ReadLoop(i);
    }

    /// <summary>Runs <paramref name="iterations"/> iterations; returns each one's time in µs.</summary>
    public double[] Run(int iterations)
    {
        var times = new double[iterations];
        int space = _readEnds.Length / _active;
        ReadOnlySpan<byte> e = "e"u8;
        for (int n = 0; n < iterations; n++)
        {
            _done.Reset();
            Volatile.Write(ref _received, 0);
            Volatile.Write(ref _writesLeft, _writes);
            Volatile.Write(ref _total, _active + _writes);
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < _active; i++)
                _writeEnds[i * space].Send(e);
            if (!_done.Wait(StallLimit))
                throw new InvalidOperationException($"{Implementations.DotNetSocket}: {Volatile.Read(ref _received)} of {_active + _writes} bytes read after {StallLimit.TotalSeconds} s");
            times[n] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }
        return times;
    }

    private async Task ReadLoop(int index)
    {
        // Yield first, so the constructor does not run every loop's first receive inline.
        await Task.Yield();
        var buffer = new byte[1];
        Socket next = _writeEnds[index + 1 == _writeEnds.Length ? 0 : index + 1];
        try
        {
            while (await _readEnds[index].ReceiveAsync(buffer.AsMemory(), SocketFlags.None).ConfigureAwait(false) == 1)
            {
                // The send comes before the count: when the last byte is counted, every chained
                // write it could have caused has already been sent and received.
                if (Interlocked.Decrement(ref _writesLeft) >= 0)
                    next.Send(buffer);
                if (Interlocked.Increment(ref _received) == Volatile.Read(ref _total))
                    _done.Set();
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // Disposed at the end: the pending receive fails, and the loop is over.
        }
    }

    public void Dispose()
    {
        foreach (Socket? socket in _readEnds)
            socket?.Dispose();
        foreach (Socket? socket in _writeEnds)
            socket?.Dispose();
        if (_loops is not null)
            Task.WaitAll(_loops, TimeSpan.FromSeconds(10));
        _done.Dispose();
    }
}
