using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Runtime.InteropServices;
using System.Threading;
using EpollGen.Diagnostics;
using EpollGen.Events;
using EpollGen.Interop;
using EpollGen.Native;
using EpollGen.Native.IoUring;
using static EpollGen.Native.IoUring.IoUringConstants;

namespace EpollGen.Taps;

/// <summary>
/// The io_uring tap backend of one event queue: one multishot <c>POLL_ADD</c> per tapped fd,
/// fanned out to every tap of the queue on that fd, in a ring of the queue's own. The thread that
/// waits on the queue sleeps in io_uring_enter(2) and reaps completions from shared memory.
/// </summary>
/// <remarks>
/// <para>
/// Who submits. A poll's completions are posted by task_work of the thread that submitted it
/// (measured, perf-anchors §3): while that thread sleeps in io_uring_enter the work runs inside
/// its own wait; asleep anywhere else, it is woken to run it; once it has exited, a fallback
/// worker runs it about a tick later. So only the driver, the thread in
/// <see cref="WaitAndDispatch"/>, submits. <see cref="Apply"/> answers synchronously, with the
/// exact errno, from the tap table and a shadow epoll instance (below), marks the fd dirty and
/// wakes the driver; the driver turns dirty fds into SQEs and submits them in the same
/// io_uring_enter it then waits in. The wake-up poll follows the driver: a new driver re-arms it
/// as its own. With no driver, the wake-up makes the ring fd readable, so whoever polls
/// <see cref="PollFd"/> comes to drive. A thread running in user space is not interrupted to run
/// its task_work: the ring is set up with <c>IORING_SETUP_COOP_TASKRUN</c> (Linux 5.19), so the
/// work waits for the thread's next entry to the kernel (a system call, an interrupt, at the
/// latest the scheduler tick) instead of costing an inter-processor interrupt per wake-up, which
/// halved a busy event loop's throughput (docs/benchmarks.md). The cost is latency in one case: a
/// thread waiting on the ring for a poll armed by a thread that computes without system calls
/// waits up to a tick. A queue with a single waiting thread gives its backend
/// a single issuer: the ring is created by that thread's first wait with
/// <c>IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN</c>, so the completion work runs
/// inside its waits, batched, and no other thread may enter the ring (it has no pollable fd).
/// </para>
/// <para>
/// Exact errnos and changed files. io_uring holds a reference to a polled file and cannot tell
/// that an fd number now names another file. A shadow kernel epoll instance, never waited on,
/// serves as the oracle Linux itself would be: the first tap on an fd adds it there with an empty
/// mask (so EBADF, EPERM for regular files, … come from Linux), and a later ADD or MOD first
/// probes it with EPOLL_CTL_MOD: ENOENT or EBADF mean the number now names another file or none,
/// so the old poll is removed (releasing the old file) and the old taps go away quietly.
/// Because the arm itself is deferred to the driver, the driver probes the shadow again right
/// before each fresh POLL_ADD, so a number closed and reused in between is not armed on the
/// newcomer. Remaining caveats: a file closed while tapped stays open inside the ring until its
/// taps are removed, the fd number is tapped again, or the queue is disposed; and a close and
/// reuse racing the few microseconds between that probe and the kernel's arm goes unnoticed.
/// </para>
/// <para>
/// Stale completions. user_data is a 30-bit sequence number and the fd, fresh for every arm and
/// update, so completions of removed, replaced or updated polls never match an entry's current
/// data and are dropped; multishot completions are edges that the kernel does not re-validate,
/// and the CEQ coalesces them. A current completion without <c>IORING_CQE_F_MORE</c> means the
/// kernel ended the poll (a full CQ does that silently): it is re-armed, and counted.
/// </para>
/// </remarks>
internal sealed unsafe class IoUringTapBackend : ITapBackend
{
    /// <summary>Submission entries: one per change per driver round before it must submit early.</summary>
    public const uint DefaultSqEntries = 128;

    /// <summary>
    /// Completion entries. Multishot polls post one CQE per wake-up (no coalescing outside
    /// DEFER_TASKRUN rings, which one fixed thread must drive), and a poll whose CQE finds the ring
    /// full ends; a large CQ keeps bursts from ending polls. 64 KiB of shared memory.
    /// </summary>
    public const uint DefaultCqEntries = 4096;

