using System;
using System.ComponentModel;
using System.Runtime.InteropServices;
using System.Threading;
using EpollGen.Events;
using EpollGen.Interop;
using EpollGen.Native;

namespace EpollGen.Taps;

/// <summary>
/// The kernel-epoll tap backend of one event queue: one edge-triggered kernel registration per
/// tapped fd, fanned out to every tap of the queue on that fd. Each queue has its own kernel epoll
/// instance, so the thread that waits on a queue sleeps in the kernel itself and is woken by the
/// kernel, with no hand-off through another thread (raw epoll has none either).
/// </summary>
/// <remarks>
/// Tap changes are serialized by a lock; dispatch reads an fd's taps from an array published
/// whole (copy on write), so it takes no lock. A kernel event carries the fd and the generation
/// of its entry, so events still queued for a removed or replaced registration are dropped.
/// </remarks>
internal sealed unsafe class EpollTapBackend : ITapBackend
{
    private const ulong WakeToken = ulong.MaxValue;
    private const int BatchSize = 256;

    private readonly CoalescingEventQueue _mailbox;
    private readonly object _lock = new();
    private readonly int _epfd;
    private readonly int _wakeFd;
    private readonly byte* _events;
    private FdEntry?[] _entries = new FdEntry?[64];
    private int _closed;
    private long _interruptedWaits;

    /// <inheritdoc/>
    public TapBackendKind Kind => TapBackendKind.Epoll;

    /// <summary>Kernel waits a signal interrupted (EINTR); the caller resumed them.</summary>
    public long InterruptedWaits => Interlocked.Read(ref _interruptedWaits);

    /// <summary>
    /// The kernel epoll instance the queue's kernel waiter waits on. It is readable while taps or a
    /// <see cref="Wake"/> wait to be dispatched, so a thread waiting on several queues can nest it
    /// in an epoll instance of its own.
    /// </summary>
    public int PollFd => _epfd;

    /// <summary>
    /// Whether the last <see cref="WaitAndDispatch"/> posted a tap's bits. Written and read only by
    /// the queue's one kernel waiter, so it needs no fence.
    /// </summary>
    public bool DispatchPosted { get; private set; }

    public EpollTapBackend(CoalescingEventQueue mailbox)
    {
        _mailbox = mailbox;
        _epfd = LibC.epoll_create1(LibC.EPOLL_CLOEXEC);
        if (_epfd < 0)
            throw new Win32Exception(Marshal.GetLastPInvokeError(), "epoll_create1 failed");
        _wakeFd = LibC.eventfd(0, LibC.EFD_CLOEXEC | LibC.EFD_NONBLOCK);
        if (_wakeFd < 0)
        {
            int error = Marshal.GetLastPInvokeError();
            LibC.close(_epfd);
            throw new Win32Exception(error, "eventfd failed");
        }
        if (Control(LibC.EPOLL_CTL_ADD, _wakeFd, EpollEvents.EPOLLIN | EpollEvents.EPOLLET, WakeToken) is int e and not 0)
        {
            LibC.close(_wakeFd);
            LibC.close(_epfd);
            throw new Win32Exception(e, "epoll_ctl of the wake eventfd failed");
        }
        _events = (byte*)NativeMemory.Alloc((nuint)(BatchSize * EpollEvent.NativeSize));
    }

    /// <summary>Carries out one tap request; returns 0 or an errno, and changes nothing on error.</summary>
    public int Apply(in TapRequest request)
    {
        TapFilters unsupported = request.Filter & TapPollMap.SourceUnsupported;
        if (unsupported != 0)
            return LibC.ENOSYS;
        lock (_lock)
        {
            if (_closed != 0)
                return LibC.EBADF;
            FdEntry entry = EntryFor(request.Fd);
            int index = entry.IndexOf(request.Id);
            return request.Command switch
            {
                TapCommand.Add => index >= 0 ? LibC.EEXIST : Add(entry, request),
                TapCommand.Remove => index < 0 ? LibC.ENOENT : Remove(entry, index),
                _ => index < 0 ? LibC.ENOENT : Modify(entry, index, request),
            };
        }
    }

