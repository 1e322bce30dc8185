using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Linq;
using System.Runtime.CompilerServices;
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
/// <para>
/// Tap changes are serialized by a lock; dispatch takes none. It reads the tables below from arrays
/// published whole (copy on write), and a kernel event names what it was registered for, so events
/// still queued for a removed or replaced registration are dropped.
/// </para>
/// <para>
/// An fd with one tap (every fd of an epoll set) costs one 64-bit word in a table indexed by fd,
/// and no object: the tap packed (id, filter, modes), and the kernel registration's data is the fd
/// and the tap's CEQ id, which a later tap on the number does not share while this one's id is
/// allocated. Several taps on one fd share an entry whose data is a generation and the fd.
/// </para>
/// </remarks>
internal sealed unsafe class EpollTapBackend : ITapBackend
{
    private const ulong WakeToken = ulong.MaxValue;
    private const int BatchSize = 256;
    private const int MinimumSweep = 64;

    // Where the kernel lists each instance's registrations; tests point it elsewhere to check the
    // sweep without it (a chroot, a sandbox without /proc).
    internal static string ListingDirectory { get; set; } = "/proc/self/fdinfo";

    // In _fds: the fd's taps are in its shared entry. Neither 0 (no tap) nor a packed tap (bit 63).
    private const ulong SharedTaps = 1;

    private readonly CoalescingEventQueue _mailbox;
    private readonly Lock _lock = new();
    private readonly int _epfd;
    private readonly int _wakeFd;
    // Own the two fds above: a queue lost without Dispose closes them when collected.
    private readonly OwnedFd _epfdOwner;
    private readonly OwnedFd _wakeFdOwner;
    // Per fd: its one tap packed (SoleTap), SharedTaps, or 0 for none; published for dispatch.
    private ulong[] _fds = new ulong[64];
    // The entries of fds with several taps, indexed by fd; published for dispatch.
    private FdEntry?[] _shared = [];
    // Taps whose fd was closed while their kernel registration may live on (see Orphan), by the
    // registration's data. Only a set's backend keeps orphans (KeepsOrphans), and a set taps each
    // fd once, so an orphan is a sole tap under one key. Guarded by _lock, which dispatch takes
    // only for data no fd's taps own.
    private readonly Dictionary<ulong, FdEntry> _orphans = [];
    // Orphans made since the kernel's listing was last read, and how many call for a reading.
    private int _orphanedSinceSweep;
    private int _sweepAfter = MinimumSweep;
    private uint _sweeps;
    // How many fds have taps: the size of the kernel's listing, with the orphans.
    private int _tappedFds;
    private uint _generations;
    private int _closed;
    private long _interruptedWaits;

    /// <inheritdoc/>
    public TapBackendKind Kind => TapBackendKind.Epoll;

    /// <summary>
    /// Whether a Modify the kernel refuses for a closed fd (ENOENT, EBADF) makes the fd's taps an
    /// orphan, which an epoll set's owner sweeps (<see cref="ReleaseDeadOrphans"/>); a bare queue's
    /// taps are dropped instead, as nothing would sweep them.
    /// </summary>
    public bool KeepsOrphans { get; init; }

    /// <summary>Kernel waits a signal interrupted (EINTR); the caller resumed them.</summary>
    public long InterruptedWaits => Interlocked.Read(ref _interruptedWaits);

    /// <summary>
    /// The kernel epoll instance the queue's kernel waiter waits on. It is readable while taps or a
    /// <see cref="Wake"/> wait to be dispatched, so a thread waiting on several queues can nest it
    /// in an epoll instance of its own.
    /// </summary>
    public int PollFd => _epfd;

    /// <summary>
    /// Yes: the kernel lets any number of threads wait on one epoll instance, and dispatch reads
    /// only tables published whole, into a buffer on the caller's stack.
    /// </summary>
    public bool AllowsConcurrentWaits => true;