    // user_data: bits 63-62 say what completed, bits 61-32 are a sequence number, bits 31-0 the fd
    // (or WakeSlot). Acknowledgements of updates and removals carry the user data they installed
    // or targeted, so their completions need no side table.
    private const ulong KindMask = 3UL << 62;
    private const ulong PollCompletion = 0;
    private const ulong UpdateCompletion = 2UL << 62;
    private const ulong RemoveCompletion = 3UL << 62;
    private const uint WakeSlot = uint.MaxValue; // no fd is -1
    private const uint SequenceLimit = (1u << 30) - 1;
    private const uint UpdateFlags = IORING_POLL_UPDATE_EVENTS | IORING_POLL_UPDATE_USER_DATA | IORING_POLL_ADD_MULTI;
    private const PollEvents AlwaysPolled = PollEvents.POLLERR | PollEvents.POLLHUP;

    private readonly CoalescingEventQueue _mailbox;
    private readonly object _lock = new();
    // Null until the first wait for a single-issuer backend, whose ring that wait's thread creates.
    private IoUringRing _ring = null!;
    private readonly bool _singleIssuer;
    private readonly uint _sqEntries;
    private readonly uint _cqEntries;
    private readonly int _shadowEpfd;
    private readonly int _wakeFd;
    // Own the two fds above: a queue lost without Dispose closes them when collected.
    private readonly OwnedFd _shadowEpfdOwner;
    private readonly OwnedFd _wakeFdOwner;
    private readonly IoUringCompletion[] _batch = new IoUringCompletion[64];
    private readonly List<IoUringFdEntry> _dirty = [];
    private readonly List<ulong> _removals = [];
    private IoUringFdEntry?[] _entries = new IoUringFdEntry?[64];
    private uint _sequence;
    private ulong _wakeData;
    private Thread? _wakeOwner;
    private int _wakePending;
    private long _dispatched;
    private long _rearms;
    private bool _closed;

    /// <param name="mailbox">The queue's mailbox, where taps post.</param>
    /// <param name="sqEntries">Submission entries.</param>
    /// <param name="cqEntries">Completion entries.</param>
    /// <param name="singleIssuer">
    /// Every wait comes from one thread (the queue enforces it): the ring is created by that
    /// thread's first wait with <c>IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN</c>, so
    /// the kernel runs the polls' completion work inside that thread's own waits, batched, instead
    /// of interrupting it. The ring fd (<see cref="PollFd"/>) then does not exist before that wait.
    /// </param>
    public IoUringTapBackend(CoalescingEventQueue mailbox, uint sqEntries = DefaultSqEntries, uint cqEntries = DefaultCqEntries, bool singleIssuer = false)
    {
        _mailbox = mailbox;
        _sqEntries = sqEntries;
        _cqEntries = cqEntries;
        _singleIssuer = singleIssuer;
        if (!singleIssuer)
            _ring = CreateRing(IORING_SETUP_COOP_TASKRUN);
        _shadowEpfd = PrivateFds.CreateEpoll();
        _wakeFd = _shadowEpfd < 0 ? -1 : PrivateFds.CreateEventFd();
        if (_wakeFd < 0)
        {
            int error = Marshal.GetLastPInvokeError();
            if (_shadowEpfd >= 0)
                LibC.close(_shadowEpfd);
            _ring?.Dispose();
            throw new Win32Exception(error, _shadowEpfd < 0 ? "epoll_create1 failed" : "eventfd failed");
        }
        _shadowEpfdOwner = new OwnedFd(_shadowEpfd);
        _wakeFdOwner = new OwnedFd(_wakeFd);
        // Armed here so that a Wake before the first driver already makes the ring fd readable. A
        // single issuer's first wait arms it, and finds a Wake written before it.
        if (!singleIssuer)
        {
            lock (_lock)
            {
                RehomeWake();
                _ring.Submit();
            }
        }
    }