    /// <summary>
    /// Waits in the kernel for up to <paramref name="timeoutMs"/> (-1: no limit) and posts what the
    /// taps report, taking at most <paramref name="limit"/> kernel events when it is positive, with
    /// <paramref name="signalMask"/> (a sigset_t, or null) installed atomically for the wait. Returns false when the wait was interrupted (EINTR); the caller recomputes its
    /// remaining time and calls again.
    /// </summary>
    public bool WaitAndDispatch(int timeoutMs, int limit = 0, void* signalMask = null)
    {
        DispatchPosted = false;
        int ready = LibC.epoll_pwait(_epfd, _events, limit is > 0 and < BatchSize ? limit : BatchSize, timeoutMs, signalMask);
        if (ready < 0)
        {
            int error = Marshal.GetLastPInvokeError();
            if (error == LibC.EINTR)
            {
                Interlocked.Increment(ref _interruptedWaits);
                return false;
            }
            throw new Win32Exception(error, "epoll_wait failed");
        }
        FdEntry?[] entries = Volatile.Read(ref _entries);
        bool posted = false;
        for (int i = 0; i < ready; i++)
        {
            EpollEvent ev = EpollEvent.ReadNative(_events, i);
            if (ev.data == WakeToken)
            {
                ulong drained;
                LibC.read(_wakeFd, &drained, sizeof(ulong));
                continue;
            }
            int fd = (int)(uint)ev.data;
            if ((uint)fd >= (uint)entries.Length || entries[fd] is not { } entry || entry.Generation != (uint)(ev.data >> 32))
                continue;
            posted |= Tap.Post(_mailbox, entry.Taps, EpollTapMap.ToTarget((EpollEvents)ev.events));
        }
        DispatchPosted = posted;
        return true;
    }