    public EpollTapBackend(CoalescingEventQueue mailbox)
    {
        _mailbox = mailbox;
        // Both above the numbers a program is handed next (PrivateFds.Move), where the limit allows.
        _epfd = PrivateFds.CreateEpoll();
        if (_epfd < 0)
            throw new Win32Exception(Marshal.GetLastPInvokeError(), "epoll_create1 failed");
        _epfdOwner = new OwnedFd(_epfd);
        _wakeFd = PrivateFds.CreateEventFd();
        if (_wakeFd < 0)
        {
            int error = Marshal.GetLastPInvokeError();
            _epfdOwner.Dispose();
            throw new Win32Exception(error, "eventfd failed");
        }
        _wakeFdOwner = new OwnedFd(_wakeFd);
        if (Control(LibC.EPOLL_CTL_ADD, _wakeFd, EpollEvents.EPOLLIN | EpollEvents.EPOLLET, WakeToken) is int e and not 0)
        {
            _wakeFdOwner.Dispose();
            _epfdOwner.Dispose();
            throw new Win32Exception(e, "epoll_ctl of the wake eventfd failed");
        }
        mailbox.SetHolderWake(Wake);
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
            int fd = request.Fd;
            ulong slot = SlotOf(fd);
            if (slot == SharedTaps)
                return ApplyShared(_shared[fd]!, request);
            var tap = new Tap(request.Id, request.Filter, request.Modes);
            if (slot == 0)
                return request.Command == TapCommand.Add ? AddSole(fd, tap) : LibC.ENOENT;
            Tap sole = SoleTap.Unpack(slot);
            return request.Command switch
            {
                TapCommand.Add => sole.Id == tap.Id ? LibC.EEXIST : Share(fd, sole, tap),
                _ when sole.Id != tap.Id => LibC.ENOENT,
                TapCommand.Remove => RemoveSole(fd),
                _ => ModifySole(fd, sole, tap),
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
            if (_closed != 0)
                return LibC.EBADF;
            ulong slot = SlotOf(fd);
            if (slot == SharedTaps)
            {
                FdEntry entry = _shared[fd]!;
                int index = entry.IndexOf(id);
                if (index < 0)
                    return LibC.ENOENT;
                if (entry.Taps.Length > 1)
                    return RemoveShared(entry, index);
            }
            else if (slot == 0 || SoleTap.Unpack(slot).Id != id)
            {
                return LibC.ENOENT;
            }
            int error = Control(LibC.EPOLL_CTL_DEL, fd, 0, 0);
            if (error == 0)
                Forget(fd);
            return error;
        }
    }

    /// <summary>
    /// Waits in the kernel for up to <paramref name="timeoutMs"/> (-1: no limit) and posts what the
    /// taps report, with <paramref name="signalMask"/> (a sigset_t, or null) installed atomically for
    /// the wait. Takes at most <paramref name="limit"/> kernel events when it is positive, however
    /// many that is (epoll_wait's maxevents), in batches: the first waits, the rest only collect.
    /// Safe on several threads at once.
    /// </summary>
    public TapWaitResult WaitAndDispatch(int timeoutMs, int limit = 0, void* signalMask = null)
    {
        // Kernel events carry CEQ ids from the moment the kernel copies them out, inside the wait,
        // until they are posted: the mailbox must not reissue those ids meanwhile.
        long hold = _mailbox.EnterKernelHold();
        TapWaitResult result = TapWaitResult.None;
        try
        {
            return result = WaitAndPost(timeoutMs, limit, signalMask);
        }
        finally
        {
            _mailbox.ExitKernelHold(hold, posted: (result & TapWaitResult.Posted) != 0);
        }
    }