    private IoUringRing CreateRing(uint flags)
    {
        IoUringCreateResult created = IoUringRing.Create(_sqEntries, _cqEntries, flags);
        // COOP_TASKRUN is Linux 5.19; an older kernel refuses it, and gets the ring without it.
        if (created.Errno == LibC.EINVAL && (flags & IORING_SETUP_COOP_TASKRUN) != 0)
            created = IoUringRing.Create(_sqEntries, _cqEntries, flags & ~IORING_SETUP_COOP_TASKRUN);
        if (created.Succeeded)
            return created.Ring!;
        // Out of fds or memory is this process's state, not a missing feature: its errno goes up.
        if (created.Errno is LibC.EMFILE or LibC.ENFILE or LibC.ENOMEM)
            throw new Win32Exception(created.Errno, "io_uring_setup failed");
        throw new NotSupportedException("The io_uring tap backend cannot start: " + created);
    }

    /// <inheritdoc/>
    public TapBackendKind Kind => TapBackendKind.IoUring;

    /// <summary>The ring fd: readable while completions wait in the CQ (a wake-up is one).</summary>
    /// <exception cref="InvalidOperationException">A single issuer's ring, which only its waits reap.</exception>
    public int PollFd => _singleIssuer ? throw new InvalidOperationException("A queue waited on by a single thread has no fd to poll.") : _ring.Fd;

    /// <summary>Whether the ring defers its completion work to its one waiting thread's waits.</summary>
    internal bool DefersTaskRun => _singleIssuer;

    /// <summary>
    /// The kernel epoll instance that holds every tapped fd with an empty mask: the oracle of the
    /// (fd, file) pairs taps were made for, and the kernel's picture of this queue's wake-up paths.
    /// </summary>
    internal int ShadowFd => _shadowEpfd;

    /// <summary>
    /// Kernel waits a signal interrupted; <see cref="WaitAndDispatch"/> returned false for each.
    /// </summary>
    public long InterruptedWaits => _ring?.InterruptedWaits ?? 0;

    /// <summary>Polls re-armed because the kernel ended them (a completion without F_MORE).</summary>
    public long Rearms => Interlocked.Read(ref _rearms);

    /// <inheritdoc/>
    public int Apply(in TapRequest request)
    {
        if ((request.Filter & TapPollMap.SourceUnsupported) != 0)
            return LibC.ENOSYS;
        // Multishot poll has no level-triggered form, and one-shot taps are not built on
        // single-shot polls yet; the kernel-epoll backend has both.
        if ((request.Modes & ~TapModes.Exclusive) != 0)
            return LibC.ENOSYS;
        int error;
        lock (_lock)
        {
            if (_closed)
                return LibC.EBADF;
            IoUringFdEntry entry = EntryFor(request.Fd);
            int index = Tap.IndexOf(entry.Taps, request.Id);
            var tap = new Tap(request.Id, request.Filter, request.Modes);
            error = request.Command switch
            {
                TapCommand.Add => index >= 0 ? LibC.EEXIST : Add(entry, tap),
                TapCommand.Remove => index < 0 ? LibC.ENOENT : Remove(entry, index, keepShadow: false),
                _ => index < 0 ? LibC.ENOENT : Modify(entry, index, tap),
            };
        }
        // The driver submits the change; with none, the ring fd turns readable and a poller of
        // PollFd comes to drive.
        Wake();
        return error;
    }

    /// <summary>
    /// What a private tap's completions post, whatever the poll reported: a file-change filter,
    /// which no poll completion maps to, so the tap's owner tells them from its fd's own.
    /// </summary>
    internal const TapFilters PrivateReady = TapFilters.FDTAP_FILT_WRITTEN;

    /// <summary>
    /// Taps a file of the runtime's own, an io_uring set's proxy epoll instance, whose number no
    /// program can close or reuse: it has no shadow item, so the kernel's picture of the set's
    /// wake-up paths gains no level. Its completions post <see cref="PrivateReady"/>. Returns 0, or
    /// EEXIST when the fd is tapped already.
    /// </summary>
    internal int TapPrivate(int fd, CeqId id, TapFilters filter)
    {
        lock (_lock)
        {
            if (_closed)
                return LibC.EBADF;
            IoUringFdEntry entry = EntryFor(fd);
            if (entry.Taps.Length > 0)
                return LibC.EEXIST;
            entry.Private = true;
            Publish(entry, [new Tap(id, filter | PrivateReady)], reread: true);
        }
        Wake();
        return 0;
    }

