using System;
using System.Diagnostics;
using System.Threading;
using BenchmarkDotNet.Attributes;
using EpollGen.Benchmarks.Chain;
using EpollGen.Events;
using EpollGen.Interop;

namespace EpollGen.Benchmarks;

/// <summary>
/// The steps of one move of the concurrent-waiters one-shot pool, on one thread, against raw
/// epoll: a MOD that re-arms an EPOLLIN|EPOLLONESHOT eventfd that stays readable, and the wait
/// that reports it (maxevents 1, timeout 10 ms, as the pool's workers wait), then the parts of
/// EpollGen's path one at a time, so the cost above raw epoll can be broken down step by step.
/// </summary>
/// <remarks>
/// The pool's other system calls (the eventfd read and write) are the same for both and left out.
/// </remarks>
public unsafe class OneShotStepBenchmarks
{
    private const int Mod = 3, Add = 1;

    private int _raw, _gen, _rawFd, _genFd, _rawLevel, _genLevel, _rawLevelFd, _genLevelFd;
    private byte* _event;
    private byte* _events;
    private CoalescingEventQueue _ceq = null!;
    private CeqId _id;
    private readonly Lock _lock = new();
    private readonly CeqMessage[] _messages = new CeqMessage[64];
    private int _counter;

    [GlobalSetup]
    public void Setup()
    {
        _event = (byte*)System.Runtime.InteropServices.NativeMemory.Alloc(16);
        _events = (byte*)System.Runtime.InteropServices.NativeMemory.Alloc(16);
        Environment.SetEnvironmentVariable("EPOLLGEN_TAP_BACKEND", "epoll");
        _raw = RawEpoll.Create();
        _gen = EpollGenEpoll.Create();
        _rawLevel = RawEpoll.Create();
        _genLevel = EpollGenEpoll.Create();
        _rawFd = ReadableEventFd();
        _genFd = ReadableEventFd();
        _rawLevelFd = ReadableEventFd();
        _genLevelFd = ReadableEventFd();
        Ctl<RawEpoll>(_raw, Add, _rawFd, EpollEvents.EPOLLIN | EpollEvents.EPOLLONESHOT);
        Ctl<EpollGenEpoll>(_gen, Add, _genFd, EpollEvents.EPOLLIN | EpollEvents.EPOLLONESHOT);
        Ctl<RawEpoll>(_rawLevel, Add, _rawLevelFd, EpollEvents.EPOLLIN);
        Ctl<EpollGenEpoll>(_genLevel, Add, _genLevelFd, EpollEvents.EPOLLIN);
        _ceq = new CoalescingEventQueue();
        _id = _ceq.Allocate(7);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (int fd in new[] { _rawFd, _genFd, _rawLevelFd, _genLevelFd })
            Epoll.close(fd);
        RawEpoll.Close(_raw);
        RawEpoll.Close(_rawLevel);
        EpollGenEpoll.Close(_gen);
        EpollGenEpoll.Close(_genLevel);
        _ceq.Dispose();
    }

    /// <summary>One move's epoll calls, raw: MOD, then the wait that reports the re-armed fd.</summary>
    [Benchmark(Baseline = true)]
    public int RawModAndWait()
    {
        Ctl<RawEpoll>(_raw, Mod, _rawFd, EpollEvents.EPOLLIN | EpollEvents.EPOLLONESHOT);
        return RawEpoll.Wait(_raw, _events, 1, 10);
    }

    /// <summary>The same through EpollGen's libc-shaped API on a kernel-epoll set.</summary>
    [Benchmark]
    public int EpollGenModAndWait()
    {
        Ctl<EpollGenEpoll>(_gen, Mod, _genFd, EpollEvents.EPOLLIN | EpollEvents.EPOLLONESHOT);
        return EpollGenEpoll.Wait(_gen, _events, 1, 10);
    }

    /// <summary>MOD alone, raw.</summary>
    [Benchmark]
    public int RawMod() => Ctl<RawEpoll>(_raw, Mod, _rawFd, EpollEvents.EPOLLIN | EpollEvents.EPOLLONESHOT);

    /// <summary>MOD alone, EpollGen.</summary>
    [Benchmark]
    public int EpollGenMod() => Ctl<EpollGenEpoll>(_gen, Mod, _genFd, EpollEvents.EPOLLIN | EpollEvents.EPOLLONESHOT);

    /// <summary>A wait that reports a level-triggered readable fd, raw.</summary>
    [Benchmark]
    public int RawWaitReady() => RawEpoll.Wait(_rawLevel, _events, 1, 10);

    /// <summary>The same through EpollGen.</summary>
    [Benchmark]
    public int EpollGenWaitReady() => EpollGenEpoll.Wait(_genLevel, _events, 1, 10);

    /// <summary>The CEQ hop of one event: a post and the take that collects it.</summary>
    [Benchmark]
    public int CeqPostAndTake()
    {
        _ceq.Post(_id, 1);
        return _ceq.TryTake(_messages.AsSpan());
    }

    /// <summary>One uncontended System.Threading.Lock, as the set's and the backend's.</summary>
    [Benchmark]
    public int LockEnterExit()
    {
        lock (_lock)
            return _messages.Length;
    }

    /// <summary>One read of the monotonic clock (Stopwatch.GetTimestamp).</summary>
    [Benchmark]
    public long ClockRead() => Stopwatch.GetTimestamp();

    /// <summary>One uncontended atomic increment and decrement.</summary>
    [Benchmark]
    public int AtomicPair()
    {
        Interlocked.Increment(ref _counter);
        return Interlocked.Decrement(ref _counter);
    }

    private static int Ctl<TApi>(int set, int op, int fd, EpollEvents events)
        where TApi : IEpollApi
    {
        byte* native = stackalloc byte[EpollEvent.NativeSize];
        EpollEvent.WriteNative(native, 0, new EpollEvent { Events = events, data = (ulong)fd });
        if (TApi.Ctl(set, op, fd, native) != 0)
            throw new InvalidOperationException($"{TApi.Name}: epoll_ctl({op}) of fd {fd} failed");
        return 0;
    }

    private static int ReadableEventFd()
    {
        int fd = Sys.eventfd(1, 0x80800);
        if (fd < 0)
            throw new InvalidOperationException("eventfd failed");
        return fd;
    }
}