    // The batch buffer is written by the kernel before it is read: no need to zero 3 KiB per wait.
    [SkipLocalsInit]
    private TapWaitResult WaitAndPost(int timeoutMs, int limit, void* signalMask)
    {
        byte* events = stackalloc byte[BatchSize * EpollEvent.NativeSize];
        int wanted = limit > 0 ? limit : BatchSize;
        TapWaitResult result = TapWaitResult.None;
        for (int taken = 0, timeout = timeoutMs; taken < wanted; timeout = 0)
        {
            int batch = Math.Min(BatchSize, wanted - taken);
            int ready = LibC.epoll_pwait(_epfd, events, batch, timeout, signalMask);
            if (ready < 0)
            {
                int error = Marshal.GetLastPInvokeError();
                if (error != LibC.EINTR)
                    throw new Win32Exception(error, "epoll_wait failed");
                Interlocked.Increment(ref _interruptedWaits);
                return result | TapWaitResult.Interrupted;
            }
            TapWaitResult dispatched = Dispatch(events, ready);
            result |= dispatched;
            if (ready < batch)
                break;
            // The wake-up took one of the places the limit counts: taps ready beside it (a
            // level-triggered entry behind a one-event limit) are looked for once more.
            taken += (dispatched & TapWaitResult.Woken) != 0 ? ready - 1 : ready;
        }
        return result;
    }

    // Posts what one epoll_wait reported to the taps the kernel registrations were made for.
    private TapWaitResult Dispatch(byte* events, int ready)
    {
        ulong[] fds = Volatile.Read(ref _fds);
        FdEntry?[] shared = Volatile.Read(ref _shared);
        TapWaitResult result = TapWaitResult.None;
        for (int i = 0; i < ready; i++)
        {
            EpollEvent ev = EpollEvent.ReadNative(events, i);
            if (ev.data == WakeToken)
            {
                ulong drained;
                LibC.read(_wakeFd, &drained, sizeof(ulong));
                result |= TapWaitResult.Woken;
                continue;
            }
            TapFilters bits = EpollTapMap.ToTarget((EpollEvents)ev.events);
            if (SoleTap.Is(ev.data))
            {
                // The tap the registration was made for, if the fd still has it; its filter may
                // have changed since (MOD keeps the data).
                int soleFd = SoleTap.FdOf(ev.data);
                ulong slot = (uint)soleFd < (uint)fds.Length ? Volatile.Read(ref fds[soleFd]) : 0;
                if (SoleTap.Is(slot) && (uint)slot == (uint)ev.data)
                {
                    if (SoleTap.Unpack(slot).Post(_mailbox, bits))
                        result |= TapWaitResult.Posted;
                    continue;
                }
            }
            int fd = SoleTap.Is(ev.data) ? SoleTap.FdOf(ev.data) : (int)(uint)ev.data;
            if ((uint)fd >= (uint)shared.Length || shared[fd] is not { } entry || !entry.Owns(ev.data))
            {
                if (FindOrphan(ev.data) is not { } orphan)
                    continue;   // a registration removed or replaced since the kernel queued it
                entry = orphan;
            }
            if (Tap.Post(_mailbox, entry.Taps, bits))
                result |= TapWaitResult.Posted;
        }
        return result;
    }

    /// <summary>
    /// Called after <paramref name="fd"/> was closed (or found to name another file) while it had
    /// taps: the kernel keeps their registration, keyed by (fd, file), for as long as the file is
    /// open elsewhere (a dup, a child), and drops it with the file's release. Which of the two
    /// happened is not asked here: the only kernel calls that could tell, kcmp and the fdinfo
    /// listing, scan every registration of the instance. The taps become an orphan at once, in
    /// constant time, which goes on firing if the file lives on and never fires if not; the number
    /// is free for a new file. <see cref="ReleaseDeadOrphans"/> later finds those whose file went.
    /// Returns whether the fd had taps.
    /// </summary>
    public bool Orphan(int fd)
    {
        lock (_lock)
        {
            if (SlotOf(fd) == 0)
                return false;
            OrphanLocked(fd);
            return true;
        }
    }

    /// <summary>Whether the tap <paramref name="id"/> of <paramref name="fd"/> belongs to an orphan (see <see cref="Orphan"/>).</summary>
    public bool IsOrphaned(int fd, CeqId id)
    {
        lock (_lock)
        {
            if (_orphans.ContainsKey(SoleTap.Data(fd, id.Value)))
                return true;
            foreach (FdEntry orphan in _orphans.Values)
            {
                if (orphan.Fd == fd && orphan.IndexOf(id) >= 0)
                    return true;
            }
            return false;
        }
    }