    /// <summary>
    /// Removes <paramref name="id"/>'s tap on <paramref name="fd"/>. With
    /// <paramref name="keepShadow"/>, the registration lives on through a proxy: the shadow keeps its
    /// (fd, file) item, so the kernel goes on counting the file's wake-up paths through the set
    /// until the file is released (which drops the item) or the set goes, and the completions
    /// already in the CQ are posted first, while they still match the poll: another thread may be
    /// the driver, and would find them stale after the removal.
    /// </summary>
    internal void Untap(int fd, CeqId id, bool keepShadow)
    {
        lock (_lock)
        {
            if (_closed || Lookup((uint)fd) is not { } entry || Tap.IndexOf(entry.Taps, id) is var index && index < 0)
                return;
            if (keepShadow && _ring is not null)
                Reap();
            Remove(entry, index, keepShadow);
        }
        Wake();
    }

    /// <summary>
    /// Whether <paramref name="fd"/>'s poll is armed and its completions are posted by the calling
    /// thread's task_work, which ran when this thread's last system call returned: then every edge
    /// before that call has reached the CQ (which a removal keeping the shadow reaps first). A poll
    /// armed by another thread may have edges on their way, or have been cancelled by that
    /// thread's exit.
    /// </summary>
    internal bool PostsOnThisThread(int fd)
    {
        lock (_lock)
            return Lookup((uint)fd) is { Armed: true } entry && entry.ArmedBy == Thread.CurrentThread;
    }

    /// <summary>No: the ring's queues have one consumer, the queue's driver.</summary>
    public bool AllowsConcurrentWaits => false;

    // Whether the current WaitAndDispatch posted a tap's bits; the driver's own.
    private bool _posted;

    /// <summary>
    /// Whether every <see cref="WaitAndDispatch"/> enters the kernel, even when completions already
    /// wait in the CQ. Entering runs the completion work queued for this thread, so a wake-up that
    /// another thread's write caused before the wait began is collected by it, whatever is already
    /// there: epoll sets need that, as epoll_wait reports every fd ready when it is called. A
    /// queue's own waits leave it false: a wait that finds completions takes them without a system
    /// call, and work still in flight (a few microseconds behind the write, on its way to this
    /// thread by interrupt) is posted for the next wait, which enters the kernel if the CQ is empty
    /// and runs it there. Nothing is lost, and one system call per wake-up is saved whenever the
    /// waker's write let this thread run its completion work first (the same-core ping-pong).
    /// </summary>
    internal bool EntersOnEveryWait { get; set; }

    /// <summary>The <c>IORING_SETUP_*</c> bits of the ring (0 before a single issuer's first wait).</summary>
    internal uint RingSetupFlags
    {
        get
        {
            lock (_lock)
                return _ring?.SetupFlags ?? 0;
        }
    }

