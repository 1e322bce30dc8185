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
    // Entries whose fd was closed while another fd (or process) kept the file open: the kernel
    // keeps their registrations, keyed by (fd, file), and so do we until the file is released.
    // Published whole (copy on write) for dispatch; rare, so searched linearly.
    private FdEntry[] _orphans = [];
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
    /// Removes the tap <paramref name="id"/> of <paramref name="fd"/> as a Remove request does, but
    /// when it is the fd's last tap only if the kernel's DEL of the registration succeeds: that call
    /// is the kernel's own check that <paramref name="fd"/> is open and still names the registered
    /// file. Otherwise nothing changes and the kernel's errno is returned: EBADF (closed, O_PATH) or
    /// ENOENT (another file took the number); ENOENT too when <paramref name="id"/> has no tap on
    /// <paramref name="fd"/>. With other taps left on the fd (never for an epoll set's fds) no
    /// kernel call checks it, and the removal is as unchecked as a Remove request's.
    /// </summary>
    public int RemoveChecked(int fd, CeqId id)
    {
        lock (_lock)
        {
            FdEntry?[] entries = _entries;
            if (_closed != 0)
                return LibC.EBADF;
            if ((uint)fd >= (uint)entries.Length || entries[fd] is not { } entry || entry.IndexOf(id) is not (>= 0 and int index))
                return LibC.ENOENT;
            if (entry.Taps.Length > 1)
                return Remove(entry, index);
            int error = Control(LibC.EPOLL_CTL_DEL, fd, 0, 0);
            if (error == 0)
                entry.Reset();
            return error;
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
            {
                if (FindOrphan(ev.data) is not { } orphan)
                    continue;
                entry = orphan;
            }
            posted |= Tap.Post(_mailbox, entry.Taps, EpollTapMap.ToTarget((EpollEvents)ev.events));
        }
        DispatchPosted = posted;
        return true;
    }

    /// <summary>
    /// Called after <paramref name="fd"/> was closed: when the kernel still holds the fd's
    /// registration (its file is open elsewhere, through a dup or in a child), the entry becomes an
    /// orphan whose taps go on firing, and the number is free for a new file. Returns whether it did;
    /// false when the file was released (the registration went with it) or the kernel cannot tell
    /// (kcmp refused, as some sandboxes do).
    /// </summary>
    public bool Orphan(int fd)
    {
        lock (_lock)
        {
            FdEntry?[] entries = _entries;
            return (uint)fd < (uint)entries.Length && entries[fd] is { Taps.Length: > 0 } entry && OrphanLocked(entry);
        }
    }

    /// <summary>Whether <paramref name="id"/>'s tap belongs to an orphan (see <see cref="Orphan"/>).</summary>
    public bool IsOrphaned(CeqId id)
    {
        foreach (FdEntry orphan in Volatile.Read(ref _orphans))
        {
            if (orphan.IndexOf(id) >= 0)
                return true;
        }
        return false;
    }

    /// <summary>
    /// Whether the registration of <paramref name="fd"/> is for a file the number no longer names
    /// (it was closed, and the number reused or left unused, behind EpollGen's back).
    /// </summary>
    public bool IsStale(int fd)
    {
        lock (_lock)
        {
            FdEntry?[] entries = _entries;
            return (uint)fd < (uint)entries.Length && entries[fd] is { Taps.Length: > 0 } && !NamesRegisteredFile(fd);
        }
    }

    // The caller holds the lock. The kernel holds more registrations under this number than the
    // orphans already known: the entry's file is open elsewhere, so the entry becomes an orphan.
    private bool OrphanLocked(FdEntry entry)
    {
        int fd = entry.Fd;
        if (KernelItems(fd) <= OrphanCount(fd))
            return false;
        Volatile.Write(ref _orphans, [.. _orphans, entry]);
        // The number's next registration must not share the orphan's event data.
        Volatile.Write(ref _entries[fd], new FdEntry(fd, entry.Generation + 1));
        return true;
    }

    /// <summary>
    /// Takes back the orphan of <paramref name="fd"/> when the fd names the orphan's file again (a
    /// dup2 back onto the number) and the number has no registration of its own: Linux's lookup by
    /// (fd, file) finds it again. Returns the orphan's taps, or null.
    /// </summary>
    public Tap[]? Adopt(int fd)
    {
        lock (_lock)
        {
            FdEntry?[] entries = _entries;
            if ((uint)fd >= (uint)entries.Length || entries[fd] is { Taps.Length: > 0 })
                return null;
            FdEntry? orphan = Array.Find(_orphans, o => o.Fd == fd);
            if (orphan is null || !NamesRegisteredFile(fd))
                return null;
            Volatile.Write(ref _orphans, Array.FindAll(_orphans, o => o != orphan));
            Volatile.Write(ref entries[fd], orphan);
            return orphan.Taps;
        }
    }

    /// <summary>
    /// Drops orphans whose file has been released (the kernel dropped their registrations) and
    /// returns their taps, so the queue's owner can free them. Oldest first when one number has
    /// several: the kernel says how many remain, not which.
    /// </summary>
    public Tap[] ReleaseDeadOrphans()
    {
        lock (_lock)
        {
            if (_orphans.Length == 0)
                return [];
            var released = new System.Collections.Generic.List<Tap>();
            FdEntry[] kept = _orphans;
            foreach (int fd in System.Linq.Enumerable.Distinct(System.Linq.Enumerable.Select(_orphans, o => o.Fd)))
            {
                int live = (uint)fd < (uint)_entries.Length && _entries[fd] is { Taps.Length: > 0 } ? 1 : 0;
                int dead = OrphanCount(fd) - Math.Max(0, KernelItems(fd) - live);
                foreach (FdEntry orphan in _orphans)
                {
                    if (dead <= 0)
                        break;
                    if (orphan.Fd != fd)
                        continue;
                    released.AddRange(orphan.Taps);
                    kept = Array.FindAll(kept, o => o != orphan);
                    dead--;
                }
            }
            Volatile.Write(ref _orphans, kept);
            return [.. released];
        }
    }

    private FdEntry? FindOrphan(ulong data)
    {
        foreach (FdEntry orphan in Volatile.Read(ref _orphans))
        {
            if (orphan.Data == data)
                return orphan;
        }
        return null;
    }

    private int OrphanCount(int fd)
    {
        int count = 0;
        foreach (FdEntry orphan in _orphans)
            count += orphan.Fd == fd ? 1 : 0;
        return count;
    }

    // How many registrations the kernel holds under the number fd (for different files), asked
    // with kcmp(KCMP_EPOLL_TFD), which finds the toff-th registration of a target fd number even
    // after the number was closed. 0 when kcmp is refused.
    private int KernelItems(int fd)
    {
        int count = 0;
        while (KernelCompare(_epfd, fd, count) >= 0)
            count++;
        return count;
    }

    // Whether fd names the file of the number's registration the kernel holds (any of them).
    private bool NamesRegisteredFile(int fd)
    {
        for (int offset = 0; ; offset++)
        {
            int order = KernelCompare(fd, fd, offset);
            if (order < 0)
                return false;
            if (order == 0)
                return true;
        }
    }

    // kcmp(self, self, KCMP_EPOLL_TFD, idx1, {epfd, tfd, toff}): 0 when idx1's file is the file of
    // the toff-th registration of tfd in our epoll, 1 or 2 when it is another, -1 when there is none.
    private int KernelCompare(int idx1, int targetFd, int offset)
    {
        uint* slot = stackalloc uint[3];
        slot[0] = (uint)_epfd;
        slot[1] = (uint)targetFd;
        slot[2] = (uint)offset;
        return LibC.kcmp(Environment.ProcessId, Environment.ProcessId, LibC.KCMP_EPOLL_TFD, (nuint)(uint)idx1, (nuint)slot);
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
            // The fd no longer names the registered file. If the file lives on elsewhere the kernel
            // keeps its registration, and the entry becomes an orphan, unchanged by this MOD; if not,
            // the registration vanished with the file, and its taps go with it.
            entry.Publish(before, previous);
            if (!OrphanLocked(entry))
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
    private sealed class FdEntry(int fd, uint generation = 0)
    {
        private Tap[] _taps = [];
        private uint _generation = generation;

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