    /// <summary>
    /// Whether the registration of <paramref name="fd"/> is for a file the number no longer names
    /// (it was closed, and the number reused or left unused, behind EpollGen's back). Asks kcmp,
    /// which scans the instance: only an ADD of a number that already has taps comes here.
    /// </summary>
    public bool IsStale(int fd)
    {
        lock (_lock)
            return SlotOf(fd) != 0 && !NamesRegisteredFile(fd);
    }

    // The caller holds the lock, and fd has taps: they become an orphan under the data the kernel
    // has for them, published before they leave _fds and _shared, so dispatch finds them in one
    // or the other.
    private void OrphanLocked(int fd)
    {
        ulong slot = _fds[fd];
        FdEntry orphan = slot == SharedTaps ? _shared[fd]! : new FdEntry(fd, SoleTap.Data(fd, (uint)slot), [SoleTap.Unpack(slot)]);
        _orphans[orphan.Data] = orphan;
        _orphanedSinceSweep++;
        Forget(fd);
    }

    /// <summary>
    /// Takes back an orphan of <paramref name="fd"/> when the fd names the orphan's file again (a
    /// dup2 back onto the number) and the number has no taps of its own: Linux's lookup by
    /// (fd, file) finds it again. Returns the orphan's taps, or null. Called before a MOD or DEL
    /// of a number the set has no registration under (an ADD asks the kernel's own lookup, which
    /// answers EEXIST): with orphans under the number, it asks the kernel, in time proportional to
    /// the instance's registrations.
    /// </summary>
    public Tap[]? Adopt(int fd)
    {
        lock (_lock)
        {
            if (fd < 0 || SlotOf(fd) != 0 || OrphanNamedBy(fd) is not { } orphan)
                return null;
            if (SoleTap.Is(orphan.Data))
            {
                PublishSlot(fd, SoleTap.Pack(orphan.Taps[0]));
            }
            else
            {
                PublishShared(fd, orphan);
                PublishSlot(fd, SharedTaps);
            }
            _orphans.Remove(orphan.Data);
            return orphan.Taps;
        }
    }

    /// <summary>
    /// Drops the orphans whose file has been released (the kernel dropped their registrations with
    /// it) and returns their taps, so the queue's owner can free them. The kernel's listing of the
    /// instance (/proc/self/fdinfo) says which registrations it still holds, by their data, which
    /// no two share; it costs time proportional to the instance's live registrations, so it is
    /// read only once the orphans made since the last reading outnumber twice those: a close costs
    /// constant time on average, and the orphans kept are at most about that many.
    /// </summary>
    public Tap[] ReleaseDeadOrphans()
    {
        lock (_lock)
        {
            if (_orphans.Count == 0 || _orphanedSinceSweep < _sweepAfter)
                return [];
            _orphanedSinceSweep = 0;
            uint sweep = ++_sweeps;
            if (!ReadKernelListing((_, data) =>
                {
                    if (_orphans.TryGetValue(data, out FdEntry? orphan))
                        orphan.Sweep = sweep;
                }) && !MarkLiveByCount(sweep))
            {
                // Neither the listing nor kcmp answers: the orphans stay, and the next attempt waits twice as long.
                _sweepAfter = Math.Min(_sweepAfter * 2, int.MaxValue / 2);
                return [];
            }
            var released = new List<Tap>();
            foreach (FdEntry orphan in (FdEntry[])[.. _orphans.Values])
            {
                if (orphan.Sweep == sweep)
                    continue;
                _orphans.Remove(orphan.Data);
                released.AddRange(orphan.Taps);
            }
            _sweepAfter = Math.Max(MinimumSweep, 2 * (_tappedFds + _orphans.Count));
            return [.. released];
        }
    }

