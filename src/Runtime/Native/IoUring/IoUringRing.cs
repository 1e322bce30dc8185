using System;
using System.Diagnostics;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;
using static EpollGen.Native.IoUring.IoUringConstants;

namespace EpollGen.Native.IoUring;

/// <summary>
/// One io_uring instance: its fd, the mapped submission and completion rings, and the calls that
/// fill SQEs, enter the kernel and reap CQEs. Not thread-safe: one thread at a time submits and
/// reaps (other rings may still target it with <see cref="TryPrepareMsgRing"/>). Without
/// SQPOLL the kernel reads the SQ ring only inside this thread's io_uring_enter(2) and writes the
/// CQ ring from task_work or completion context at any time.
/// </summary>
internal sealed unsafe class IoUringRing : IDisposable
{
    private static int s_supported; // 0 unknown, 1 yes, 2 no
    private static int s_deferSupported; // 0 unknown, 1 yes, 2 no
    private static string? s_unsupportedReason;

    private int _fd;
    private byte* _sqRing;
    private nuint _sqRingBytes;
    private byte* _cqRing; // == _sqRing when the kernel maps both rings as one (IORING_FEAT_SINGLE_MMAP)
    private nuint _cqRingBytes;
    private IoUringSqe* _sqes;
    private nuint _sqesBytes;
    // Own the fd and the mappings above: a ring lost without Dispose goes when collected (the
    // kernel frees it once the fd and every mapping of it are gone).
    private readonly OwnedFd _fdOwner;
    private readonly OwnedMapping _sqRingOwner;
    private readonly OwnedMapping? _cqRingOwner;
    private readonly OwnedMapping _sqesOwner;

    private readonly uint* _sqHead;
    private readonly uint* _sqTail;
    private readonly uint* _sqFlags;
    private readonly uint _sqMask;
    private readonly uint* _cqHead;
    private readonly uint* _cqTail;
    private readonly uint _cqMask;
    private readonly IoUringCqe* _cqes;

    // SQEs handed out so far. Ahead of *_sqTail until Submit publishes it; the slots between
    // *_sqHead and this are filled or being filled and must not be handed out again.
    private uint _sqLocalTail;

    private IoUringRing(int fd, in IoUringParams granted, byte* sqRing, nuint sqRingBytes, byte* cqRing, nuint cqRingBytes, IoUringSqe* sqes, nuint sqesBytes)
    {
        _fd = fd;
        _sqRing = sqRing;
        _sqRingBytes = sqRingBytes;
        _cqRing = cqRing;
        _cqRingBytes = cqRingBytes;
        _sqes = sqes;
        _sqesBytes = sqesBytes;
        _fdOwner = new OwnedFd(fd);
        _sqRingOwner = new OwnedMapping(sqRing, sqRingBytes);
        _cqRingOwner = cqRing != sqRing ? new OwnedMapping(cqRing, cqRingBytes) : null;
        _sqesOwner = new OwnedMapping(sqes, sqesBytes);
        SqEntries = granted.sq_entries;
        CqEntries = granted.cq_entries;
        Features = granted.features;
        SetupFlags = granted.flags;

        IoSqringOffsets sq = granted.SqOffsets;
        _sqHead = (uint*)(sqRing + sq.head);
        _sqTail = (uint*)(sqRing + sq.tail);
        _sqFlags = (uint*)(sqRing + sq.flags);
        _sqMask = *(uint*)(sqRing + sq.ring_mask);
        _sqLocalTail = *_sqTail;

        // The kernel reads SQEs through this index array. Entry i always names SQE i, so the
        // SQE slot and the array slot of a tail value are the same and the array is written once.
        uint* array = (uint*)(sqRing + sq.array);
        for (uint i = 0; i < SqEntries; i++)
            array[i] = i;

        IoCqringOffsets cq = granted.CqOffsets;
        _cqHead = (uint*)(cqRing + cq.head);
        _cqTail = (uint*)(cqRing + cq.tail);
        _cqMask = *(uint*)(cqRing + cq.ring_mask);
        _cqes = (IoUringCqe*)(cqRing + cq.cqes);
    }

    /// <summary>The ring's fd (close-on-exec), the target of another ring's MSG_RING.</summary>
    public int Fd => _fd;