    /// <summary>io_uring_enter(2) calls on this backend's ring so far (0 before a single issuer's first wait).</summary>
    internal long KernelEntries
    {
        get
        {
            lock (_lock)
                return _ring?.Enters ?? 0;
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// <paramref name="limit"/> is not needed here: completions are hints that the CEQ merges and
    /// consumers re-validate, so leaving some in the ring would only delay them.
    /// </remarks>
    public TapWaitResult WaitAndDispatch(int timeoutMs, int limit = 0, void* signalMask = null)
    {
        _posted = false;
        bool dispatched;
        lock (_lock)
        {
            if (_closed)
                return Result(interrupted: false);
            // The single issuer: the thread that creates the ring is the only one the kernel lets in.
            _ring ??= CreateRing(IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN);
            long before = _dispatched;
            PrepareChanges();
            if (!EntersOnEveryWait && _ring.PendingSubmissions == 0 && _ring.ReadyCompletions > 0)
            {
                // Completions already posted, nothing to submit: taken without a system call. What
                // they re-arm or retry still goes out below.
                Reap();
                if (_dispatched != before && _dirty.Count == 0 && _removals.Count == 0)
                    return Result(interrupted: false);
            }
            dispatched = _dispatched != before;
        }
        // The SQEs just prepared go to the kernel in the same io_uring_enter that waits. When
        // making room for them already reaped readiness or a wake-up, the caller has work: no wait.
        // A wait under a signal mask (epoll_pwait) submits first, in a call of its own: a call that
        // submits reports a count, never EINTR, and a signal the mask lets in must end the wait.
        bool wait = timeoutMs != 0 && !dispatched;
        if (wait && signalMask is not null && _ring.PendingSubmissions > 0)
            _ring.Submit();
        IoUringSubmitResult result = !wait ? _ring.Submit()
            : _ring.Submit(minComplete: 1, timeoutMs < 0 ? null : TimeSpan.FromMilliseconds(timeoutMs), signalMask, returnOnInterrupt: true);
        // EBUSY: completions overflowed and the kernel refuses new work until they are reaped.
        if (result.Errno is not (0 or LibC.ETIME or LibC.EBUSY or LibC.EINTR))
            throw new Win32Exception(result.Errno, "io_uring_enter failed");
        lock (_lock)
        {
            if (_closed)
                return Result(interrupted: false);
            Reap();
            // Re-arms and retried removals go out now rather than with the next wait, so the kernel
            // watches again (and PollFd stays truthful) even if no one waits for a while.
            if (_dirty.Count > 0 || _removals.Count > 0 || _wakeOwner != Thread.CurrentThread)
            {
                PrepareChanges();
                _ring.Submit();
                Reap();
            }
        }
        // Interrupted: what the signal's wait collected is posted all the same; the caller decides
        // whether the interruption ends its wait (epoll_wait) or not (a queue's own waits).
        return Result(result.Errno == LibC.EINTR);
    }

    private TapWaitResult Result(bool interrupted) =>
        (_posted ? TapWaitResult.Posted : TapWaitResult.None) | (interrupted ? TapWaitResult.Interrupted : TapWaitResult.None);

    /// <inheritdoc/>
    public void Wake()
    {
        // Exchange: at most one wake-up write is outstanding. The driver clears the flag before it
        // drains the eventfd (HandleWake), so a Wake that finds it set has a write ahead of it that
        // the driver has not yet consumed, and the wake-up poll reports that write.
        if (Interlocked.Exchange(ref _wakePending, 1) != 0)
            return;
        ulong one = 1;
        LibC.write(_wakeFd, &one, sizeof(ulong));
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_closed)
                return;
            _closed = true;
            // Only a single issuer's own thread may submit to its ring; from any other, the ring's
            // teardown cancels the polls.
            if (_ring is not null && (!_singleIssuer || _wakeOwner == Thread.CurrentThread))
                CancelAll();
        }
        // Closing the ring cancels whatever is left and releases the files the polls hold.
        _ring?.Dispose();
        _shadowEpfdOwner.Dispose();
        _wakeFdOwner.Dispose();
    }

    // Removes every poll from this thread before the ring closes. Left to the ring's teardown, the
    // cancellations complete later, from a kernel worker, as task_work of the threads that armed
    // the polls: that interrupts whatever those threads are blocked in then (an unrelated
    // epoll_wait fails with EINTR). Removed here, the task_work of polls this thread armed runs
    // on this very call's return.
    private void CancelAll()
    {
        foreach (IoUringFdEntry? entry in _entries)
        {
            if (entry is null)
                continue;
            if (entry.Armed)
                _removals.Add(entry.Data);
            if (entry.UpdateInFlight)
                _removals.Add(entry.UpdateFrom);
        }
        if (_wakeData != 0)
            _removals.Add(_wakeData);
        foreach (ulong target in _removals)
        {
            while (!_ring.TryPreparePollRemove(target, RemoveCompletion | target))
                _ring.Submit();
        }
        _removals.Clear();
        _ring.Submit();
        while (_ring.Reap(_batch) == _batch.Length)
        {
        }
    }

    private int Add(IoUringFdEntry entry, Tap tap)
    {
        if (entry.Taps.Length > 0)
        {
            int probe = Shadow(LibC.EPOLL_CTL_MOD, entry.Fd);
            if (probe == 0)
            {
                Publish(entry, Tap.With(entry.Taps, tap), reread: true);
                return 0;
            }
            if (probe is not (LibC.ENOENT or LibC.EBADF))
                return probe;
            // The fd now names another file, or none: the old taps go away quietly with their poll.
            Orphan(entry);
        }
        int error = Shadow(LibC.EPOLL_CTL_ADD, entry.Fd);
        // EEXIST: the shadow already holds this very (file, fd), which is all the oracle needs.
        if (error is not (0 or LibC.EEXIST))
            return error;
        Publish(entry, [tap], reread: true);
        return 0;
    }