    // Without the listing (no /proc: a chroot, a sandbox): kcmp counts the registrations the
    // kernel still holds under each orphan's number, which costs a scan of the instance per number.
    // A number with none left has only dead orphans; one with some keeps all of its orphans, as
    // the count does not say whose they are. False when kcmp is refused too.
    private bool MarkLiveByCount(uint sweep)
    {
        foreach (IGrouping<int, FdEntry> number in _orphans.Values.GroupBy(orphan => orphan.Fd))
        {
            if (PrivateFds.EpollHolds(_epfd, number.Key) is not { } holds)
                return false;
            int held = 0;
            while (holds && PrivateFds.EpollCompare(_epfd, _epfd, number.Key, held) >= 0)
                held++;
            if (held - (SlotOf(number.Key) != 0 ? 1 : 0) <= 0)
                continue;
            foreach (FdEntry orphan in number)
                orphan.Sweep = sweep;
        }
        return true;
    }

    // The orphan under fd's number whose file fd names now, if one does: the kernel's listing
    // gives the data of the number's registrations in the order kcmp counts them (both walk the
    // instance's tree), and kcmp says which of them is fd's file.
    private FdEntry? OrphanNamedBy(int fd)
    {
        bool any = false;
        foreach (FdEntry orphan in _orphans.Values)
            any |= orphan.Fd == fd;
        if (!any)
            return null;
        if (KernelData(fd) is not { } registrations)
        {
            // Without the listing: the number's one orphan, if fd names a file registered under it.
            FdEntry[] under = [.. _orphans.Values.Where(orphan => orphan.Fd == fd)];
            return under.Length == 1 && NamesRegisteredFile(fd) ? under[0] : null;
        }
        for (int offset = 0; offset < registrations.Count; offset++)
        {
            if (PrivateFds.EpollCompare(fd, _epfd, fd, offset) == 0)
                return _orphans.GetValueOrDefault(registrations[offset]);
        }
        return null;
    }

    // The data of the registrations under the number fd, in the instance's order; null when the
    // listing cannot be read.
    private List<ulong>? KernelData(int fd)
    {
        var under = new List<ulong>();
        return ReadKernelListing((target, data) =>
        {
            if (target == fd)
                under.Add(data);
        }) ? under : null;
    }

    // Calls registration with the target fd and data of every registration the kernel holds in
    // the instance, from its fdinfo listing (a line "tfd: <fd> events: <hex> data: <hex> ..." per
    // registration); false when the listing cannot be read.
    private bool ReadKernelListing(Action<int, ulong> registration)
    {
        // The runtime's own for a moment: above the program's numbers, and left alone by its close_range.
        int listing = PrivateFds.Move(PrivateFds.Opened(LibC.open($"{ListingDirectory}/{_epfd}", LibC.O_RDONLY | LibC.O_CLOEXEC)));
        if (listing < 0)
            return false;
        byte[] buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            int kept = 0;
            while (true)
            {
                nint read;
                fixed (byte* start = &buffer[kept])
                    read = LibC.read(listing, start, (nuint)(buffer.Length - kept));
                if (read < 0)
                    return false;
                int filled = kept + (int)read;
                int consumed = ParseListing(buffer.AsSpan(0, filled), registration);
                kept = filled - consumed;
                buffer.AsSpan(consumed, kept).CopyTo(buffer);
                if (read == 0)
                    return true;
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            LibC.close(listing);
        }
    }

    // Parses the whole lines of text; returns how many bytes they took.
    private static int ParseListing(ReadOnlySpan<byte> text, Action<int, ulong> registration)
    {
        int consumed = 0;
        while (text[consumed..].IndexOf((byte)'\n') is var end and >= 0)
        {
            ReadOnlySpan<byte> line = text.Slice(consumed, end);
            consumed += end + 1;
            if (!line.StartsWith("tfd:"u8))
                continue;
            int dataAt = line.IndexOf("data:"u8);
            int eventsAt = line.IndexOf("events:"u8);
            if (dataAt < 0 || eventsAt < 0
                || !System.Buffers.Text.Utf8Parser.TryParse(line[4..eventsAt].Trim((byte)' '), out int target, out _)
                || !System.Buffers.Text.Utf8Parser.TryParse(line[(dataAt + 5)..].TrimStart((byte)' '), out ulong data, out _, 'x'))
                continue;
            registration(target, data);
        }
        return consumed;
    }