    /// <summary>Submission ring entries the kernel granted (a power of two).</summary>
    public uint SqEntries { get; }

    /// <summary>Completion ring entries the kernel granted (a power of two).</summary>
    public uint CqEntries { get; }

    /// <summary>The <c>IORING_FEAT_*</c> bits the kernel reported.</summary>
    public uint Features { get; }

    /// <summary>The <c>IORING_SETUP_*</c> bits the ring was set up with.</summary>
    public uint SetupFlags { get; }

    /// <summary>
    /// Waits that io_uring_enter(2) abandoned with EINTR: resumed with the time left, or reported
    /// when the caller asked to see interruptions.
    /// </summary>
    public long InterruptedWaits { get; private set; }

    /// <summary>io_uring_enter(2) calls made on this ring, each retry of an interrupted wait included.</summary>
    public long Enters { get; private set; }

    /// <summary>SQEs acquired and not yet consumed by the kernel.</summary>
    public uint PendingSubmissions
    {
        get
        {
            ThrowIfDisposed();
            return _sqLocalTail - Volatile.Read(ref *_sqHead);
        }
    }

    /// <summary>CQEs ready to reap.</summary>
    public uint ReadyCompletions
    {
        get
        {
            ThrowIfDisposed();
            return Volatile.Read(ref *_cqTail) - *_cqHead;
        }
    }

    /// <summary>
    /// True when completions did not fit the CQ ring and wait in the kernel's overflow list; the
    /// next <see cref="Submit(uint, TimeSpan?)"/> moves them into the ring as it frees up. Multishot requests
    /// whose completion overflowed have ended (their last CQE lacks <c>IORING_CQE_F_MORE</c>).
    /// </summary>
    public bool CompletionsOverflowed
    {
        get
        {
            ThrowIfDisposed();
            return (Volatile.Read(ref *_sqFlags) & IORING_SQ_CQ_OVERFLOW) != 0;
        }
    }

    /// <summary>
    /// True when this process can create rings: the system call numbers are known for this
    /// architecture, <c>/proc/sys/kernel/io_uring_disabled</c> does not forbid it and a one-entry
    /// probe ring can be set up.
    /// </summary>
    public static bool IsSupported => UnsupportedReason is null;

    /// <summary>
    /// Why <see cref="IsSupported"/> is false (the failed step and its errno, or the sysctl that
    /// forbids rings), or null when rings can be created. Probed once per process.
    /// </summary>
    /// <exception cref="System.ComponentModel.Win32Exception">
    /// The probe ran out of fds or memory (EMFILE, ENFILE, ENOMEM), which says nothing of io_uring:
    /// the caller's creation fails with that errno, and the next asks again.
    /// </exception>
    public static string? UnsupportedReason
    {
        get
        {
            // Racing first readers may both probe; they reach the same answer, and the string
            // reference is published whole.
            if (Volatile.Read(ref s_supported) == 0)
            {
                (string? reason, int errno) = Probe();
                if (errno is LibC.EMFILE or LibC.ENFILE or LibC.ENOMEM)
                    throw new System.ComponentModel.Win32Exception(errno, reason);
                Volatile.Write(ref s_unsupportedReason, reason);
                Volatile.Write(ref s_supported, reason is null ? 1 : 2);
            }
            return Volatile.Read(ref s_unsupportedReason);
        }
    }

    /// <summary>
    /// Whether rings can be set up with <c>IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN</c>
    /// (Linux 6.1 and later, where io_uring is usable). Probed once per process.
    /// </summary>
    public static bool DeferredTaskRunSupported
    {
        get
        {
            if (Volatile.Read(ref s_deferSupported) == 0)
            {
                bool supported = false;
                if (IsSupported && Create(2, 0, IoUringConstants.IORING_SETUP_SINGLE_ISSUER | IoUringConstants.IORING_SETUP_DEFER_TASKRUN) is { Succeeded: true, Ring: { } ring })
                {
                    ring.Dispose();
                    supported = true;
                }
                Volatile.Write(ref s_deferSupported, supported ? 1 : 2);
            }
            return Volatile.Read(ref s_deferSupported) == 1;
        }
    }

