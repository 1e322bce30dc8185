using System;
using System.Buffers;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using EpollGen.Events;
using EpollGen.Interop;
using EpollGen.Native;
using EpollGen.Taps;

namespace EpollGen;

/// <summary>
/// An epoll instance built on the substrate: every registration is a tap that posts to the set's
/// own event queue, and a wait turns the coalesced posts into epoll events with exactly Linux's
/// semantics: reported masks are what the kernel read when the wait harvested the taps (registered
/// ∩ ready, plus EPOLLERR|EPOLLHUP); level-triggered registrations are level-triggered in the
/// kernel and each harvest takes at most maxevents, so calls round-robin when more are ready than
/// fit, and edge-triggered ones that did not fit go back to the kernel to be re-read;
/// EPOLLONESHOT disarms on delivery, in the kernel too, until MOD.
/// </summary>
/// <remarks>
/// <para>
/// The set is named by a real kernel fd (<see cref="Fd"/>): poll, select and the kernel's own
/// epoll see it readable while it has events, and it nests in other sets. Level-triggered use costs
/// the kernel's re-check of the fd at every wait, as in Linux; edge-triggered use costs nothing
/// beyond the kernel wait. Calls from several threads are safe.
/// </para>
/// <para>
/// On the io_uring tap backend the set re-reads readiness itself: completions make a registration
/// a candidate in a user-space ready list that each wait re-reads with poll(2), EPOLLONESHOT
/// disarms in the set, and <see cref="Fd"/> is a kernel epoll instance of the set's own; a
/// registered fd closed through EpollGen moves to a proxy that keeps its file's registration
/// reporting while the file lives on, and nested io_uring sets count the wake-ups Linux would give
/// their pollers. EPOLLEXCLUSIVE is an exclusive ring poll there, which takes a wake-up even
/// while no thread waits on its set (Linux passes it on to a set with a waiter), and a few races
/// are approximate; the io_uring readiness class states each.
/// </para>
/// </remarks>
public sealed class EpollSet : IDisposable
{
    private const int MessageBatch = 64;

    private readonly EventQueue _queue;
    // Guards the set's registrations and everything its readiness object touches (see SetReadiness).
    private readonly Lock _lock = new();
    private readonly SetReadiness _readiness;
    private readonly SetNesting _nesting;
    private int _disposed;

    // Threads in a wait of this set (WaitCore, WaitAsync): a delivery reads it under the lock, and
    // a wait counts itself before its first delivery, so a thread the count misses delivers after
    // the reader and sees its ready list itself. Counted only where the readiness object reads it
    // (SetReadiness.ReadsWaiters): every waiting thread writes it twice per wait.
    private int _waiters;
    private readonly bool _countsWaiters;

    /// <summary>
    /// Whether the set is in <see cref="EpollNames.Sets"/>: from its first libc-shaped name until
    /// its last reference goes (<see cref="Release"/>); guarded by <see cref="EpollNames"/>' lock.
    /// </summary>
    internal bool Listed;

    /// <summary>Creates an empty set.</summary>
    /// <param name="closeOnExec">Whether <see cref="Fd"/> has FD_CLOEXEC, as <c>EPOLL_CLOEXEC</c> asks.</param>
    /// <param name="tapBackend">
    /// The tap backend of the set's queue. Null picks the one the <c>EPOLLGEN_TAP_BACKEND</c>
    /// environment variable names (<c>epoll</c> or <c>io_uring</c>), and kernel epoll when it is
    /// unset: unlike a bare <see cref="EventQueue"/>, a set defaults to epoll, which gives Linux's
    /// semantics with nothing re-checked in user space. <see cref="TapBackend"/> reports the choice.
    /// </param>
    /// <exception cref="EpollException">The kernel refused an fd (EMFILE, ENFILE, ENOMEM).</exception>
    /// <exception cref="NotSupportedException">io_uring was asked for and is not usable here.</exception>
    /// <exception cref="ArgumentException"><c>EPOLLGEN_TAP_BACKEND</c> names no backend.</exception>
    public EpollSet(bool closeOnExec = true, TapBackendKind? tapBackend = null)
        : this(closeOnExec, tapBackend, trustTaps: false)
    {
    }