    // Whether fd names the file of the number's registration the kernel holds (any of them).
    private bool NamesRegisteredFile(int fd)
    {
        for (int offset = 0; ; offset++)
        {
            int order = PrivateFds.EpollCompare(fd, _epfd, fd, offset);
            if (order < 0)
                return false;
            if (order == 0)
                return true;
        }
    }

    // The orphan a kernel event's data names, if any. Dispatch comes here only for data no fd's
    // taps own: an orphan's, or one removed or replaced since the kernel queued the event.
    private FdEntry? FindOrphan(ulong data)
    {
        lock (_lock)
            return _orphans.GetValueOrDefault(data);
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
        // Before the wake fd closes: the mailbox calls Wake under the lock this takes.
        _mailbox.SetHolderWake(null);
        _wakeFdOwner.Dispose();
        _epfdOwner.Dispose();
    }

    // The first tap of an fd, published before the kernel's ADD, which reads readiness: what it
    // reports at once finds the tap.
    private int AddSole(int fd, Tap tap)
    {
        PublishSlot(fd, SoleTap.Pack(tap));
        int error = Control(LibC.EPOLL_CTL_ADD, fd, KernelMask(tap.Filter, tap.Modes), SoleTap.Data(fd, tap.Id.Value));
        if (error != 0)
            PublishSlot(fd, 0);
        return error;
    }

    private int RemoveSole(int fd)
    {
        // The file may be gone already; its tap goes away quietly either way.
        Control(LibC.EPOLL_CTL_DEL, fd, 0, 0);
        Forget(fd);
        return 0;
    }

    // The new filter is published before the kernel's MOD, which re-reads readiness, as for ADD.
    private int ModifySole(int fd, Tap before, Tap after)
    {
        EpollEvents mask = KernelMask(after.Filter, after.Modes);
        ulong data = SoleTap.Data(fd, after.Id.Value);
        PublishSlot(fd, SoleTap.Pack(after));
        int error = ((KernelMask(before.Filter, before.Modes) | mask) & EpollEvents.EPOLLEXCLUSIVE) != 0
            ? Reregister(fd, mask, data)
            : Control(LibC.EPOLL_CTL_MOD, fd, mask, data);
        if (error == 0)
            return 0;
        PublishSlot(fd, SoleTap.Pack(before));
        if (error is LibC.ENOENT or LibC.EBADF)
            OrphanOrForget(fd);
        return error;
    }

    // A second tap on the fd: its taps move to a shared entry, published before the kernel's MOD
    // gives the registration the entry's data, so what the MOD re-reads reaches both taps. Events
    // the kernel harvested with the sole tap's data reach the entry (it has that tap).
    private int Share(int fd, Tap sole, Tap tap)
    {
        var entry = new FdEntry(fd, NextSharedData(fd), [sole, tap]) { SoleData = SoleTap.Data(fd, sole.Id.Value) };
        PublishShared(fd, entry);
        PublishSlot(fd, SharedTaps);
        int error = Control(LibC.EPOLL_CTL_MOD, fd, entry.KernelMask, entry.Data);
        if (error == 0)
            return 0;
        PublishSlot(fd, SoleTap.Pack(sole));
        PublishShared(fd, null);
        if (error is not (LibC.ENOENT or LibC.EBADF))
            return error;
        // The registration vanished with its file: the fd now names another file, or none.
        // Its tap goes away quietly, and this one starts a fresh registration.
        Forget(fd);
        return AddSole(fd, tap);
    }