    /// <summary>
    /// Sets up a ring with <paramref name="sqEntries"/> submission entries and, when
    /// <paramref name="cqEntries"/> is not 0, that many completion entries (<c>IORING_SETUP_CQSIZE</c>
    /// is added; otherwise the kernel's default of twice the SQ). <paramref name="flags"/> are more
    /// <c>IORING_SETUP_*</c> bits. Kernel refusals come back as values, never as exceptions.
    /// </summary>
    public static IoUringCreateResult Create(uint sqEntries, uint cqEntries = 0, uint flags = 0)
    {
        ArgumentOutOfRangeException.ThrowIfZero(sqEntries);
        if (!IoUringSyscalls.NumbersKnown)
            return new(null, LibC.ENOSYS, $"io_uring_setup (no system call numbers for {RuntimeInformation.ProcessArchitecture})");

        IoUringParams parameters = default;
        parameters.flags = flags;
        if (cqEntries != 0)
        {
            parameters.flags |= IORING_SETUP_CQSIZE;
            parameters.cq_entries = cqEntries;
        }
        int fd = PrivateFds.Opened(IoUringSyscalls.Setup(sqEntries, &parameters));
        if (fd < 0)
            return new(null, Marshal.GetLastPInvokeError(), "io_uring_setup");
        // The ring is the runtime's own: above the numbers a program is handed next.
        fd = PrivateFds.Move(fd);

        // Submit's timeouts need io_uring_getevents_arg (Linux 5.11); older kernels get epoll.
        if ((parameters.features & IORING_FEAT_EXT_ARG) == 0)
        {
            LibC.close(fd);
            return new(null, LibC.EINVAL, "io_uring_setup (the kernel lacks IORING_FEAT_EXT_ARG)");
        }
        return Map(fd, parameters);
    }

    private static IoUringCreateResult Map(int fd, in IoUringParams granted)
    {
        IoSqringOffsets sq = granted.SqOffsets;
        IoCqringOffsets cq = granted.CqOffsets;
        nuint sqRingBytes = sq.array + granted.sq_entries * sizeof(uint);
        nuint cqRingBytes = cq.cqes + granted.cq_entries * (nuint)sizeof(IoUringCqe);
        bool single = (granted.features & IORING_FEAT_SINGLE_MMAP) != 0;
        if (single)
            sqRingBytes = cqRingBytes = Math.Max(sqRingBytes, cqRingBytes);

        byte* sqRing = null, cqRing = null, sqes = null;
        nuint sqesBytes = granted.sq_entries * (nuint)sizeof(IoUringSqe);
        string? failed = null;
        if ((sqRing = MapRegion(fd, sqRingBytes, IORING_OFF_SQ_RING)) is null)
            failed = "mmap of the SQ ring";
        else if ((cqRing = single ? sqRing : MapRegion(fd, cqRingBytes, IORING_OFF_CQ_RING)) is null)
            failed = "mmap of the CQ ring";
        else if ((sqes = MapRegion(fd, sqesBytes, IORING_OFF_SQES)) is null)
            failed = "mmap of the SQE array";

        if (failed is null)
            return new(new IoUringRing(fd, granted, sqRing, sqRingBytes, cqRing, cqRingBytes, (IoUringSqe*)sqes, sqesBytes), 0, null);

        int errno = Marshal.GetLastPInvokeError();
        if (cqRing is not null && cqRing != sqRing)
            LibC.munmap(cqRing, cqRingBytes);
        if (sqRing is not null)
            LibC.munmap(sqRing, sqRingBytes);
        LibC.close(fd);
        return new(null, errno, failed);
    }

    private static byte* MapRegion(int fd, nuint bytes, long offset)
    {
        void* region = LibC.mmap(null, bytes, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED | LibC.MAP_POPULATE, fd, (nint)offset);
        return region == LibC.MAP_FAILED ? null : (byte*)region;
    }

    /// <summary>
    /// Hands out the next free SQE, zeroed, or returns false when every slot holds an entry the
    /// kernel has not consumed yet (submit, then try again).
    /// </summary>
    public bool TryGetSqe(out IoUringSqe* sqe)
    {
        ThrowIfDisposed();
        // Acquire: pairs with the kernel's release store of the SQ head, made after it copied the
        // entries out. A slot behind that head may be overwritten; one at or past it may not.
        uint head = Volatile.Read(ref *_sqHead);
        if (_sqLocalTail - head >= SqEntries)
        {
            sqe = null;
            return false;
        }
        sqe = _sqes + (_sqLocalTail & _sqMask);
        *sqe = default;
        _sqLocalTail++;
        return true;
    }