    /// <summary>Creates an empty set that may trust its taps.</summary>
    /// <param name="closeOnExec">As in <see cref="EpollSet(bool, TapBackendKind?)"/>.</param>
    /// <param name="tapBackend">As in <see cref="EpollSet(bool, TapBackendKind?)"/>.</param>
    /// <param name="trustTaps">
    /// Opt-in for edge-triggered users who read or write until EAGAIN: on io_uring taps, an
    /// edge-triggered registration (without ONESHOT) is reported with the bits its poll completions
    /// carried, without the poll(2) re-read that makes the mask exact. A completion can be stale, so
    /// a report may be spurious (the fd turns out not ready); no edge is lost. Level-triggered,
    /// one-shot and nested registrations stay exact, and kernel epoll taps are exact whatever this
    /// says (the kernel re-reads at harvest for free). <see cref="TrustsTaps"/> tells.
    /// </param>
    public EpollSet(bool closeOnExec, TapBackendKind? tapBackend, bool trustTaps)
    {
        _nesting = new SetNesting(this);
        // The one choice of backend the set makes: its readiness object creates the backend and the
        // queue, and holds the backend with its own type.
        _readiness = TapBackendSelection.ChooseForEpollSet(tapBackend) == TapBackendKind.IoUring
            ? new IoUringReadiness(this, _lock, closeOnExec, trustTaps)
            : new KernelEpollReadiness(this, _lock, closeOnExec);
        _queue = _readiness.Queue;
        _countsWaiters = _readiness.ReadsWaiters;
        EpollNames.Own(Fd, this);
    }

    /// <summary>The tap backend behind the set.</summary>
    public TapBackendKind TapBackend => _queue.TapBackend;

    /// <summary>
    /// Whether edge-triggered registrations are reported as their taps said, unchecked: asked for
    /// at creation, and only ever true on io_uring taps.
    /// </summary>
    public bool TrustsTaps => _readiness.TrustsTaps;

    /// <summary>
    /// The kernel fd that names the set: readable (poll, select, a kernel epoll) while the set has
    /// events to report. Do not close it; <see cref="Dispose"/> does.
    /// </summary>
    public int Fd => _readiness.Fd;

    /// <summary>How many registrations the set holds.</summary>
    public int Count => _readiness.Count;

    /// <summary>The set's event queue, for its counters.</summary>
    public EventQueue Queue => _queue;

    /// <summary>Registers <paramref name="fd"/> (EPOLL_CTL_ADD).</summary>
    /// <exception cref="EpollException">EBADF, EEXIST, EINVAL, ELOOP, EPERM, ENOMEM, ENOSPC.</exception>
    public void Add([EpollArgument(EpollArgumentRole.Target, SelfFd = nameof(Fd))] int fd, [EpollArgument(EpollArgumentRole.AddMask)] EpollEvents events, ulong data) => ThrowOnError("epoll_ctl(ADD)", Control(LibC.EPOLL_CTL_ADD, fd, events, data, null));

    /// <summary>
    /// Registers the fd of <paramref name="handle"/> and keeps the handle referenced until the
    /// registration is removed or the set disposed, so the fd cannot be closed and its number reused
    /// underneath the registration.
    /// </summary>
    /// <exception cref="EpollException">As <see cref="Add(int, EpollEvents, ulong)"/>.</exception>
    /// <exception cref="ObjectDisposedException">The handle is closed.</exception>
    public void Add(SafeHandle handle, [EpollArgument(EpollArgumentRole.AddMask)] EpollEvents events, ulong data)
    {
        ArgumentNullException.ThrowIfNull(handle);
        bool added = false;
        handle.DangerousAddRef(ref added);
        int error = Control(LibC.EPOLL_CTL_ADD, (int)handle.DangerousGetHandle(), events, data, handle);
        if (error != 0)
        {
            handle.DangerousRelease();
            ThrowOnError("epoll_ctl(ADD)", error);
        }
    }

    /// <summary>Changes the mask and data of <paramref name="fd"/>'s registration (EPOLL_CTL_MOD); re-reads readiness.</summary>
    /// <exception cref="EpollException">EBADF, ENOENT, EINVAL, EPERM.</exception>
    public void Modify([EpollArgument(EpollArgumentRole.Target, SelfFd = nameof(Fd))] int fd, [EpollArgument(EpollArgumentRole.ModifyMask)] EpollEvents events, ulong data) => ThrowOnError("epoll_ctl(MOD)", Control(LibC.EPOLL_CTL_MOD, fd, events, data, null));