    private int Remove(IoUringFdEntry entry, int index, bool keepShadow)
    {
        Tap[] taps = Tap.Without(entry.Taps, index);
        if (taps.Length == 0)
        {
            // The file may be gone already; its taps go away quietly either way.
            if (!entry.Private && !keepShadow)
                Shadow(LibC.EPOLL_CTL_DEL, entry.Fd);
            Orphan(entry);
            return 0;
        }
        Publish(entry, taps, reread: false);
        return 0;
    }

    private int Modify(IoUringFdEntry entry, int index, Tap tap)
    {
        int probe = Shadow(LibC.EPOLL_CTL_MOD, entry.Fd);
        if (probe is LibC.ENOENT or LibC.EBADF)
        {
            // As Linux's MOD would find, the registration went with its file; its poll must go
            // too, or the ring keeps the old file open.
            Orphan(entry);
        }
        if (probe != 0)
            return probe;
        Publish(entry, Tap.Replace(entry.Taps, index, tap), reread: true);
        return 0;
    }

    // New taps take effect for completions reaped from now on; the kernel side catches up when the
    // driver reconciles the entry. ADD and MOD ask for a fresh readiness report (a new arm reads
    // readiness; so does an update, which re-arms the poll in place), which other taps of the fd
    // may see again: taps are hints, and re-reporting never loses an edge.
    private void Publish(IoUringFdEntry entry, Tap[] taps, bool reread)
    {
        entry.Taps = taps;
        entry.Reread |= reread;
        MarkDirty(entry);
    }

    // Drops the fd's taps and queues the removal of every poll that may still be alive for them.
    private void Orphan(IoUringFdEntry entry)
    {
        if (entry.Armed)
            _removals.Add(entry.Data);
        if (entry.UpdateInFlight)
            _removals.Add(entry.UpdateFrom);
        entry.Taps = [];
        entry.Data = 0;
        entry.UpdateInFlight = false;
        entry.Reread = false;
        entry.Private = false;
    }

    private void MarkDirty(IoUringFdEntry entry)
    {
        if (entry.Dirty)
            return;
        entry.Dirty = true;
        _dirty.Add(entry);
    }

    // Driver only, under the lock: turns queued changes into SQEs. Making room in a full SQ submits
    // early and reaps what that produced, which may queue more changes; the loop takes them too.
    // The wake-up poll is checked on every pass: a reap may have found it ended, and a driver must
    // never wait without one.
    private void PrepareChanges()
    {
        while (true)
        {
            if (_wakeOwner != Thread.CurrentThread)
                RehomeWake();
            if (_removals.Count == 0 && _dirty.Count == 0)
                return;
            MakeRoom();
            if (_removals.Count > 0)
            {
                ulong target = _removals[^1];
                _removals.RemoveAt(_removals.Count - 1);
                _ring.TryPreparePollRemove(target, RemoveCompletion | target);
                continue;
            }
            IoUringFdEntry entry = _dirty[^1];
            _dirty.RemoveAt(_dirty.Count - 1);
            entry.Dirty = false;
            Reconcile(entry);
        }
    }