    /// <summary>Queues a no-op that completes with result 0.</summary>
    public bool TryPrepareNop(ulong userData)
    {
        if (!TryGetSqe(out IoUringSqe* sqe))
            return false;
        sqe->opcode = IORING_OP_NOP;
        sqe->fd = -1;
        sqe->user_data = userData;
        return true;
    }

    /// <summary>
    /// Queues a poll of <paramref name="fd"/> for the <c>POLL*</c> bits in <paramref name="pollMask"/>.
    /// Single-shot completes once; multishot posts a CQE with <c>IORING_CQE_F_MORE</c> per wake-up
    /// (edge-like, not re-validated: the fd may no longer be ready when it is reaped) until
    /// removed or until a completion cannot be posted.
    /// </summary>
    public bool TryPreparePollAdd(int fd, uint pollMask, bool multishot, ulong userData)
    {
        if (!TryGetSqe(out IoUringSqe* sqe))
            return false;
        sqe->opcode = IORING_OP_POLL_ADD;
        sqe->fd = fd;
        // Rings exist only on x86_64 and arm64 (IoUringSyscalls.NumbersKnown), both little-endian,
        // where poll32_events is in CPU order; on big-endian the kernel would swap its halves.
        sqe->poll32_events = pollMask;
        sqe->len = multishot ? IORING_POLL_ADD_MULTI : 0;
        sqe->user_data = userData;
        return true;
    }

    /// <summary>
    /// Queues the removal of the poll whose user data is <paramref name="targetUserData"/>. The
    /// poll completes with <c>-ECANCELED</c> (no <c>IORING_CQE_F_MORE</c>); this request completes
    /// with 0, or <c>-ENOENT</c> when no such poll is armed.
    /// </summary>
    public bool TryPreparePollRemove(ulong targetUserData, ulong userData)
    {
        if (!TryGetSqe(out IoUringSqe* sqe))
            return false;
        sqe->opcode = IORING_OP_POLL_REMOVE;
        sqe->fd = -1;
        sqe->addr = targetUserData;
        sqe->user_data = userData;
        return true;
    }

    /// <summary>
    /// Queues an in-place update of the poll whose user data is <paramref name="oldUserData"/>.
    /// <paramref name="flags"/> selects what changes: <c>IORING_POLL_UPDATE_EVENTS</c> (to
    /// <paramref name="newMask"/>) and/or <c>IORING_POLL_UPDATE_USER_DATA</c> (to
    /// <paramref name="newUserData"/>). A poll whose events are updated becomes single-shot unless
    /// <c>IORING_POLL_ADD_MULTI</c> is in <paramref name="flags"/> too.
    /// </summary>
    public bool TryPreparePollUpdate(ulong oldUserData, ulong newUserData, uint newMask, uint flags, ulong userData)
    {
        if (!TryGetSqe(out IoUringSqe* sqe))
            return false;
        sqe->opcode = IORING_OP_POLL_REMOVE;
        sqe->fd = -1;
        sqe->addr = oldUserData;
        sqe->off = newUserData;
        sqe->len = flags;
        sqe->poll32_events = newMask;
        sqe->user_data = userData;
        return true;
    }

    /// <summary>
    /// Queues a message to the ring <paramref name="targetRingFd"/>: a CQE appears there with user
    /// data <paramref name="value"/> and result 0, and wakes a thread waiting on that ring. This
    /// ring gets a CQE with <paramref name="userData"/> and result 0 or a negated errno.
    /// </summary>
    public bool TryPrepareMsgRing(int targetRingFd, ulong value, ulong userData)
    {
        if (!TryGetSqe(out IoUringSqe* sqe))
            return false;
        sqe->opcode = IORING_OP_MSG_RING;
        sqe->fd = targetRingFd;
        sqe->addr = IORING_MSG_DATA;
        sqe->len = 0; // the target CQE's res
        sqe->off = value; // the target CQE's user_data
        sqe->user_data = userData;
        return true;
    }