    /// <summary>Changes the registration of <paramref name="handle"/>'s fd (EPOLL_CTL_MOD).</summary>
    public void Modify(SafeHandle handle, [EpollArgument(EpollArgumentRole.ModifyMask)] EpollEvents events, ulong data) => Modify(HandleFd(handle), events, data);

    /// <summary>Removes <paramref name="fd"/>'s registration (EPOLL_CTL_DEL).</summary>
    /// <exception cref="EpollException">EBADF, ENOENT, EINVAL.</exception>
    public void Remove(int fd) => ThrowOnError("epoll_ctl(DEL)", Control(LibC.EPOLL_CTL_DEL, fd, 0, 0, null));

    /// <summary>Removes the registration of <paramref name="handle"/>'s fd and releases the handle.</summary>
    public void Remove(SafeHandle handle) => Remove(HandleFd(handle));

    /// <summary>EPOLL_CTL_ADD without exceptions: false, with the errno, on failure.</summary>
    public bool TryAdd([EpollArgument(EpollArgumentRole.Target, SelfFd = nameof(Fd))] int fd, [EpollArgument(EpollArgumentRole.AddMask)] EpollEvents events, ulong data, out int errno) =>
        (errno = Control(LibC.EPOLL_CTL_ADD, fd, events, data, null)) == 0;

    /// <summary>EPOLL_CTL_MOD without exceptions: false, with the errno, on failure.</summary>
    public bool TryModify([EpollArgument(EpollArgumentRole.Target, SelfFd = nameof(Fd))] int fd, [EpollArgument(EpollArgumentRole.ModifyMask)] EpollEvents events, ulong data, out int errno) =>
        (errno = Control(LibC.EPOLL_CTL_MOD, fd, events, data, null)) == 0;

    /// <summary>EPOLL_CTL_DEL without exceptions: false, with the errno, on failure.</summary>
    public bool TryRemove(int fd, out int errno) => (errno = Control(LibC.EPOLL_CTL_DEL, fd, 0, 0, null)) == 0;

    /// <summary>
    /// Waits until registrations are ready or <paramref name="timeout"/> passes, and fills
    /// <paramref name="events"/> as epoll_wait does. Returns how many; 0 when the timeout passed.
    /// The deadline is on the monotonic clock and never ends early; signals do not end the wait.
    /// </summary>
    /// <param name="events">Where to put the events; its length is maxevents.</param>
    /// <param name="timeout"><see cref="Timeout.InfiniteTimeSpan"/>, zero (poll) or a positive duration.</param>
    public unsafe int Wait([EpollArgument(EpollArgumentRole.EventBuffer)] Span<EpollEvent> events, [EpollArgument(EpollArgumentRole.TimeoutTimeSpan)] TimeSpan timeout)
    {
        if (events.IsEmpty)
            throw new ArgumentException("The buffer must hold at least one event.", nameof(events));
        var sink = new SpanSink(events);
        return WaitCore(ref sink, events.Length, Deadline(timeout), interruptible: false);
    }

    /// <summary>
    /// Waits for events without polling the kernel first: for a loop that does nothing but wait
    /// (an AsyncFd engine), whose every wait follows the handling of the last one's events. Linux's
    /// "every fd ready when the call began" matters to a caller that did other work between waits;
    /// to the loop it only costs a second system call per wake-up.
    /// </summary>
    internal unsafe int WaitWithoutPoll(Span<EpollEvent> events)
    {
        var sink = new SpanSink(events);
        return WaitCore(ref sink, events.Length, long.MaxValue, interruptible: false, pollFirst: false);
    }

