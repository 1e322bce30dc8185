using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using EpollGen.Interop;
using EpollGen.Native;
using EpollGen.Taps;

namespace EpollGen;

/// <summary>
/// One of the process's few AsyncFd engines: a thread that waits on an EpollSet of its own, in
/// which every <see cref="AsyncFd"/> it serves is registered edge-triggered, and hands each event
/// to its AsyncFd, as .NET's SocketAsyncEngine hands epoll's events to sockets.
/// </summary>
internal sealed class AsyncFdEngine
{
    private const int EventCapacity = 256;

    private static readonly Lock s_startLock = new();
    private static readonly Dictionary<TapBackendKind, AsyncFdEngine[]> s_byBackend = [];
    private static AsyncFdEngine[]? s_default;

    private readonly EpollSet _set;
    private readonly Lock _lock = new();

    // The registrations, by slot (the low half of their epoll data); the high half is the slot's
    // generation, so an event harvested before a slot was reused finds a token that differs.
    // Replaced, never resized in place: the engine thread reads it without the lock.
    private Entry?[] _slots = new Entry?[64];
    private uint[] _generations = new uint[64];
    private readonly Stack<int> _free = new();
    private int _used;

    /// <summary>
    /// One AsyncFd's place in an engine. It holds the AsyncFd weakly, so that one dropped without
    /// Dispose is finalized (and its registration and fd go), and strongly only while an await of
    /// it is in flight, so that the await and the code waiting on it stay alive.
    /// </summary>
    internal sealed class Entry(AsyncFd fd, ulong token)
    {
        public readonly WeakReference<AsyncFd> Fd = new(fd);
        public readonly ulong Token = token;
        public AsyncFd? AwaitedForReading;
        public AsyncFd? AwaitedForWriting;
    }

    private AsyncFdEngine(TapBackendKind? backend, int index)
    {
        // trustTaps: an AsyncFd reads and writes until EAGAIN, so an edge reported from an io_uring
        // completion without its poll(2) re-read costs at most one EAGAIN, and saves a system call.
        _set = new EpollSet(closeOnExec: true, backend, trustTaps: true);
        var thread = new Thread(Run) { IsBackground = true, Name = $"EpollGen AsyncFd engine {index}" };
        LibC.StartWithProgramSignalsBlocked(() => thread.UnsafeStart());
    }

    /// <summary>The tap backend of this engine's set.</summary>
    public TapBackendKind TapBackend => _set.TapBackend;

    /// <summary>The engine for <paramref name="fd"/> among the default engines, started on first use.</summary>
    public static AsyncFdEngine For(int fd) => Pick(s_default ?? Start(ref s_default, backend: null), fd);

    /// <summary>The engine for <paramref name="fd"/> among engines whose sets use <paramref name="backend"/>.</summary>
    public static AsyncFdEngine For(TapBackendKind backend, int fd)
    {
        AsyncFdEngine[]? engines;
        lock (s_startLock)
        {
            if (!s_byBackend.TryGetValue(backend, out engines))
                s_byBackend[backend] = engines = Create(backend);
        }
        return Pick(engines, fd);
    }

    // By number: one fd number always meets the same set, which refuses a second AsyncFd with EEXIST.
    private static AsyncFdEngine Pick(AsyncFdEngine[] engines, int fd) => engines[(uint)fd % (uint)engines.Length];

    private static AsyncFdEngine[] Start(ref AsyncFdEngine[]? engines, TapBackendKind? backend)
    {
        lock (s_startLock)
            return engines ??= Create(backend);
    }

    private static AsyncFdEngine[] Create(TapBackendKind? backend)
    {
        var engines = new AsyncFdEngine[AsyncEngineCount];
        for (int i = 0; i < engines.Length; i++)
            engines[i] = new AsyncFdEngine(backend, i);
        return engines;
    }

    private static int AsyncEngineCount => Events.AsyncEngine.Count;

    /// <summary>Registers <paramref name="fd"/> edge-triggered with <paramref name="events"/>.</summary>
    /// <exception cref="EpollException">epoll refused the fd (EPERM, EEXIST, ENOMEM, ENOSPC).</exception>
    public Entry Register(AsyncFd fd, EpollEvents events)
    {
        Entry entry;
        int slot;
        lock (_lock)
        {
            slot = _free.Count > 0 ? _free.Pop() : Grow();
            entry = new Entry(fd, (ulong)_generations[slot] << 32 | (uint)slot);
            // Published before the ADD: the ADD's own event may reach the engine thread at once.
            Volatile.Write(ref _slots[slot], entry);
        }
        try
        {
            _set.Add(fd.Handle, events, entry.Token);
        }
        catch
        {
            Release(slot);
            throw;
        }
        return entry;
    }

    /// <summary>Removes <paramref name="entry"/>'s registration; events already harvested for it are dropped.</summary>
    public void Unregister(Entry entry, int fd)
    {
        // The set holds the handle while registered, so the fd is still this file's and DEL cannot
        // fail, unless a raw fd that was not given to the AsyncFd was closed under it: then the
        // kernel has dropped the registration already, and Dispose must not throw for it.
        _set.TryRemove(fd, out _);
        Release((int)(uint)entry.Token);
    }

    private void Release(int slot)
    {
        lock (_lock)
        {
            Volatile.Write(ref _slots[slot], null);
            _generations[slot]++;
            _free.Push(slot);
        }
    }

    // Under the lock. A new array, so the engine thread reads either the old one or the whole new one.
    private int Grow()
    {
        if (_used == _slots.Length)
        {
            var slots = new Entry?[_slots.Length * 2];
            Array.Copy(_slots, slots, _used);
            var generations = new uint[slots.Length];
            Array.Copy(_generations, generations, _used);
            _generations = generations;
            Volatile.Write(ref _slots, slots);
        }
        return _used++;
    }

    private void Run()
    {
        var events = new EpollEvent[EventCapacity];
        while (true)
        {
            int ready = _set.WaitWithoutPoll(events);
            Entry?[] slots = Volatile.Read(ref _slots);
            for (int i = 0; i < ready; i++)
            {
                ulong token = events[i].data;
                int slot = (int)(uint)token;
                if (slot < slots.Length && Volatile.Read(ref slots[slot]) is { } entry && entry.Token == token
                    && entry.Fd.TryGetTarget(out AsyncFd? fd))
                {
                    Deliver(fd, events[i].Events);
                }
            }
        }
    }

    // Completing an await can run code of the program's: a captured SynchronizationContext's Post
    // or a TaskScheduler's QueueTask. If that throws, it is the program's fault and its await's
    // loss; the engine goes on serving every other fd rather than ending the process.
    private static void Deliver(AsyncFd fd, EpollEvents events)
    {
        try
        {
            fd.Deliver(events);
        }
        catch (Exception)
        {
            // Nothing to hand it to: the await it belonged to is claimed, and Debug.Fail would end
            // the process in a Debug build, the opposite of what this catch is for.
        }
    }
}