    // Brings one fd's poll in line with its taps, with at most one SQE. An entry with an update in
    // flight waits for its completion, which marks it dirty again.
    private void Reconcile(IoUringFdEntry entry)
    {
        if (entry.UpdateInFlight)
            return;
        if (entry.Taps.Length == 0)
        {
            if (entry.Armed)
                _removals.Add(entry.Data);
            entry.Data = 0;
            return;
        }
        PollEvents mask = PollMask(entry.Taps);
        bool exclusive = IsExclusive(entry.Taps);
        if (entry.Armed && exclusive != entry.ArmedExclusive)
        {
            // An update changes only the low 16 event bits and keeps EPOLLEXCLUSIVE as it was
            // (io_poll_remove): a poll that must become, or stop being, exclusive is replaced.
            _removals.Add(entry.Data);
            entry.Data = 0;
        }
        if (!entry.Armed)
        {
            // A fresh arm names the file by fd number, and Apply validated that number some time
            // ago: if it has since been closed or now names another file, the taps' file is gone,
            // and they go away quietly instead of watching the newcomer.
            if (!entry.Private && Shadow(LibC.EPOLL_CTL_MOD, entry.Fd) is LibC.ENOENT or LibC.EBADF)
            {
                Orphan(entry);
                return;
            }
            entry.Data = NextData((uint)entry.Fd);
            entry.ArmedBy = Thread.CurrentThread;
            _ring.TryPreparePollAdd(entry.Fd, (uint)mask | (exclusive ? (uint)EpollEvents.EPOLLEXCLUSIVE : 0), multishot: true, entry.Data);
            entry.ArmedExclusive = exclusive;
        }
        else if (entry.Reread || mask != entry.ArmedMask)
        {
            // In place: the poll keeps its wait-queue entries and stays multishot, and re-reads
            // readiness. Fresh user data makes completions posted before the update stale.
            ulong data = NextData((uint)entry.Fd);
            _ring.TryPreparePollUpdate(entry.Data, data, (uint)mask, UpdateFlags, UpdateCompletion | data);
            entry.UpdateFrom = entry.Data;
            entry.UpdateInFlight = true;
            entry.Data = data;
        }
        entry.ArmedMask = mask;
        entry.Reread = false;
    }

    // io_uring matches a wake-up's key against a poll's events without EPOLLPRI (the kernel's
    // IO_ASYNC_POLL_COMMON), so a PRI interest alone never wakes: AF_UNIX and TCP wake readers with
    // IN|PRI|RDNORM|RDBAND, which Linux's epoll lets through to a PRI|OUT registration. IN is polled
    // too, for the key to match; the completion still carries the key's PRI, and a completion that
    // carries neither PRI nor anything the taps asked for posts nothing (Tap.Post).
    private static PollEvents PollMask(Tap[] taps)
    {
        PollEvents mask = TapPollMap.ToTarget(Tap.Union(taps)) | AlwaysPolled;
        return (mask & PollEvents.POLLPRI) != 0 ? mask | PollEvents.POLLIN : mask;
    }

    // An exclusive poll's wait-queue entry sits with the exclusive ones at the tail of the file's
    // queue, and a wake-up that reaches it stops there (io_uring/poll.c: __io_queue_proc adds it
    // with add_wait_queue_exclusive; io_poll_wake returns 1), so one wake-up reaches one of the
    // queues that tap the file exclusively; multishot is kept (Linux 6.18: every completion
    // carries F_MORE). As for the kernel-epoll backend, the fd's poll is exclusive only when
    // every tap on it in this queue is.
    private static bool IsExclusive(Tap[] taps)
    {
        foreach (Tap tap in taps)
        {
            if ((tap.Modes & TapModes.Exclusive) == 0)
                return false;
        }
        return taps.Length > 0;
    }

    // The wake-up poll's completions run as task_work of the thread that armed it; armed by the
    // driver, they run inside the driver's own wait with no second thread to schedule.
    private void RehomeWake()
    {
        MakeRoom();
        if (_wakeData != 0)
            _removals.Add(_wakeData);
        _wakeData = NextData(WakeSlot);
        _wakeOwner = Thread.CurrentThread;
        _ring.TryPreparePollAdd(_wakeFd, (uint)PollEvents.POLLIN, multishot: true, _wakeData);
    }

    // Leaves at least one free SQE, submitting what is queued (without waiting) if none is.
    private void MakeRoom()
    {
        while (_ring.PendingSubmissions >= _ring.SqEntries)
        {
            IoUringSubmitResult result = _ring.Submit();
            if (result.Submitted == 0 && result.Errno is not (0 or LibC.EBUSY))
                throw new Win32Exception(result.Errno, "io_uring_enter failed");
            Reap();
        }
    }

    // Reaps every completion, moving overflowed ones into the ring as it empties.
    private void Reap()
    {
        while (true)
        {
            int count = _ring.Reap(_batch);
            for (int i = 0; i < count; i++)
                Handle(_batch[i]);
            if (count == _batch.Length)
                continue;
            if (!_ring.CompletionsOverflowed)
                return;
            // GETEVENTS without waiting flushes the kernel's overflow list into the freed slots.
            _ring.Submit();
        }
    }