    /// <summary>
    /// Waits asynchronously, as <see cref="Wait"/> does, until registrations are ready, the
    /// timeout passes or <paramref name="cancellationToken"/> is cancelled. No allocation per wait in
    /// steady state.
    /// </summary>
    /// <exception cref="OperationCanceledException">The token was cancelled first.</exception>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<int> WaitAsync([EpollArgument(EpollArgumentRole.EventBuffer)] Memory<EpollEvent> events, [EpollArgument(EpollArgumentRole.TimeoutTimeSpan)] TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        if (events.IsEmpty)
            throw new ArgumentException("The buffer must hold at least one event.", nameof(events));
        long deadline = Deadline(timeout);
        int reported = Wait(events.Span, TimeSpan.Zero);
        CeqMessage[] messages = ArrayPool<CeqMessage>.Shared.Rent(MessageBatch);
        CountWaiter(+1);
        try
        {
            while (reported == 0)
            {
                long remaining = deadline - Stopwatch.GetTimestamp();
                if (remaining <= 0)
                    return 0;
                TimeSpan left = deadline == long.MaxValue ? Timeout.InfiniteTimeSpan : Stopwatch.GetElapsedTime(0, remaining);
                ValueTask<int> wait;
                using (_queue.Mailbox.HoldTakes())
                    wait = _queue.WaitAsync(messages, left, cancellationToken);
                int taken = await wait.ConfigureAwait(false);
                var sink = new SpanSink(events.Span);
                lock (_lock)
                    reported = _readiness.Report(messages, taken, ref sink, events.Length);
            }
            return reported;
        }
        finally
        {
            CountWaiter(-1);
            _queue.Mailbox.ReleaseTaken();
            ArrayPool<CeqMessage>.Shared.Return(messages);
        }
    }

    /// <summary>
    /// Removes every registration, releases their handles and closes the set's fds, at once: waits
    /// in flight on the set end with <see cref="ObjectDisposedException"/>, as they do on any
    /// disposed .NET handle. (The libc-shaped <see cref="Epoll.close"/> is Linux's close instead: a
    /// wait in flight holds the set, which goes when the last name and the last such wait are gone.)
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        lock (_lock)
            _readiness.Clear();
        // Linux drops a closed set from the sets it was registered in; here their entries stay
        // until removed, but they no longer count as links, in EpollGen's graph or in the
        // kernel's picture of the io_uring sets' shadows.
        foreach (EpollSet parent in _nesting.LeaveParents())
            parent._readiness.DropMirrorsOf(this);
        EpollNames.Disown(Fd, this);
        _readiness.Close();
    }

    // A libc-shaped set's references, counted as Linux counts its file's: one per name in
    // EpollNames and one per call in flight in Epoll that holds the set (a wait, a dup). A new set
    // holds one, which its first name takes over; sets used only through this class ignore it.
    // On a cache line of its own: every libc-shaped wait writes it twice, and the fields the set's
    // calls only read would otherwise move between the waiting threads' cores with it.
    private PaddedCount _references = new() { Value = 1 };

    /// <summary>
    /// Takes a reference, as Linux's fdget does, unless the last one is gone (false: the set is
    /// being disposed, and every name it had was removed before).
    /// </summary>
    internal bool TryReference()
    {
        int seen = Volatile.Read(ref _references.Value);
        while (seen > 0)
        {
            // Not an increment: the last Release may take the count to 0 between the read and this
            // write, and a set at 0 is being disposed; the exchange fails then and sees the 0.
            int previous = Interlocked.CompareExchange(ref _references.Value, seen + 1, seen);
            if (previous == seen)
                return true;
            seen = previous;
        }
        return false;
    }

    /// <summary>
    /// Drops a reference; the last disposes the set, as the last fput releases Linux's file, and
    /// keeps the calling thread's last P/Invoke error, which a libc-shaped call is returning.
    /// </summary>
    internal void Release()
    {
        // The decrement that reaches 0 is the only one: no TryReference succeeds once the count is
        // 0, so exactly one caller disposes, after every other holder let go.
        if (Interlocked.Decrement(ref _references.Value) != 0)
            return;
        int errno = Marshal.GetLastPInvokeError();
        EpollNames.Unlist(this);
        Dispose();
        Marshal.SetLastPInvokeError(errno);
    }

    /// <summary>Whether the set has been disposed.</summary>
    internal bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>The set's backend-specific part, for the sets it is registered in.</summary>
    internal SetReadiness Readiness => _readiness;

    /// <summary>The set's place in the graph of nested sets.</summary>
    internal SetNesting Nesting => _nesting;

    /// <summary>How many threads are in a wait of this set, where the readiness object reads it (<see cref="SetReadiness.ReadsWaiters"/>).</summary>
    internal int Waiters => Volatile.Read(ref _waiters);

    /// <summary>
    /// Drops the registration of <paramref name="fd"/>, which is about to be closed, as Linux drops
    /// it when the file's last fd closes. Registrations that hold a SafeHandle cannot be closed
    /// underneath and are kept.
    /// </summary>
    internal void ForgetClosed(int fd)
    {
        lock (_lock)
        {
            if (_disposed == 0)
                _readiness.BeforeClose(fd);
        }
    }

    /// <summary>
    /// After <paramref name="fd"/> was closed (kernel epoll sets): its registration stays, as an
    /// orphan that goes on reporting, when the kernel still holds it because the file is open
    /// elsewhere; otherwise it goes. Orphans whose file has since been released go too.
    /// </summary>
    internal void AfterClose(int fd)
    {
        lock (_lock)
        {
            if (_disposed == 0)
                _readiness.AfterClose(fd);
        }
    }

    /// <summary>
    /// One epoll_ctl, with Linux's errors in Linux's order (after the checks on epfd, which name
    /// this set). Returns 0 or the errno; on error nothing changed.
    /// </summary>
    internal int Control(int op, int fd, EpollEvents events, ulong data, SafeHandle? handle)
    {
        if (fd < 0)
            return LibC.EBADF;
        int error;
        lock (_lock)
        {
            if (_disposed != 0)
                return LibC.EBADF;
            _readiness.BeforeCtl(op, fd);
            error = op switch
            {
                LibC.EPOLL_CTL_ADD => _readiness.Add(fd, events, data, handle),
                LibC.EPOLL_CTL_MOD => _readiness.Modify(fd, events, data),
                LibC.EPOLL_CTL_DEL => _readiness.Remove(fd),
                _ => LibC.EINVAL,
            };
            _readiness.AfterCtl(fd, armed: error == 0 && op != LibC.EPOLL_CTL_DEL);
        }
        return CtlRules.AsksTarget(error) ? CtlRules.FirstError(CtlRules.TargetError(fd), error) : error;
    }

    /// <summary>
    /// The wait of <see cref="Wait"/> and of the libc-shaped epoll_wait: returns the count, 0 on
    /// timeout, or -1 when <paramref name="interruptible"/> and a signal interrupted it first.
    /// <paramref name="signalMask"/> is installed atomically with the kernel wait (epoll_pwait).
    /// </summary>
    // The message buffer is written by each take before it is read: no need to zero 1.5 KiB per wait.
    [SkipLocalsInit]
    internal unsafe int WaitCore<TSink>(ref TSink sink, int maxEvents, long deadline, bool interruptible, void* signalMask = null, bool pollFirst = true)
        where TSink : IEventSink, allows ref struct
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        Span<CeqMessage> messages = stackalloc CeqMessage[MessageBatch];
        CountWaiter(+1);
        using var held = _queue.Mailbox.HoldTakes();
        try
        {
            // A poll of the kernel first, so readiness that arrived before the call is reported now.
            int taken = pollFirst ? _queue.Wait(messages, 0, interruptible: false, maxEvents, signalMask) : 0;
            while (true)
            {
                int reported;
                lock (_lock)
                    reported = _readiness.Report(messages, taken, ref sink, maxEvents);
                if (reported > 0 || sink.Faulted || Stopwatch.GetTimestamp() >= deadline)
                    return reported;
                taken = _queue.Wait(messages, deadline, interruptible, maxEvents, signalMask);
                if (taken < 0)
                    return -1;
            }
        }
        finally
        {
            CountWaiter(-1);
            _queue.Mailbox.ReleaseTaken();
        }
    }

    private void CountWaiter(int change)
    {
        // Atomic: waits on several threads enter and leave at once.
        if (_countsWaiters)
            Interlocked.Add(ref _waiters, change);
    }

    // Linux's checks' probe exists before the first set does (see CtlRules.OpenProbe).
    static EpollSet() => CtlRules.OpenProbe();

    private static int HandleFd(SafeHandle handle)
    {
        ArgumentNullException.ThrowIfNull(handle);
        return (int)handle.DangerousGetHandle();
    }

    private static void ThrowOnError(string operation, int errno)
    {
        if (errno != 0)
            throw new EpollException(operation, errno);
    }

    private static long Deadline(TimeSpan timeout)
    {
        if (timeout == Timeout.InfiniteTimeSpan)
            return long.MaxValue;
        if (timeout < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "The timeout must be infinite, zero or positive.");
        return Stopwatch.GetTimestamp() + (long)Math.Min(timeout.TotalSeconds * Stopwatch.Frequency, long.MaxValue / 2);
    }

    [StructLayout(LayoutKind.Explicit, Size = 3 * 64)]
    private struct PaddedCount
    {
        [FieldOffset(64)]
        public int Value;
    }
}