    private int ApplyShared(FdEntry entry, in TapRequest request)
    {
        int index = entry.IndexOf(request.Id);
        return request.Command switch
        {
            TapCommand.Add => index >= 0 ? LibC.EEXIST : AddShared(entry, new Tap(request.Id, request.Filter, request.Modes)),
            _ when index < 0 => LibC.ENOENT,
            TapCommand.Remove => RemoveShared(entry, index),
            _ => ModifyShared(entry, index, new Tap(request.Id, request.Filter, request.Modes)),
        };
    }

    // The new taps are published before the kernel call, so the readiness the kernel reports for
    // the re-armed registration reaches the new tap too: MOD re-reads readiness. Other taps of the
    // fd may see that edge again; taps are hints, and re-reporting never loses an edge.
    private int AddShared(FdEntry entry, Tap tap)
    {
        Tap[] before = entry.Taps;
        entry.Publish(entry.With(tap));
        int error = Control(LibC.EPOLL_CTL_MOD, entry.Fd, entry.KernelMask, entry.Data);
        if (error == 0)
            return 0;
        entry.Publish(before);
        if (error is not (LibC.ENOENT or LibC.EBADF))
            return error;
        // The registration vanished with its file: the fd now names another file, or none.
        // Its taps go away quietly, and this one starts a fresh registration.
        Forget(entry.Fd);
        return AddSole(entry.Fd, tap);
    }

    private int RemoveShared(FdEntry entry, int index)
    {
        Tap[] taps = entry.Without(index);
        if (taps.Length == 0)
            return RemoveSole(entry.Fd);
        EpollEvents mask = KernelMask(taps);
        if (mask != entry.KernelMask)
            Control(LibC.EPOLL_CTL_MOD, entry.Fd, mask, entry.Data);
        entry.Publish(taps);
        return 0;
    }

    private int ModifyShared(FdEntry entry, int index, Tap tap)
    {
        Tap[] before = entry.Taps;
        EpollEvents previous = entry.KernelMask;
        entry.Publish(entry.Replace(index, tap));
        int error = ((previous | entry.KernelMask) & EpollEvents.EPOLLEXCLUSIVE) != 0
            ? Reregister(entry.Fd, entry.KernelMask, entry.Data)
            : Control(LibC.EPOLL_CTL_MOD, entry.Fd, entry.KernelMask, entry.Data);
        if (error == 0)
            return 0;
        entry.Publish(before);
        if (error is LibC.ENOENT or LibC.EBADF)
            OrphanOrForget(entry.Fd);
        return error;
    }

    // The fd no longer names the file its taps were registered for: an orphan where the owner
    // sweeps them (an epoll set), else gone.
    private void OrphanOrForget(int fd)
    {
        if (KeepsOrphans)
            OrphanLocked(fd);
        else
            Forget(fd);
    }

    // The fd has no taps any more. Events the kernel still holds for a shared entry carry its data,
    // which no entry has now, and are dropped; those for a sole tap post to an id its owner frees.
    private void Forget(int fd)
    {
        if (_fds[fd] == SharedTaps)
            PublishShared(fd, null);
        PublishSlot(fd, 0);
    }

    // The kernel refuses MOD of an exclusive registration; DEL and ADD re-read readiness the same way.
    private int Reregister(int fd, EpollEvents mask, ulong data)
    {
        int error = Control(LibC.EPOLL_CTL_DEL, fd, 0, 0);
        return error != 0 ? error : Control(LibC.EPOLL_CTL_ADD, fd, mask, data);
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
        return KernelMask(Tap.Union(taps), common);
    }