    /// <summary>
    /// Hands the queued SQEs to the kernel and, when <paramref name="minComplete"/> is not 0,
    /// waits until that many completions are ready or <paramref name="timeout"/> passes (no
    /// timeout: wait as long as it takes). Also flushes completions that overflowed. A signal
    /// does not end the wait early: it resumes with the time left on CLOCK_MONOTONIC.
    /// </summary>
    public IoUringSubmitResult Submit(uint minComplete = 0, TimeSpan? timeout = null) => Submit(minComplete, timeout, null, returnOnInterrupt: false);

    /// <summary>
    /// <see cref="Submit(uint, TimeSpan?)"/> with <paramref name="signalMask"/> (a kernel sigset_t
    /// of 8 bytes, or null) installed for the wait and swapped back atomically with it, as
    /// epoll_pwait does; when <paramref name="returnOnInterrupt"/>, a signal ends the wait with
    /// EINTR instead of resuming it (seen only when the call submitted nothing: the kernel reports
    /// a count, not the interruption, otherwise).
    /// </summary>
    public IoUringSubmitResult Submit(uint minComplete, TimeSpan? timeout, void* signalMask, bool returnOnInterrupt)
    {
        ThrowIfDisposed();
        // Release: the SQE bytes the prepare calls wrote become visible before the tail that hands
        // them to the kernel. Without SQPOLL the kernel loads the tail (acquire) inside our own
        // io_uring_enter below, so the system call orders it too; the fence keeps it correct
        // for a kernel thread that polls the ring, and it is a plain store on x86_64.
        Volatile.Write(ref *_sqTail, _sqLocalTail);

        // Stopwatch is CLOCK_MONOTONIC on Linux: the clock the kernel measures the timeout on.
        long deadline = timeout is { } t ? Stopwatch.GetTimestamp() + TicksOf(t) : 0;
        int submitted = 0;
        while (true)
        {
            uint toSubmit = PendingSubmissions;
            KernelTimespec remaining = default;
            IoUringGeteventsArg argument = default;
            uint flags = IORING_ENTER_GETEVENTS;
            if (timeout is not null)
            {
                remaining = TimespecOf(deadline - Stopwatch.GetTimestamp());
                argument.ts = (ulong)&remaining;
            }
            if (signalMask is not null)
            {
                argument.sigmask = (ulong)signalMask;
                argument.sigmask_sz = KernelSigsetSize;
            }
            bool extended = timeout is not null || signalMask is not null;
            if (extended)
                flags |= IORING_ENTER_EXT_ARG;

            Enters++;
            int result = IoUringSyscalls.Enter(_fd, toSubmit, minComplete, flags, extended ? &argument : null, extended ? (nuint)sizeof(IoUringGeteventsArg) : 0);
            if (result < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno != LibC.EINTR)
                    return new(submitted, errno);
                // Interrupted by a signal before the wait was satisfied (the kernel reports the
                // wait's error only when it submitted nothing). Resume on the same deadline,
                // unless the caller must see the interruption (epoll_wait's EINTR).
                InterruptedWaits++;
                if (returnOnInterrupt)
                    return new(submitted, LibC.EINTR);
                continue;
            }

            submitted += result;
            if (minComplete == 0 || ReadyCompletions >= minComplete)
                return new(submitted, 0);
            // The call submitted something, which hides an interrupted or timed-out wait.
            if (timeout is not null && Stopwatch.GetTimestamp() >= deadline)
                return new(submitted, LibC.ETIME);
        }
    }

    /// <summary>Copies the oldest ready completion without consuming it; false when none is ready.</summary>
    public bool TryPeek(out IoUringCompletion completion)
    {
        ThrowIfDisposed();
        uint head = *_cqHead; // only this thread writes the CQ head
        // Acquire: pairs with the kernel's release store of the CQ tail, made after it wrote the
        // CQE. Without it the CQE below could be read before the kernel's write of it lands.
        if (head == Volatile.Read(ref *_cqTail))
        {
            completion = default;
            return false;
        }
        completion = Copy(head);
        return true;
    }

    /// <summary>Consumes <paramref name="count"/> completions already read with <see cref="TryPeek"/>.</summary>
    public void Advance(uint count = 1)
    {
        ThrowIfDisposed();
        Debug.Assert(count <= ReadyCompletions);
        // Release: our reads of the consumed CQEs complete before the kernel, which loads the
        // head with acquire, sees their slots as free and writes new completions into them.
        Volatile.Write(ref *_cqHead, *_cqHead + count);
    }

    /// <summary>Copies up to <c>into.Length</c> ready completions, oldest first, consumes them and returns how many.</summary>
    public int Reap(Span<IoUringCompletion> into)
    {
        ThrowIfDisposed();
        uint head = *_cqHead;
        // Acquire, as in TryPeek: every CQE up to this tail is fully written.
        uint ready = Volatile.Read(ref *_cqTail) - head;
        int count = (int)Math.Min(ready, (uint)into.Length);
        for (int i = 0; i < count; i++)
            into[i] = Copy(head + (uint)i);
        if (count > 0)
            Advance((uint)count); // release, as in Advance: the copies above are done
        return count;
    }

    // The kernel's sigset_t is 64 bits on every 64-bit ABI; io_uring_enter refuses other sizes.
    private const uint KernelSigsetSize = 8;

    private IoUringCompletion Copy(uint index)
    {
        IoUringCqe* cqe = _cqes + (index & _cqMask);
        return new IoUringCompletion(cqe->user_data, cqe->res, cqe->flags);
    }

    /// <summary>Unmaps the rings and closes the ring fd, which cancels every armed request.</summary>
    public void Dispose()
    {
        if (_fd < 0)
            return;
        _sqesOwner.Dispose();
        _cqRingOwner?.Dispose();
        _sqRingOwner.Dispose();
        _fdOwner.Dispose();
        _sqes = null;
        _sqRing = _cqRing = null;
        _fd = -1;
    }

    // The ring pointers point into memory Dispose unmapped: touching them would fault, not throw.
    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_fd < 0, this);

    // Why rings cannot be created, or null, with the errno of the failed creation (0 if none).
    private static (string? Reason, int Errno) Probe()
    {
        if (!IoUringSyscalls.NumbersKnown)
            return ($"no io_uring system call numbers for {RuntimeInformation.ProcessArchitecture}", 0);
        if (ReadDisabledSetting() == 2)
            return ("/proc/sys/kernel/io_uring_disabled is 2 (io_uring is disabled for every process)", 0);
        // On a thread of its own: a ring's teardown queues kernel task work on every thread that set
        // it up or submitted to it, and that work interrupts the thread's next wait with EINTR as a
        // signal would. The probe's thread has exited by then; a caller's epoll_wait must not see it.
        IoUringCreateResult probe = default;
        var prober = new Thread(() =>
        {
            probe = Create(1);
            probe.Ring?.Dispose();
        }) { IsBackground = true, Name = "EpollGen io_uring probe" };
        LibC.StartWithProgramSignalsBlocked(prober.Start);
        prober.Join();
        return probe.Succeeded ? (null, 0) : (probe.ToString(), probe.Errno);
    }

    // 0: anyone may create rings; 1: only members of io_uring_group (setup says EPERM to others);
    // 2: nobody. Kernels before 6.6 have no such file and allow everyone.
    private static int ReadDisabledSetting()
    {
        try
        {
            return int.Parse(File.ReadAllText("/proc/sys/kernel/io_uring_disabled").Trim(), System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return 0;
        }
        catch (UnauthorizedAccessException)
        {
            return 0;
        }
    }

    // Capped at about 146 years of nanoseconds, so deadlines and timespecs never overflow.
    private static long TicksOf(TimeSpan timeout) =>
        timeout <= TimeSpan.Zero ? 0 : (long)Math.Min(Math.Ceiling(timeout.Ticks * (double)Stopwatch.Frequency / TimeSpan.TicksPerSecond), long.MaxValue / 2);

    // Rounded up, so the kernel never wakes before the deadline; negative means none is left.
    private static KernelTimespec TimespecOf(long stopwatchTicks)
    {
        if (stopwatchTicks <= 0)
            return default;
        long nanoseconds = (long)Math.Ceiling(stopwatchTicks * 1e9 / Stopwatch.Frequency);
        return new KernelTimespec { tv_sec = nanoseconds / 1_000_000_000, tv_nsec = nanoseconds % 1_000_000_000 };
    }
}
