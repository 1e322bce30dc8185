using System;
using System.Diagnostics;
using System.Runtime.InteropServices;
using EpollGen.Interop;

namespace EpollGen.Benchmarks.Chain;

/// <summary>
/// The workload of libevent's test/bench.c, written for this project from its description
/// (perf-anchors.md §1): <c>pairs</c> AF_UNIX socketpairs, <c>active</c> of them written once, and
/// <c>writes</c> chained writes: each byte read makes one byte be sent into the next pair. Per
/// iteration, untimed: DEL + ADD of every read end and one zero-timeout wait; timed: zero-timeout
/// waits and their callbacks until every byte sent has been read.
/// </summary>
internal sealed unsafe class ChainWorkload : IDisposable
{
    private const int AF_UNIX = 1, SOCK_STREAM = 1, SOCK_NONBLOCK = 0x800, SOCK_CLOEXEC = 0x80000;
    private const int EPOLL_CTL_ADD = 1, EPOLL_CTL_DEL = 2, MaxEvents = 1024;

    private readonly int _pairs;
    private readonly int _active;
    private readonly int _writes;
    private readonly bool _edgeTriggered;
    private readonly int[] _fds;
    private readonly byte* _events = (byte*)NativeMemory.Alloc((nuint)(MaxEvents * EpollEvent.NativeSize));

    public ChainWorkload(int pairs, int active, int writes, bool edgeTriggered)
    {
        _pairs = pairs;
        _active = active;
        _writes = writes;
        _edgeTriggered = edgeTriggered;
        _fds = new int[2 * pairs];
        int* pair = stackalloc int[2];
        for (int i = 0; i < pairs; i++)
        {
            if (Sys.socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) != 0)
                throw new InvalidOperationException($"socketpair failed after {i} pairs: errno {Marshal.GetLastPInvokeError()}");
            _fds[2 * i] = pair[0];
            _fds[2 * i + 1] = pair[1];
        }
    }

    /// <summary>Runs <paramref name="iterations"/> iterations on a fresh set; returns each one's time in µs.</summary>
    public double[] Run<TApi>(int iterations)
        where TApi : IEpollApi
    {
        int epfd = TApi.Create();
        if (epfd < 0)
            throw new InvalidOperationException($"{TApi.Name}: epoll_create1 failed: errno {Marshal.GetLastPInvokeError()}");
        try
        {
            var times = new double[iterations];
            for (int i = 0; i < iterations; i++)
                times[i] = RunOnce<TApi>(epfd, first: i == 0);
            return times;
        }
        finally
        {
            TApi.Close(epfd);
        }
    }

    private double RunOnce<TApi>(int epfd, bool first)
        where TApi : IEpollApi
    {
        EpollEvents mask = EpollEvents.EPOLLIN | (_edgeTriggered ? EpollEvents.EPOLLET : 0);
        byte* ev = stackalloc byte[16];
        for (int i = 0; i < _pairs; i++)
        {
            int fd = _fds[2 * i];
            if (!first)
                TApi.Ctl(epfd, EPOLL_CTL_DEL, fd, null);
            EpollEvent.WriteNative(ev, 0, new EpollEvent { Events = mask, data = (ulong)i });
            if (TApi.Ctl(epfd, EPOLL_CTL_ADD, fd, ev) != 0)
                throw new InvalidOperationException($"{TApi.Name}: epoll_ctl ADD failed: errno {Marshal.GetLastPInvokeError()}");
        }
        TApi.Wait(epfd, _events, MaxEvents, 0);

        int space = _pairs / _active;
        int fired = 0, count = 0, writes = _writes;
        byte e = (byte)'e';
        byte* drained = stackalloc byte[64];
        for (int i = 0; i < _active; i++, fired++)
            Sys.send(_fds[2 * (i * space) + 1], &e, 1, 0);

        long start = Stopwatch.GetTimestamp();
        while (count != fired)
        {
            int ready = TApi.Wait(epfd, _events, MaxEvents, 0);
            for (int i = 0; i < ready; i++)
            {
                int index = (int)EpollEvent.ReadNative(_events, i).data;
                // Level-triggered: one byte per event, as bench.c's callback. Edge-triggered: drain
                // what piled up, 64 bytes a recv, to EAGAIN; every byte still makes one chained
                // write, so the bytes moved are the same.
                nint got;
                do
                {
                    got = Sys.recv(_fds[2 * index], drained, _edgeTriggered ? (nuint)64 : 1, 0);
                    for (nint b = 0; b < got; b++)
                    {
                        count++;
                        if (writes > 0)
                        {
                            int next = index + 1 == _pairs ? 0 : index + 1;
                            Sys.send(_fds[2 * next + 1], &e, 1, 0);
                            writes--;
                            fired++;
                        }
                    }
                }
                while (_edgeTriggered && got > 0);
            }
        }
        return Stopwatch.GetElapsedTime(start).TotalMicroseconds;
    }

    public void Dispose()
    {
        foreach (int fd in _fds)
            Sys.close(fd);
        NativeMemory.Free(_events);
    }
}
