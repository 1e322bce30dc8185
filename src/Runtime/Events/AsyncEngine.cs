using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Threading;
using EpollGen.Interop;
using EpollGen.Native;

namespace EpollGen.Events;

/// <summary>
/// One of the process's few engine threads, which serve the asynchronous waiters of every event
/// queue: each engine watches the queues assigned to it in an epoll instance of its own and serves
/// a queue's waiters when its taps have readiness, when something is posted to it, when a waiter
/// arrives or is cancelled, or when a waiter's time is up, as .NET's SocketAsyncEngine serves every
/// socket from a few threads.
/// </summary>
/// <remarks>
/// A queue is served only by its engine's thread, so its asynchronous waiters have one consumer.
/// Serving never blocks: the engine takes what the mailbox holds, looks at the taps once without
/// waiting (as the queue's driver, or beside it where the backend allows), and then waits for the
/// queue's kernel fd again (one-shot, re-armed at each serving). A queue whose taps another thread
/// is driving is not re-armed: that thread's posts and its step-down ask for the engine instead.
/// </remarks>
internal sealed unsafe class AsyncEngine
{
    /// <summary>How many engines the process runs: one per eight CPUs, at least one, at most four.</summary>
    public static readonly int Count = Math.Clamp((Environment.ProcessorCount + 7) / 8, 1, 4);

    private const ulong WakeToken = ulong.MaxValue;
    private const int EventCapacity = 64;

    private static readonly AsyncEngine?[] s_engines = new AsyncEngine?[Count];
    private static readonly Lock s_startLock = new();
    private static int s_next;

    // On an engine's thread: the queue it is serving now, or null.
    [ThreadStatic]
    private static EventQueue? t_serving;

    private readonly int _epfd;
    private readonly int _wakeFd;
    private readonly ConcurrentQueue<EventQueue> _requests = new();
    private int _wakePending;

    // Engine thread only: the queues it watches, by slot (the epoll data of their fds), their
    // earliest deadlines, and free slots.
    private readonly List<EventQueue?> _watched = [];
    private readonly List<long> _deadlines = [];
    private readonly Stack<int> _freeSlots = new();

    private AsyncEngine(int index)
    {
        _epfd = PrivateFds.CreateEpoll();
        if (_epfd < 0)
            throw new Win32Exception(Marshal.GetLastPInvokeError(), "epoll_create1 for an async engine failed");
        _wakeFd = PrivateFds.CreateEventFd();
        int error = _wakeFd < 0 ? Marshal.GetLastPInvokeError()
            : PrivateFds.Ctl(_epfd, LibC.EPOLL_CTL_ADD, _wakeFd, EpollEvents.EPOLLIN | EpollEvents.EPOLLET, WakeToken);
        if (error != 0)
        {
            if (_wakeFd >= 0)
                LibC.close(_wakeFd);
            LibC.close(_epfd);
            throw new Win32Exception(error, "the wake eventfd of an async engine failed");
        }
        var thread = new Thread(Run) { IsBackground = true, Name = "EpollGen engine" };
        LibC.StartWithProgramSignalsBlocked(() => thread.UnsafeStart(index));
    }

    /// <summary>
    /// Whether the calling thread is the engine's thread serving <paramref name="queue"/> now: its
    /// serving loop goes on until nothing is left, so it need not ask for itself.
    /// </summary>
    public static bool IsServing(EventQueue queue) => t_serving == queue;

    /// <summary>Marks the start of a queue's serving on this engine thread.</summary>
    public static void BeginServing(EventQueue queue) => t_serving = queue;

    /// <summary>Marks its end.</summary>
    public static void EndServing() => t_serving = null;

    /// <summary>The engine for a queue's first asynchronous wait: taken in turn, started on first use.</summary>
    public static AsyncEngine Assign()
    {
        int index = (int)((uint)Interlocked.Increment(ref s_next) % (uint)Count);
        if (Volatile.Read(ref s_engines[index]) is { } engine)
            return engine;
        lock (s_startLock)
            return s_engines[index] ??= new AsyncEngine(index);
    }

    /// <summary>Asks the engine to serve <paramref name="queue"/> soon. Safe from any thread, cheap when already asked.</summary>
    public void Request(EventQueue queue)
    {
        // Exchange: one entry in the requests per serving; the engine clears the flag before it
        // serves, so a request made during a serving is queued again and not lost.
        if (Interlocked.Exchange(ref queue.EngineRequested, 1) != 0)
            return;
        _requests.Enqueue(queue);
        // Exchange: one wake-up write outstanding; the engine clears the flag after it drains.
        if (Interlocked.Exchange(ref _wakePending, 1) == 0)
        {
            ulong one = 1;
            LibC.write(_wakeFd, &one, sizeof(ulong));
        }
    }