    /// <summary>Makes a thread blocked in <see cref="WaitAndDispatch"/> return.</summary>
    public void Wake()
    {
        ulong one = 1;
        LibC.write(_wakeFd, &one, sizeof(ulong));
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (Interlocked.Exchange(ref _closed, 1) != 0)
                return;
        }
        LibC.close(_wakeFd);
        LibC.close(_epfd);
        NativeMemory.Free(_events);
    }

    // The new taps are published before the kernel call, so the readiness the kernel reports for
    // the (re-)armed registration reaches the new tap too: ADD and MOD re-read readiness. Other taps
    // of the fd may see that edge again; taps are hints, and re-reporting never loses an edge.
    private int Add(FdEntry entry, in TapRequest request)
    {
        var tap = new Tap(request.Id, request.Filter, request.Modes);
        if (entry.Taps.Length > 0)
        {
            Tap[] before = entry.Taps;
            EpollEvents previous = entry.KernelMask;
            Tap[] taps = entry.With(tap);
            entry.Publish(taps, KernelMask(taps));
            int error = Control(LibC.EPOLL_CTL_MOD, entry.Fd, entry.KernelMask, entry.Data);
            if (error == 0)
                return 0;
            if (error is not (LibC.ENOENT or LibC.EBADF))
            {
                entry.Publish(before, previous);
                return error;
            }
            // The registration vanished with its file: the fd now names another file, or none.
            // Its taps go away quietly, and this one starts a fresh registration.
            entry.Reset();
        }
        Tap[] fresh = [tap];
        entry.Publish(fresh, KernelMask(fresh));
        int addError = Control(LibC.EPOLL_CTL_ADD, entry.Fd, entry.KernelMask, entry.Data);
        if (addError != 0)
            entry.Reset();
        return addError;
    }

    private int Remove(FdEntry entry, int index)
    {
        Tap[] taps = entry.Without(index);
        if (taps.Length == 0)
        {
            // The file may be gone already; its taps go away quietly either way.
            Control(LibC.EPOLL_CTL_DEL, entry.Fd, 0, 0);
            entry.Reset();
            return 0;
        }
        EpollEvents mask = KernelMask(taps);
        if (mask != entry.KernelMask)
            Control(LibC.EPOLL_CTL_MOD, entry.Fd, mask, entry.Data);
        entry.Publish(taps, mask);
        return 0;
    }

    private int Modify(FdEntry entry, int index, in TapRequest request)
    {
        Tap[] before = entry.Taps;
        EpollEvents previous = entry.KernelMask;
        Tap[] taps = entry.Replace(index, new Tap(request.Id, request.Filter, request.Modes));
        entry.Publish(taps, KernelMask(taps));
        int error = ((previous | entry.KernelMask) & EpollEvents.EPOLLEXCLUSIVE) != 0
            ? Reregister(entry)
            : Control(LibC.EPOLL_CTL_MOD, entry.Fd, entry.KernelMask, entry.Data);
        if (error is LibC.ENOENT or LibC.EBADF)
        {
            // The registration vanished with its file, as Linux's own MOD would find: the taps go
            // with it (the io_uring backend must drop them to release the file; both agree).
            entry.Reset();
        }
        else if (error != 0)
        {
            entry.Publish(before, previous);
        }
        return error;
    }

    // The kernel refuses MOD of an exclusive registration; DEL and ADD re-read readiness the same way.
    private int Reregister(FdEntry entry)
    {
        int error = Control(LibC.EPOLL_CTL_DEL, entry.Fd, 0, 0);
        return error != 0 ? error : Control(LibC.EPOLL_CTL_ADD, entry.Fd, entry.KernelMask, entry.Data);
    }

    // A mode reaches the kernel only when every tap on the fd has it. Exclusive: one wake-up reaches
    // one of the exclusive registrations of the file, across queues. One-shot: the kernel stays
    // silent after one event (even on hang-up) until a Modify re-arms it. Level: the kernel
    // re-queues the fd after each wait that reported it, for as long as it stays ready.
    private static EpollEvents KernelMask(Tap[] taps)
    {
        TapModes common = TapModes.OneShot | TapModes.Level | TapModes.Exclusive;
        foreach (Tap tap in taps)
            common &= tap.Modes;
        EpollEvents mask = EpollTapMap.ToSource(Tap.Union(taps));
        if ((common & TapModes.Level) == 0)
            mask |= EpollEvents.EPOLLET;
        if ((common & TapModes.OneShot) != 0)
            mask |= EpollEvents.EPOLLONESHOT;
        if ((common & TapModes.Exclusive) != 0)
            mask |= EpollEvents.EPOLLEXCLUSIVE;
        return mask;
    }

    private int Control(int op, int fd, EpollEvents mask, ulong data)
    {
        EpollEvent ev = default;
        ev.events = (uint)mask;
        ev.data = data;
        byte* native = stackalloc byte[EpollEvent.Size];
        EpollEvent.WriteNative(native, 0, ev);
        return LibC.epoll_ctl(_epfd, op, fd, native) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    private FdEntry EntryFor(int fd)
    {
        FdEntry?[] entries = _entries;
        if (fd >= entries.Length)
        {
            var grown = new FdEntry?[Math.Max(entries.Length * 2, fd + 1)];
            entries.CopyTo(grown, 0);
            // Dispatch may still read the old array; both hold the same entry objects.
            Volatile.Write(ref _entries, grown);
            entries = grown;
        }
        return entries[fd] ??= new FdEntry(fd);
    }

    // One fd's taps. Mutated only under the backend's lock; dispatch reads Taps and Generation.
    private sealed class FdEntry(int fd)
    {
        private Tap[] _taps = [];
        private uint _generation;

        public int Fd { get; } = fd;

        public Tap[] Taps => Volatile.Read(ref _taps);

        public uint Generation => Volatile.Read(ref _generation);

        public EpollEvents KernelMask { get; private set; }

        public ulong Data => (ulong)_generation << 32 | (uint)Fd;

        public int IndexOf(CeqId id) => Tap.IndexOf(_taps, id);

        public Tap[] With(Tap tap) => Tap.With(_taps, tap);

        public Tap[] Without(int index) => Tap.Without(_taps, index);

        public Tap[] Replace(int index, Tap tap) => Tap.Replace(_taps, index, tap);

        public void Publish(Tap[] taps, EpollEvents mask)
        {
            KernelMask = mask;
            Volatile.Write(ref _taps, taps);
        }

        // Drops every tap; events the kernel still holds for the old registration carry the old
        // generation and are ignored.
        public void Reset()
        {
            Volatile.Write(ref _generation, _generation + 1);
            KernelMask = 0;
            Volatile.Write(ref _taps, []);
        }
    }
}