    private static EpollEvents KernelMask(TapFilters filter, TapModes modes)
    {
        EpollEvents mask = EpollTapMap.ToSource(filter);
        if ((modes & TapModes.Level) == 0)
            mask |= EpollEvents.EPOLLET;
        if ((modes & TapModes.OneShot) != 0)
            mask |= EpollEvents.EPOLLONESHOT;
        if ((modes & TapModes.Exclusive) != 0)
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

    private ulong SlotOf(int fd) => (uint)fd < (uint)_fds.Length ? _fds[fd] : 0;

    private void PublishSlot(int fd, ulong value)
    {
        ulong[] fds = _fds;
        if (fd >= fds.Length)
        {
            var grown = new ulong[Math.Max(fds.Length * 2, fd + 1)];
            fds.CopyTo(grown, 0);
            // Dispatch may still read the old array: it then misses only taps added since, whose
            // kernel registrations are made after this (their events find the new array).
            Volatile.Write(ref _fds, grown);
            fds = grown;
        }
        _tappedFds += (value != 0 ? 1 : 0) - (fds[fd] != 0 ? 1 : 0);
        Volatile.Write(ref fds[fd], value);
    }

    // A shared entry's data: a generation no live entry of this backend has (31 bits, so bit 63,
    // the sole-tap mark, stays clear) and the fd.
    private ulong NextSharedData(int fd)
    {
        _generations = (_generations + 1) & 0x7FFF_FFFF;
        return (ulong)_generations << 32 | (uint)fd;
    }

    private void PublishShared(int fd, FdEntry? entry)
    {
        FdEntry?[] shared = _shared;
        if (fd >= shared.Length)
        {
            if (entry is null)
                return;
            var grown = new FdEntry?[Math.Max(shared.Length * 2, fd + 1)];
            shared.CopyTo(grown, 0);
            // Dispatch may still read the old array; both hold the same entries.
            Volatile.Write(ref _shared, grown);
            shared = grown;
        }
        Volatile.Write(ref shared[fd], entry);
    }

    // A tap alone on its fd. In _fds it is packed into 64 bits: the id in bits 0-31, the filter in
    // 32-47, the modes in 48-50. The kernel registration's data is the id in bits 0-31 and the fd
    // in 32-62. Both set bit 63, which tells them from SharedTaps and from a shared entry's data;
    // the wake token (all ones) would need fd 2^31-1, above any fd Linux gives (nr_open's limit).
    private static class SoleTap
    {
        private const ulong Mark = 1UL << 63;

        public static bool Is(ulong word) => (word & Mark) != 0;

        public static ulong Pack(Tap tap) =>
            Mark | (ulong)((uint)tap.Modes & 7) << 48 | (ulong)((uint)tap.Filter & 0xFFFF) << 32 | tap.Id.Value;

        public static Tap Unpack(ulong packed) =>
            new(new CeqId((uint)packed), (TapFilters)((packed >> 32) & 0xFFFF), (TapModes)((packed >> 48) & 7));

        public static ulong Data(int fd, uint id) => Mark | (ulong)(uint)fd << 32 | id;

        public static int FdOf(ulong data) => (int)((data >> 32) & 0x7FFF_FFFF);
    }

    // The taps of an fd that has several, or of an orphan, under the data of its kernel
    // registration. Mutated only under the backend's lock; dispatch reads Taps.
    private sealed class FdEntry(int fd, ulong data, Tap[] taps)
    {
        private Tap[] _taps = taps;

        public int Fd { get; } = fd;

        public ulong Data { get; } = data;

        /// <summary>An orphan's: the last sweep of the kernel's listing that found its registration.</summary>
        public uint Sweep { get; set; }

        /// <summary>The data the registration had while one tap had the fd, if it was made so.</summary>
        public ulong SoleData { get; init; }

        /// <summary>Whether a kernel event with <paramref name="data"/> is for this registration.</summary>
        public bool Owns(ulong data) => data == Data || (data == SoleData && data != 0);

        public Tap[] Taps => Volatile.Read(ref _taps);

        public EpollEvents KernelMask { get; private set; } = EpollTapBackend.KernelMask(taps);

        public int IndexOf(CeqId id) => Tap.IndexOf(_taps, id);

        public Tap[] With(Tap tap) => Tap.With(_taps, tap);

        public Tap[] Without(int index) => Tap.Without(_taps, index);

        public Tap[] Replace(int index, Tap tap) => Tap.Replace(_taps, index, tap);

        public void Publish(Tap[] taps)
        {
            KernelMask = EpollTapBackend.KernelMask(taps);
            Volatile.Write(ref _taps, taps);
        }
    }
}