    private void Run(object? index)
    {
        byte* events = stackalloc byte[EventCapacity * EpollEvent.NativeSize];
        while (true)
        {
            int timeoutMs = TimeoutToNextDeadline();
            int ready = LibC.epoll_wait(_epfd, events, EventCapacity, timeoutMs);
            if (ready < 0 && Marshal.GetLastPInvokeError() != LibC.EINTR)
                throw new Win32Exception(Marshal.GetLastPInvokeError(), "epoll_wait of an async engine failed");
            for (int i = 0; i < ready; i++)
            {
                ulong data = EpollEvent.ReadNative(events, i).data;
                if (data == WakeToken)
                {
                    // Drained before the flag clears: epoll re-reads an item's readiness when it
                    // reports it, so a write after the flag cleared must find the counter it raised,
                    // not one this read emptied (the edge would be dropped, and no write follows
                    // while the flag is set). A request between the two is in _requests already.
                    ulong drained;
                    LibC.read(_wakeFd, &drained, sizeof(ulong));
                    // Exchange, a full fence: the clear is visible before the requests are read
                    // below, so a request that finds the flag set (and writes nothing) is one
                    // whose entry those reads see.
                    Interlocked.Exchange(ref _wakePending, 0);
                }
                else if (_watched[(int)data] is { } queue)
                {
                    Serve(queue);
                }
            }
            while (_requests.TryDequeue(out EventQueue? queue))
                Serve(queue);
            long now = Stopwatch.GetTimestamp();
            for (int slot = 0; slot < _watched.Count; slot++)
            {
                if (_watched[slot] is { } queue && _deadlines[slot] <= now)
                    Serve(queue);
            }
        }
    }

    // An exception would end the engine's thread and the process with it: the queue's waiters get
    // it instead, and the engine lets go of the queue.
    private void Serve(EventQueue queue)
    {
        // Cleared first: a request made while the queue is served queues it again (a queue served
        // for its fd or a deadline may so be in the requests twice; the second serving is cheap).
        Volatile.Write(ref queue.EngineRequested, 0);
        try
        {
            queue.ServeAsyncWaiters(this);
        }
        catch (Exception error)
        {
            queue.FailAsyncWaiters(error);
            Forget(queue);
        }
    }

    /// <summary>
    /// Called by a queue at the end of its serving, while it cannot be disposed: records whether
    /// waiters remain and their earliest deadline, and arms the watch of the queue's fd (one-shot)
    /// when <paramref name="rearm"/>.
    /// </summary>
    public void Watch(EventQueue queue, bool waiting, long deadline, bool rearm)
    {
        int slot = queue.EngineSlot;
        if (slot < 0)
        {
            if (!waiting)
                return;
            slot = _freeSlots.Count > 0 ? _freeSlots.Pop() : Grow();
            _watched[slot] = queue;
            queue.EngineSlot = slot;
            if (PrivateFds.Ctl(_epfd, LibC.EPOLL_CTL_ADD, queue.TapPollFd, Watching(rearm), (ulong)slot) is int error and not 0)
                throw new Win32Exception(error, "watching a queue's fd from an async engine failed");
        }
        else
        {
            PrivateFds.Ctl(_epfd, LibC.EPOLL_CTL_MOD, queue.TapPollFd, Watching(waiting && rearm), (ulong)slot);
        }
        _deadlines[slot] = waiting ? deadline : long.MaxValue;
    }

    /// <summary>
    /// Called by a disposed queue's last serving: its fds are closed, which took them out of the
    /// epoll instance, so only its slot goes.
    /// </summary>
    public void Forget(EventQueue queue)
    {
        int slot = queue.EngineSlot;
        if (slot < 0)
            return;
        queue.EngineSlot = -1;
        _watched[slot] = null;
        _deadlines[slot] = long.MaxValue;
        _freeSlots.Push(slot);
    }

    // One-shot: a serving re-arms it, so a queue whose taps stay ready is not reported again
    // while it is being served. Disarmed: an item with no events the kernel never reports.
    private static EpollEvents Watching(bool armed) =>
        (armed ? EpollEvents.EPOLLIN : 0) | EpollEvents.EPOLLONESHOT;

    private int Grow()
    {
        _watched.Add(null);
        _deadlines.Add(long.MaxValue);
        return _watched.Count - 1;
    }

    // Rounded up, so a waiter's time is up when the engine looks.
    private int TimeoutToNextDeadline()
    {
        long next = long.MaxValue;
        foreach (long deadline in _deadlines)
            next = Math.Min(next, deadline);
        return next == long.MaxValue ? -1 : EventQueue.Milliseconds(next - Stopwatch.GetTimestamp());
    }
}