    private void Handle(in IoUringCompletion completion)
    {
        switch (completion.UserData & KindMask)
        {
            case PollCompletion when (uint)completion.UserData == WakeSlot:
                HandleWake(completion);
                break;
            case PollCompletion:
                HandlePoll(completion);
                break;
            case UpdateCompletion:
                HandleUpdate(completion);
                break;
            case RemoveCompletion when completion.Result == -LibC.EALREADY:
                // The poll was posting an event and could not be removed; its work done, try again.
                _removals.Add(completion.UserData & ~KindMask);
                break;
        }
    }

    private void HandlePoll(in IoUringCompletion completion)
    {
        if (Lookup((uint)completion.UserData) is not { } entry || entry.Data != completion.UserData)
            return; // stale: a removed, replaced or updated poll
        if (completion.Result >= 0)
        {
            _dispatched++;
            TapFilters ready = entry.Private ? PrivateReady : TapPollMap.ToSource((PollEvents)(ushort)completion.Result);
            _posted |= Tap.Post(_mailbox, entry.Taps, ready);
            if (!completion.HasMore)
                Rearm(entry);
            return;
        }
        entry.Data = 0;
        if (completion.Result == -LibC.ECANCELED)
        {
            // Cancelled by the kernel, not by us (our removals make the data stale first).
            Rearm(entry);
            return;
        }
        // The file can no longer be polled: its taps go away quietly.
        Shadow(LibC.EPOLL_CTL_DEL, entry.Fd);
        Orphan(entry);
    }

    private void HandleUpdate(in IoUringCompletion completion)
    {
        ulong installed = completion.UserData & ~KindMask;
        if (Lookup((uint)installed) is not { } entry || !entry.UpdateInFlight || entry.Data != installed)
            return; // the entry was orphaned meanwhile; its removals cover both user data
        entry.UpdateInFlight = false;
        switch (completion.Result)
        {
            case 0:
                break;
            case -LibC.ENOENT:
                // The poll ended (its last completion is stale now) before the update reached it.
                entry.Data = 0;
                Rearm(entry);
                break;
            case -LibC.EALREADY:
                // It was posting an event and kept its old user data and mask: update it again.
                entry.Data = entry.UpdateFrom;
                entry.Reread = true;
                break;
            default:
                _removals.Add(entry.UpdateFrom);
                entry.Data = 0;
                break;
        }
        MarkDirty(entry);
    }

    private void HandleWake(in IoUringCompletion completion)
    {
        if (completion.UserData != _wakeData)
            return; // an earlier driver's wake-up poll, removed
        _dispatched++;
        // Cleared before the drain, pairing with Wake's exchange: a Wake after this writes again.
        Volatile.Write(ref _wakePending, 0);
        ulong drained;
        LibC.read(_wakeFd, &drained, sizeof(ulong));
        if (!completion.HasMore)
        {
            // Ended (a full CQ, most likely): arm it again; a pending write re-fires it at once.
            _wakeOwner = null;
            _wakeData = 0;
            CountRearm();
        }
    }

    private void Rearm(IoUringFdEntry entry)
    {
        entry.Data = 0;
        CountRearm();
        MarkDirty(entry);
    }

    private void CountRearm()
    {
        // Interlocked: tests and diagnostics read the count from other threads.
        Interlocked.Increment(ref _rearms);
        if (EpollGenMetrics.TapRearms.Enabled)
            EpollGenMetrics.TapRearms.Add(1);
    }

    private ulong NextData(uint slot)
    {
        // 1 … 2^30-1: never 0, so no user data is 0 (0 means "none" in the entries).
        _sequence = _sequence % SequenceLimit + 1;
        return (ulong)_sequence << 32 | slot;
    }

    private int Shadow(int op, int fd) => PrivateFds.CtlEmpty(_shadowEpfd, op, fd);

    private IoUringFdEntry? Lookup(uint fd) => fd < (uint)_entries.Length ? _entries[fd] : null;

    private IoUringFdEntry EntryFor(int fd)
    {
        if (fd >= _entries.Length)
            Array.Resize(ref _entries, Math.Max(_entries.Length * 2, fd + 1));
        return _entries[fd] ??= new IoUringFdEntry(fd);
    }
}
