using System;
using System.Buffers;
using System.Collections.Generic;
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
/// On the io_uring tap backend the kernel neither re-reads readiness at harvest nor keeps
/// level-triggered entries, so the set does: completions only make a registration a candidate in
/// a user-space ready list, and each wait re-reads the candidates with one poll(2) per batch of
/// 64 (registered ∩ revents, plus EPOLLERR|EPOLLHUP; POLLNVAL drops), reports those that are
/// ready, in list order, moves reported level-triggered entries to the tail and leaves those that
/// did not fit at the head (Linux's round-robin). EPOLLONESHOT disarms in the set: completions
/// for a disarmed registration are dropped. EPOLLEXCLUSIVE is accepted with Linux's checks but has
/// no io_uring form: every set tapping the file wakes (only the number of wake-ups differs).
/// <see cref="Fd"/> is then a kernel epoll instance of the set's own holding the ring fd and an
/// eventfd raised while the ready list is not empty; nesting depth and cycles (ELOOP) are checked
/// in EpollGen's graph of sets, and a nested io_uring set answers its parent's poll itself, after
/// bringing its ready list up to date, as Linux re-polls a nested set's entries. Approximate: a
/// completion that turns out stale keeps <see cref="Fd"/> readable until the next wait, ctl or
/// nested poll of the set collects it; and when several threads use one set, completions another
/// thread is still collecting may reach a wait late. The ring's poll of an fd holds its file, so
/// when a registered fd is closed through EpollGen its registration moves first to a proxy, an
/// epoll instance of the set's own that holds (fd, file) without a reference and that the ring
/// polls instead: the close releases a file no other fd holds, and a file that lives on keeps its
/// registration reporting, keyed by (fd, file), as in Linux. Approximate: when the fd's poll was
/// armed by another thread than the closing one (its completions may still be on their way), an
/// edge-triggered registration's readiness at the close is kept as an edge, so it may be reported
/// once more; never lost.
/// </para>
/// <para>
/// Nested io_uring sets. <see cref="Fd"/> also wakes on the ring's own completions (the driver's
/// wake-ups, acknowledgements of poll updates and removals), which have no Linux counterpart. So
/// the set counts the wake-ups Linux would give its pollers: a completion for an armed entry
/// that asked for what it carries (ep_poll_callback), and an ADD or MOD that queues a ready entry
/// (ep_insert, ep_modify). A set's registration of a nested io_uring set is queued only when that
/// count moved, and only if it asks for EPOLLIN, the one key a set wakes its pollers with; its
/// harvest re-polls the nested set, so an edge-triggered or one-shot registration reports the set
/// when it is ready after a wake-up, whatever else made it ready, as in Linux. Not matched: a
/// wake-up that carries no key and finds the fd not ready for its entry (a unix socket's
/// shutdown wakes both ends so) posts nothing in io_uring, so no registration of the set hears of
/// it; and pollers of <see cref="Fd"/> other than io_uring sets (poll(2), a kernel epoll, a
/// kernel-epoll set) still see the ring's own wake-ups. Linux's limit on wake-up paths (EINVAL
/// from an ADD that gives a file too many) is the kernel's own: the backend's shadow epoll holds
/// every tapped fd, and a registration of another io_uring set puts a dup of that set's shadow
/// in it, so the shadows nest as the sets do.
/// </para>
/// </remarks>
public sealed class EpollSet : IDisposable
{
    private const EpollEvents AlwaysReported = EpollEvents.EPOLLERR | EpollEvents.EPOLLHUP;

    // What poll(2) can report, bit for bit the same values as epoll's (EPOLLMSG is never reported).
    private const EpollEvents Pollable = EpollEvents.EPOLLIN | EpollEvents.EPOLLPRI | EpollEvents.EPOLLOUT
        | EpollEvents.EPOLLERR | EpollEvents.EPOLLHUP | EpollEvents.EPOLLRDNORM | EpollEvents.EPOLLRDBAND
        | EpollEvents.EPOLLWRNORM | EpollEvents.EPOLLWRBAND | EpollEvents.EPOLLRDHUP;

    private const int MessageBatch = 64;

    // The user data of ids that name no registration: no fd has this number.
    private const ulong NoFd = int.MaxValue;

    // Candidates re-read per poll(2) on the io_uring backend.
    private const int PollBatch = 64;

    private readonly EventQueue _queue;
    private readonly object _lock = new();

    // Per wait, under the lock: registrations whose taps fired, in firing order, and those that
    // did not fit and that the kernel will not re-queue by itself.
    private readonly List<Registration> _candidates = [];
    private readonly List<Registration> _unreported = [];
    private Registration?[] _byFd = new Registration?[64];
    // Registrations whose fd was closed while its file stayed open elsewhere: Linux keeps them,
    // keyed by (fd, file), reporting until the file is released.
    private readonly List<Registration> _orphans = [];
    private readonly bool _trustTaps;
    // Orphans that fired but did not fit a wait: they cannot be re-armed through a closed fd, so
    // they stay candidates for the next wait, and the set's fd is kept readable meanwhile.
    private readonly List<Registration> _carried = [];
    private int _count;
    private int _disposed;

    // io_uring backend only (false, -1 and empty on kernel epoll), under the lock: the user-space
    // ready list in report order, the spare list the next order is built in, the reported
    // level-triggered entries bound for the tail, and the eventfd that tells the name fd it is
    // not empty.
    private readonly bool _userSpaceReady;
    private readonly int _nameFd = -1;
    private readonly int _indicatorFd = -1;
    private bool _indicatorRaised;
    private List<Registration> _ready = [];
    private List<Registration> _readyNext = [];
    private readonly List<Registration> _readyTail = [];

    // io_uring only: an id of the set's queue posted to when a delivery leaves the ready list not
    // empty while other threads wait, so one of them wakes and delivers in turn, as Linux wakes the
    // next waiter after a scan that left entries on the ready list (ep_done_scan). The kernel-epoll
    // backend needs none: its kernel waiters are woken by the kernel's own ready list.
    private readonly CeqId _nextWaiter;

    // Threads in a wait of this set (WaitCore, WaitAsync): a delivery reads it under the lock, and
    // a wait counts itself before its first delivery, so a thread the count misses delivers after
    // the reader and sees its ready list itself.
    private int _waiters;

    // io_uring sets, under the lock: the registrations of other io_uring sets, each with its dup
    // of the target's shadow epoll, held in this set's shadow (see MirrorLink).
    private Dictionary<Registration, int>? _mirrors;

    // io_uring sets, under the lock: the proxy epoll instance of each registration whose fd was
    // closed through EpollGen (see StageProxy), and an empty one kept for the next close, or -1.
    private Dictionary<Registration, int>? _proxies;
    private int _spareProxy = -1;

    // Whether kcmp(KCMP_EPOLL_TFD) answers in this process (some sandboxes refuse it); learnt at the
    // first close of a registered fd of an io_uring set.
    private static bool? s_kernelAnswers;

    // io_uring only, under the lock: how many times Linux would have woken the pollers of this
    // set's fd (ep_poll_callback for an armed entry; ep_insert or ep_modify queueing a ready one).
    // The name fd also wakes on the ring's own completions, which have no Linux counterpart, so a
    // set this one is registered in takes a completion on it as a wake-up only when this moved.
    private uint _wakes;

    // io_uring only, under the lock: the registration whose ADD or MOD, or whose move to a proxy
    // at its fd's close, is being collected. Its completions then answer the arm or update, whose
    // readiness the ctl read itself, or that reports nothing new.
    private Registration? _arming;

    private readonly SetNesting _nesting;

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
        TapBackendKind kind = TapBackendSelection.ChooseForEpollSet(tapBackend);
        _queue = new EventQueue(tapBackend: kind);
        if (_queue.Backend is IoUringTapBackend ring)
            ring.EntersOnEveryWait = true;
        _userSpaceReady = kind == TapBackendKind.IoUring;
        _trustTaps = trustTaps && _userSpaceReady;
        if (_userSpaceReady)
            _nextWaiter = _queue.Allocate(NoFd);
        int error = _userSpaceReady
            ? CreateName(_queue.TapPollFd, closeOnExec, out _nameFd, out _indicatorFd)
            : !closeOnExec && LibC.fcntl(Fd, LibC.F_SETFD, 0) < 0 ? Marshal.GetLastPInvokeError() : 0;
        if (error != 0)
        {
            _queue.Dispose();
            throw new EpollException("epoll_create1", error);
        }
        EpollNames.Own(Fd, this);
    }

    /// <summary>The tap backend behind the set.</summary>
    public TapBackendKind TapBackend => _queue.TapBackend;

    /// <summary>
    /// Whether edge-triggered registrations are reported as their taps said, unchecked: asked for
    /// at creation, and only ever true on io_uring taps.
    /// </summary>
    public bool TrustsTaps => _trustTaps;

    /// <summary>
    /// The kernel fd that names the set: readable (poll, select, a kernel epoll) while the set has
    /// events to report. Do not close it; <see cref="Dispose"/> does.
    /// </summary>
    public int Fd => _userSpaceReady ? _nameFd : _queue.TapPollFd;

    /// <summary>How many registrations the set holds.</summary>
    public int Count => Volatile.Read(ref _count);

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
    public unsafe int Wait(Span<EpollEvent> events, TimeSpan timeout)
    {
        if (events.IsEmpty)
            throw new ArgumentException("The buffer must hold at least one event.", nameof(events));
        var sink = new SpanSink(events);
        return WaitCore(ref sink, events.Length, Deadline(timeout), interruptible: false);
    }

    /// <summary>
    /// Waits asynchronously, as <see cref="Wait"/> does, until registrations are ready, the
    /// timeout passes or <paramref name="cancellationToken"/> is cancelled. No allocation per wait in
    /// steady state.
    /// </summary>
    /// <exception cref="OperationCanceledException">The token was cancelled first.</exception>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<int> WaitAsync(Memory<EpollEvent> events, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        if (events.IsEmpty)
            throw new ArgumentException("The buffer must hold at least one event.", nameof(events));
        long deadline = Deadline(timeout);
        int reported = Wait(events.Span, TimeSpan.Zero);
        CeqMessage[] messages = ArrayPool<CeqMessage>.Shared.Rent(MessageBatch);
        Interlocked.Increment(ref _waiters);
        try
        {
            while (reported == 0)
            {
                long remaining = deadline - Stopwatch.GetTimestamp();
                if (remaining <= 0)
                    return 0;
                TimeSpan left = deadline == long.MaxValue ? Timeout.InfiniteTimeSpan : Stopwatch.GetElapsedTime(0, remaining);
                int taken = await _queue.WaitAsync(messages, left, cancellationToken).ConfigureAwait(false);
                var sink = new SpanSink(events.Span);
                lock (_lock)
                {
                    IngestTaken(messages, taken);
                    reported = Deliver(ref sink, events.Length);
                }
            }
            return reported;
        }
        finally
        {
            Interlocked.Decrement(ref _waiters);
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
        {
            foreach (Registration? registration in _byFd)
            {
                if (registration is not null)
                    Unregister(registration);
            }
            foreach (Registration orphan in _orphans.ToArray())
                ReleaseOrphan(orphan);
            if (_spareProxy >= 0)
                LibC.close(_spareProxy);
            _spareProxy = -1;
        }
        // Linux drops a closed set from the sets it was registered in; here their entries stay
        // until removed, but they no longer count as links, in EpollGen's graph or in the
        // kernel's picture of the io_uring sets' shadows.
        foreach (EpollSet parent in _nesting.LeaveParents())
            parent.DropMirrorsOf(this);
        EpollNames.Disown(Fd, this);
        int nameFd = Fd;
        _queue.Dispose();
        if (_userSpaceReady)
        {
            LibC.close(nameFd);
            LibC.close(_indicatorFd);
        }
    }

    // A libc-shaped set's references, counted as Linux counts its file's: one per name in
    // EpollNames and one per call in flight in Epoll that holds the set (a wait, a dup). A new set
    // holds one, which its first name takes over; sets used only through this class ignore it.
    private int _references = 1;

    /// <summary>
    /// Takes a reference, as Linux's fdget does, unless the last one is gone (false: the set is
    /// being disposed, and every name it had was removed before).
    /// </summary>
    internal bool TryReference()
    {
        int seen = Volatile.Read(ref _references);
        while (seen > 0)
        {
            // Not an increment: the last Release may take the count to 0 between the read and this
            // write, and a set at 0 is being disposed; the exchange fails then and sees the 0.
            int previous = Interlocked.CompareExchange(ref _references, seen + 1, seen);
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
        if (Interlocked.Decrement(ref _references) != 0)
            return;
        int errno = Marshal.GetLastPInvokeError();
        EpollNames.Unlist(this);
        Dispose();
        Marshal.SetLastPInvokeError(errno);
    }

    /// <summary>
    /// Drops the registration of <paramref name="fd"/>, which is about to be closed, as Linux drops
    /// it when the file's last fd closes. Registrations that hold a SafeHandle cannot be closed
    /// underneath and are kept.
    /// </summary>
    internal void ForgetClosed(int fd)
    {
        lock (_lock)
        {
            // The ring holds the file until the poll's removal is submitted: submitted now, the
            // close that follows releases it, and its peers see the hang-up at once. Kernel epoll
            // sets wait for the close to learn whether the file outlives it (AfterClose).
            // A witness of an epoll instance would nest it one level deeper in the kernel's eyes
            // (ELOOP, wake-up paths); a closed set's orphan is known by the set instead.
            if (!_userSpaceReady && _disposed == 0 && _orphans.Count > 0 && Find(fd) is { Handle: null, Target: null } && !IsEpoll(fd))
                KernelTaps.PrepareClose(fd);
            if (_userSpaceReady && _disposed == 0 && Find(fd) is { Handle: null } registration)
            {
                if (!registration.Proxied && !StageProxy(registration))
                {
                    CollectForPollers();
                    Unregister(registration);
                }
                // Submits the poll's removal, so the close releases a file no other fd holds.
                Collect();
            }
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
            if (_disposed != 0)
                return;
            if (_userSpaceReady)
            {
                AfterCloseProxied(fd);
                return;
            }
            if (Find(fd) is { Handle: null } registration)
            {
                // Detach counts the number's orphans against the kernel's registrations under it:
                // one naming a set closed since has no registration left to count.
                if (_orphans.Count > 0)
                    ReleaseOrphans(KernelTaps.ReleaseOrphans(fd, IsClosedSet));
                Detach(registration);
            }
            KernelTaps.DropPendingWitness();
            if (_orphans.Count > 0)
                ReleaseOrphans(KernelTaps.ReleaseDeadOrphans(IsClosedSet));
        }
    }

    // io_uring: the closed fd's registration is an orphan while its proxy still holds the file,
    // else it goes; so do orphans whose file has been released since.
    private void AfterCloseProxied(int fd)
    {
        if (_proxies is null)
            return;
        // Wake-ups the orphans' proxies posted before their files went count for the sets this
        // one is registered in (Linux passed them on at once): collected before anything goes.
        CollectForPollers();
        if (Find(fd) is { Proxied: true } registration)
        {
            int proxy = _proxies[registration];
            if (PrivateFds.EpollHolds(proxy, fd) == true)
            {
                // The file lives on: the ring polls the proxy from now on (it already does for an
                // adopted orphan). Its arm reports what the proxy queued since the close, or a
                // level, and a close wakes no poller in Linux.
                UringTaps.TapPrivate(proxy, registration.Id, TapFilters.FDTAP_FILT_READABLE);
                _arming = registration;
                Collect();
                _arming = null;
                Follow(registration, orphaned: true);
            }
            else
            {
                DropProxy(registration, empty: true);
                Forget(registration);
            }
        }
        // A set's file can outlive its last name (other sets' rings poll it): a closed set's orphan goes.
        foreach (Registration orphan in _orphans.ToArray())
        {
            bool released = PrivateFds.EpollHolds(_proxies[orphan], orphan.Fd) == false;
            if (released || orphan.Target is { _disposed: not 0 })
                ReleaseOrphan(orphan, proxyEmpty: released);
        }
    }

    // io_uring, before the registration's fd is closed: its watch moves from the ring's poll of the
    // fd, which holds a reference to the file, to a proxy, an epoll instance of the set's own that
    // holds (fd, file) as Linux's set does, without a reference. After the close the proxy still
    // holds the file exactly when it lives on (AfterClose), and then the ring polls the proxy under
    // the registration's id; edges between the poll's removal and that arm wait in the proxy. A
    // released file leaves the proxy empty, kept for the next close. The set's shadow keeps the
    // file's item, so the kernel goes on counting the file's wake-up paths through the set, and the
    // proxy itself stays out of the shadow. The proxy's item is level-triggered (the set does ET and
    // one-shot itself, as for any completion) but for edge-triggered registrations, whose readiness
    // is harvested once per report; so that a ready fd's insertion is not taken for a new edge,
    // that first queueing is drained unless the registration is already waiting to be reported
    // (what the fd's poll has posted is collected first to know). False, with nothing changed,
    // where kcmp, which tells a released file, is refused, or where the kernel refuses the proxy's
    // ADD (an epoll instance nested too deep for one more level).
    private bool StageProxy(Registration registration)
    {
        int fd = registration.Fd;
        if (s_kernelAnswers == false)
            return false;
        int proxy = _spareProxy >= 0 ? _spareProxy : PrivateFds.CreateEpoll();
        if (proxy < 0)
            return false;
        _spareProxy = -1;
        if (ProxyCtl(proxy, LibC.EPOLL_CTL_ADD, fd, registration.Events) != 0)
        {
            RecycleProxy(proxy);
            return false;
        }
        if ((s_kernelAnswers ??= PrivateFds.EpollHolds(proxy, fd) == true) == false)
        {
            LibC.close(proxy);
            return false;
        }
        // Learnt while fd still names the file (see IsDeaf).
        IsDeaf(registration);
        if (IsEdgeOnly(registration.Events))
        {
            // Drained only when the fd's poll vouches that every edge before now has been posted
            // (its completions run on this thread); otherwise the readiness stays queued in the
            // proxy, to be reported as an edge: perhaps a spurious one, never a lost one.
            Collect();
            if (!registration.Queued && UringTaps.PostsOnThisThread(fd))
                Harvest(proxy);
        }
        else
        {
            CollectForPollers();
        }
        UringTaps.Untap(fd, registration.Id, keepShadow: true);
        registration.Proxied = true;
        registration.Pending = 0;
        (_proxies ??= [])[registration] = proxy;
        return true;
    }

    // The ring no longer polls the proxy (if it did), which is kept for the next close when its
    // file was released, and closed otherwise (the ring lets go of it with the poll).
    private void DropProxy(Registration registration, bool empty)
    {
        _proxies!.Remove(registration, out int proxy);
        UringTaps.Untap(proxy, registration.Id, keepShadow: false);
        registration.Proxied = false;
        if (empty)
            RecycleProxy(proxy);
        else
            LibC.close(proxy);
    }

    private void RecycleProxy(int proxy)
    {
        if (_spareProxy < 0 && _disposed == 0)
            _spareProxy = proxy;
        else
            LibC.close(proxy);
    }

    // A proxied registration whose readiness its proxy reads; a nested io_uring set answers for
    // itself (Settle), proxied or not.
    private bool ReadsProxy(Registration registration) => registration.Proxied && NestedRing(registration) is null;

    // A proxied registration's readiness, read through its proxy. A harvest takes the item as
    // epoll_wait does (registered ∩ ready, plus ERR|HUP): an edge-triggered item then leaves the
    // proxy's ready list, as Linux's leaves its own when reported, and what a faulting write could
    // not report waits in Pending. Without a harvest an edge-triggered item is only asked whether
    // it is queued and ready (a poll(2) of the proxy, as Linux polls a nested set), which takes
    // nothing; a level-triggered item's harvest takes nothing either.
    private unsafe EpollEvents ProxyNow(Registration registration, bool harvest)
    {
        if (registration.Removed || registration.Disarmed)
            return 0;
        int proxy = _proxies![registration];
        if (IsEdgeOnly(registration.Events))
        {
            EpollEvents kept = registration.Pending;
            if (kept != 0)
            {
                if (harvest)
                    registration.Pending = 0;
                return kept;
            }
            if (!harvest)
            {
                var poll = new PollFd { fd = proxy, events = (short)PollEvents.POLLIN };
                PollNow(&poll, 1);
                return (poll.revents & (short)PollEvents.POLLIN) != 0 ? registration.Events & Pollable : 0;
            }
        }
        return Harvest(proxy) & registration.Events & Pollable;
    }

    // One epoll_wait of a proxy, which holds one item: its mask, or 0.
    private static unsafe EpollEvents Harvest(int proxy)
    {
        byte* native = stackalloc byte[EpollEvent.Size];
        int count;
        while ((count = LibC.epoll_wait(proxy, native, 1, 0)) < 0 && Marshal.GetLastPInvokeError() == LibC.EINTR)
        {
        }
        return count == 1 ? (EpollEvents)EpollEvent.ReadNative(native, 0).events : 0;
    }

    // epoll_ctl of fd in a proxy, edge-triggered for edge-triggered registrations only, with no data.
    private static int ProxyCtl(int proxy, int op, int fd, EpollEvents events) =>
        PrivateFds.Ctl(proxy, op, fd, (events & Pollable) | (IsEdgeOnly(events) ? EpollEvents.EPOLLET : 0));

    private static bool IsEdgeOnly(EpollEvents events) =>
        (events & (EpollEvents.EPOLLET | EpollEvents.EPOLLONESHOT)) == EpollEvents.EPOLLET;

    private void ReleaseOrphans(Tap[] taps)
    {
        foreach (Tap tap in taps)
        {
            if (FindOrphan(tap.Id) is { } dead)
                ReleaseOrphan(dead);
        }
    }

    // An orphan naming a set that has been closed: its file is gone, whatever else shares the number.
    private bool IsClosedSet(Tap tap) => FindOrphan(tap.Id) is { Target: { } target } && Volatile.Read(ref target._disposed) != 0;

    // The tap backend of a kernel epoll set (never called for io_uring sets).
    private EpollTapBackend KernelTaps => (EpollTapBackend)_queue.Backend;

    // The registration's fd no longer names its file (closed, or reused behind our back): the
    // backend makes its tap an orphan when the kernel still holds the registration (the file is
    // open elsewhere), and the registration follows.
    private void Detach(Registration registration) => Follow(registration, KernelTaps.Orphan(registration.Fd));

    // An orphan when the backend made the registration's tap one, else gone, as the kernel dropped it.
    private void Follow(Registration registration, bool orphaned)
    {
        if (orphaned)
        {
            _byFd[registration.Fd] = null;
            registration.Orphaned = true;
            _orphans.Add(registration);
        }
        else
        {
            Unregister(registration);
        }
    }

    // A loop, not List.Find with a lambda: the lambda's closure would be allocated on every message.
    private Registration? FindOrphan(CeqId id)
    {
        foreach (Registration orphan in _orphans)
        {
            if (orphan.Id == id)
                return orphan;
        }
        return null;
    }

    // An orphan whose file was released: the kernel dropped its registration, and so do we.
    private void ReleaseOrphan(Registration orphan, bool proxyEmpty = false)
    {
        _orphans.Remove(orphan);
        _carried.Remove(orphan);
        _queue.Free(orphan.Id);
        orphan.Removed = true;
        Volatile.Write(ref _count, _count - 1);
        if (orphan.Target is { } target)
            Unlink(orphan, target);
        if (orphan.Proxied)
            DropProxy(orphan, proxyEmpty);
        if (orphan.Queued && _userSpaceReady)
        {
            _ready.Remove(orphan);
            orphan.Queued = false;
            UpdateIndicator();
        }
    }

    // Before a ctl on fd finds no registration: an orphan whose file fd names again (dup2'd back
    // onto its number) is the registration Linux's (fd, file) lookup finds.
    private void AdoptOrphan(int fd)
    {
        if (_orphans.Count == 0 || Find(fd) is not null)
            return;
        if (_userSpaceReady)
        {
            // The orphan's proxy compares its file with fd's; it stays the registration's watch.
            foreach (Registration orphan in _orphans)
            {
                if (orphan.Fd == fd && orphan.Proxied && PrivateFds.EpollCompare(fd, _proxies![orphan], fd, 0) == 0)
                {
                    _orphans.Remove(orphan);
                    orphan.Orphaned = false;
                    _byFd[fd] = orphan;
                    return;
                }
            }
            return;
        }
        if (KernelTaps.Adopt(fd) is not { } taps)
            return;
        foreach (Tap tap in taps)
        {
            if (FindOrphan(tap.Id) is { } orphan)
            {
                _orphans.Remove(orphan);
                orphan.Orphaned = false;
                _byFd[fd] = orphan;
                return;
            }
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
            AdoptOrphan(fd);
            CollectForPollers();
            error = op switch
            {
                LibC.EPOLL_CTL_ADD => AddLocked(fd, events, data, handle),
                LibC.EPOLL_CTL_MOD => ModifyLocked(fd, events, data),
                LibC.EPOLL_CTL_DEL => RemoveLocked(fd),
                _ => LibC.EINVAL,
            };
            // The backend arms, updates and removes polls when its queue is driven: driven now, so
            // the arm's report merges with the ready list before anyone waits, and a removed poll
            // lets go of its file.
            if (_userSpaceReady)
            {
                _arming = error == 0 && op != LibC.EPOLL_CTL_DEL ? Find(fd) : null;
                Collect();
                _arming = null;
            }
        }
        return CtlRules.AsksTarget(error) ? CtlRules.FirstError(CtlRules.TargetError(fd), error) : error;
    }

    /// <summary>
    /// The wait of <see cref="Wait"/> and of the libc-shaped epoll_wait: returns the count, 0 on
    /// timeout, or -1 when <paramref name="interruptible"/> and a signal interrupted it first.
    /// <paramref name="signalMask"/> is installed atomically with the kernel wait (epoll_pwait).
    /// </summary>
    internal unsafe int WaitCore<TSink>(ref TSink sink, int maxEvents, long deadline, bool interruptible, void* signalMask = null)
        where TSink : IEventSink, allows ref struct
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        Span<CeqMessage> messages = stackalloc CeqMessage[MessageBatch];
        Interlocked.Increment(ref _waiters);
        try
        {
            // A poll of the kernel first, so readiness that arrived before the call is reported now.
            int taken = _queue.Wait(messages, 0, interruptible: false, maxEvents, signalMask);
            while (true)
            {
                int reported;
                lock (_lock)
                {
                    IngestTaken(messages, taken);
                    reported = Deliver(ref sink, maxEvents);
                }
                if (reported > 0 || sink.Faulted || Stopwatch.GetTimestamp() >= deadline)
                    return reported;
                taken = _queue.Wait(messages, deadline, interruptible, maxEvents, signalMask);
                if (taken < 0)
                    return -1;
            }
        }
        finally
        {
            Interlocked.Decrement(ref _waiters);
        }
    }

    private int AddLocked(int fd, EpollEvents events, ulong data, SafeHandle? handle)
    {
        int error = CheckAdd(fd, events);
        if (error != 0)
            return error;
        EpollSet? target = EpollNames.SetOf(fd);
        int mirror = -1;
        if (target is { _userSpaceReady: true } && _userSpaceReady && (error = MirrorLink(target, out mirror)) != 0)
            return error;
        CeqId id = _queue.Allocate((ulong)(uint)fd);
        var request = new TapRequest(fd, TapCommand.Add, Filter(events), _queue, id, Modes(events));
        if (FdTaps.Submit([request], out error) != 1)
        {
            _queue.Free(id);
            Unmirror(mirror);
            return error;
        }
        var registration = new Registration(fd, id, handle) { Events = events | AlwaysReported, Data = data };
        if (mirror >= 0)
            (_mirrors ??= [])[registration] = mirror;
        if (fd >= _byFd.Length)
            Array.Resize(ref _byFd, Math.Max(_byFd.Length * 2, fd + 1));
        _byFd[fd] = registration;
        Volatile.Write(ref _count, _count + 1);
        if (target is not null)
            Link(registration, target);
        if (_userSpaceReady)
            PollAtCtl(registration);
        return 0;
    }

    private int CheckAdd(int fd, EpollEvents events)
    {
        // The kernel cannot see links through io_uring sets, so EpollGen's own graph decides loops
        // (and agrees with the kernel on epoll sets).
        int error = CtlRules.CheckAdd(IsSelf(fd), events, (Set: this, Fd: fd),
            static target => IsEpoll(target.Fd),
            static target => EpollNames.SetOf(target.Fd) is not { } nested || SetNesting.CanNest(target.Set._nesting, nested._nesting));
        if (error != 0 || Find(fd) is not { } existing)
            return error;
        // The number was closed and reused behind our back (not through Epoll.close): the old
        // registration is orphaned or gone.
        error = CtlRules.CheckExisting(!_userSpaceReady && existing.Handle is null && KernelTaps.IsStale(fd));
        if (error == 0)
            Detach(existing);
        return error;
    }

    private int ModifyLocked(int fd, EpollEvents events, ulong data)
    {
        int error = CtlRules.CheckModify(CtlRules.CheckFd(fd), IsSelf(fd), events, Find(fd)?.Events);
        if (error != 0)
            return error;
        Registration registration = Find(fd)!;
        // The tap's MOD re-arms the kernel side, which re-reads readiness: a ready fd is reported
        // again (and a disarmed one-shot registration comes back). An adopted orphan's proxy
        // takes Linux's own MOD.
        var request = new TapRequest(fd, TapCommand.Modify, Filter(events), _queue, registration.Id, Modes(events));
        if (registration.Proxied)
        {
            if ((error = ProxyCtl(_proxies![registration], LibC.EPOLL_CTL_MOD, fd, events | AlwaysReported)) != 0)
                return error;
            registration.Pending = 0;
        }
        else if (FdTaps.Submit([request], out error) != 1)
        {
            // The kernel epoll backend has made the tap an orphan itself when the file lives on.
            if (error == LibC.ENOENT)
                Follow(registration, !_userSpaceReady && KernelTaps.IsOrphaned(registration.Id));
            return error;
        }
        registration.Events = events | AlwaysReported;
        registration.Data = data;
        registration.Disarmed = false;
        if (_userSpaceReady)
            PollAtCtl(registration);
        return 0;
    }

    private int RemoveLocked(int fd)
    {
        // On kernel epoll the tap's DEL checks the fd (below); io_uring's removal checks nothing.
        int error = CtlRules.CheckRemove(_userSpaceReady ? CtlRules.CheckFd(fd) : 0, IsSelf(fd), Find(fd) is not null);
        if (error != 0)
            return error;
        Registration registration = Find(fd)!;
        if (_userSpaceReady)
        {
            if (registration.Proxied)
            {
                if ((error = ProxyCtl(_proxies![registration], LibC.EPOLL_CTL_DEL, fd, 0)) != 0)
                    return error;
                // The shadow's item, kept since the close, goes with the registration.
                PrivateFds.CtlEmpty(Shadow, LibC.EPOLL_CTL_DEL, fd);
                DropProxy(registration, empty: true);
                Forget(registration);
                return 0;
            }
            Unregister(registration);
            return 0;
        }
        // The kernel's DEL fails, changing nothing, when fd was closed (EBADF) or names another file
        // (ENOENT) behind our back: Linux's (fd, file) lookup then finds nothing, and the old
        // registration is an orphan if its file lives on elsewhere, else gone with it. Control adds
        // Linux's earlier checks of the new file to an ENOENT.
        error = KernelTaps.RemoveChecked(fd, registration.Id);
        if (error == 0)
            Forget(registration);
        else if (registration.Handle is null)
            Detach(registration);
        return error;
    }

    private void Unregister(Registration registration)
    {
        if (registration.Proxied)
            DropProxy(registration, empty: false);
        else
            FdTaps.Submit([new TapRequest(registration.Fd, TapCommand.Remove, 0, _queue, registration.Id)], out _);
        Forget(registration);
    }

    // The set's side of a removal, once the tap is gone.
    private void Forget(Registration registration)
    {
        _queue.Free(registration.Id);
        registration.Removed = true;
        _byFd[registration.Fd] = null;
        Volatile.Write(ref _count, _count - 1);
        registration.Handle?.DangerousRelease();
        if (registration.Target is { } target)
            Unlink(registration, target);
        if (registration.Queued && _userSpaceReady)
        {
            _ready.Remove(registration);
            registration.Queued = false;
            UpdateIndicator();
        }
    }

    // The set's own file, by any of its names: Linux refuses it as a target with EINVAL.
    private bool IsSelf(int fd) => fd == Fd || EpollNames.Find(fd) == this;

    private Registration? Find(int fd) => fd < _byFd.Length ? _byFd[fd] : null;

    // Posts become candidates, with the bits the kernel read when it harvested them (registered ∩
    // ready, plus ERR|HUP). Stale ids (a removed or replaced registration) and disarmed one-shot
    // registrations are dropped. A full buffer means more may wait: it is refilled until empty.
    private void Ingest(Span<CeqMessage> buffer, int taken)
    {
        while (true)
        {
            foreach (CeqMessage message in buffer[..taken])
            {
                if (message.UserData == NoFd)
                    continue;
                Registration? registration = Find((int)message.UserData);
                if (registration is null || registration.Id != message.Id)
                    registration = FindOrphan(message.Id);
                if (registration is null || registration.Disarmed)
                    continue;
                // A proxy's completion says only that the proxy is readable: a hint for every bit.
                // The fd's own poll's last completions, reaped as the close removed it, may reach
                // the set only now: their edge, which the proxy's first drain took, is kept for an
                // edge-triggered delivery.
                EpollEvents ready = EpollTapMap.ToSource((TapFilters)message.Bits & ~IoUringTapBackend.PrivateReady) & registration.Events & Pollable;
                if (registration.Proxied)
                {
                    if (IsEdgeOnly(registration.Events))
                        registration.Pending |= ready;
                    ready = registration.Events & Pollable;
                }
                if (ready == 0)
                    continue;
                if (_userSpaceReady)
                {
                    if (IsDeaf(registration))
                        continue;
                    // ep_poll_callback: the entry is queued and this set's pollers wake, each time.
                    // On a nested io_uring set's fd only a wake-up of that set counts.
                    if (registration.Nested is { Set._userSpaceReady: true } nested && !Woke(nested))
                        continue;
                    if (registration != _arming)
                        _wakes++;
                    // A completion is only a hint (it may be stale): the delivery re-reads, unless
                    // the set trusts its taps, which report these bits as they are.
                    if (!registration.Proxied)
                        registration.Pending |= ready;
                    Enqueue(registration);
                    continue;
                }
                registration.Pending |= ready;
                if (!registration.Queued)
                {
                    registration.Queued = true;
                    _candidates.Add(registration);
                }
            }
            if (taken < buffer.Length)
                return;
            taken = _queue.Mailbox.TryTake(buffer);
        }
    }

    // Reports candidates in firing order, each once. Level-triggered taps are level-triggered in
    // the kernel, which re-queues them at the tail of its ready list: Linux's round-robin, done by
    // Linux. Edge-triggered and one-shot candidates that did not fit go back to the kernel with a
    // tap Modify, which re-reads their readiness. Nothing is left in user space between waits, so
    // the set's kernel fd is readable exactly when a wait would report something.
    private int Deliver<TSink>(ref TSink sink, int maxEvents)
        where TSink : IEventSink, allows ref struct
    {
        if (_userSpaceReady)
            return DeliverReadyList(ref sink, maxEvents);
        int reported = 0;
        if (_carried.Count > 0)
        {
            foreach (Registration carried in _carried)
            {
                if (!carried.Queued)
                {
                    carried.Queued = true;
                    _candidates.Add(carried);
                }
            }
            _carried.Clear();
        }
        foreach (Registration registration in _candidates)
        {
            EpollEvents ready = registration.Pending;
            registration.Pending = 0;
            registration.Queued = false;
            if (registration.Removed || registration.Disarmed)
                continue;
            // Past maxevents, or past a write that faulted: the kernel re-reads these on re-arm.
            if (reported == maxEvents || sink.Faulted || !sink.Write(reported, (uint)ready, registration.Data))
            {
                if (registration.Orphaned)
                {
                    registration.Pending = ready;
                    _carried.Add(registration);
                }
                else if ((registration.Events & (EpollEvents.EPOLLET | EpollEvents.EPOLLONESHOT)) != 0)
                {
                    _unreported.Add(registration);
                }
                continue;
            }
            reported++;
            if ((registration.Events & EpollEvents.EPOLLONESHOT) != 0)
                registration.Disarmed = true;
        }
        _candidates.Clear();
        // Carried orphans keep the set's fd readable, as a kernel ready list would.
        if (_carried.Count > 0)
            _queue.Backend.Wake();
        foreach (Registration registration in _unreported)
        {
            // A failure means the fd was closed or now names another file: nothing to re-read.
            var request = new TapRequest(registration.Fd, TapCommand.Modify, Filter(registration.Events), _queue, registration.Id, KernelModes(registration.Events));
            FdTaps.Submit([request], out _);
        }
        _unreported.Clear();
        return reported;
    }

    // io_uring: reports the ready list in order, re-reading each batch of candidates with one
    // poll(2) (ep_send_events' re-poll). Not ready: dropped. Ready and reported: level-triggered
    // entries go to the tail, one-shot ones disarm, edge-triggered ones leave until their next
    // completion. Ready but past maxevents: they keep their place at the head. Candidates beyond
    // the last batch read are not re-read now, as Linux stops at maxevents too.
    private unsafe int DeliverReadyList<TSink>(ref TSink sink, int maxEvents)
        where TSink : IEventSink, allows ref struct
    {
        List<Registration> ready = _ready, kept = _readyNext;
        PollFd* polls = stackalloc PollFd[PollBatch];
        int reported = 0, next = 0;
        while (next < ready.Count && reported < maxEvents && !sink.Faulted)
        {
            int batch = Math.Min(PollBatch, ready.Count - next);
            Reread(ready, next, batch, polls);
            for (int i = 0; i < batch; i++)
            {
                Registration registration = ready[next + i];
                bool room = reported < maxEvents && !sink.Faulted;
                EpollEvents now = ReadsProxy(registration) ? ProxyNow(registration, harvest: room)
                    : IsTrusted(registration) ? TakeTrusted(registration) : ReadyNow(registration, polls[i]);
                if (now == 0)
                {
                    registration.Queued = false;
                }
                else if (!room || !sink.Write(reported, (uint)now, registration.Data))
                {
                    kept.Add(registration);
                    if (room && ReadsProxy(registration) && IsEdgeOnly(registration.Events))
                        registration.Pending = now;
                }
                else
                {
                    reported++;
                    if ((registration.Events & EpollEvents.EPOLLONESHOT) != 0)
                        registration.Disarmed = true;
                    if ((registration.Events & (EpollEvents.EPOLLET | EpollEvents.EPOLLONESHOT)) == 0)
                        _readyTail.Add(registration);
                    else
                        registration.Queued = false;
                }
            }
            next += batch;
        }
        for (; next < ready.Count; next++)
            kept.Add(ready[next]);
        kept.AddRange(_readyTail);
        _readyTail.Clear();
        ready.Clear();
        _ready = kept;
        _readyNext = ready;
        UpdateIndicator();
        // The caller is one of the waiters counted; others wait while entries are still ready.
        if (kept.Count > 0 && Volatile.Read(ref _waiters) > 1)
            _queue.Post(_nextWaiter, 1);
        return reported;
    }

    /// <summary>
    /// Polls an io_uring set for a set it is registered in, as Linux's poll of an epoll fd scans
    /// its ready list: collects completions, drops entries up to the first that is still ready and
    /// returns whether one is. Called under the polling set's lock (parent first).
    /// </summary>
    internal unsafe bool Settle()
    {
        lock (_lock)
        {
            if (_disposed != 0)
                return false;
            Collect();
            List<Registration> ready = _ready, kept = _readyNext;
            PollFd* polls = stackalloc PollFd[PollBatch];
            int next = 0;
            bool found = false;
            while (next < ready.Count && !found)
            {
                int batch = Math.Min(PollBatch, ready.Count - next);
                Reread(ready, next, batch, polls);
                for (int i = 0; i < batch; i++)
                {
                    Registration registration = ready[next + i];
                    if (found || (ReadsProxy(registration) ? ProxyNow(registration, harvest: false) : ReadyNow(registration, polls[i])) != 0)
                    {
                        found = true;
                        kept.Add(registration);
                    }
                    else
                    {
                        registration.Queued = false;
                    }
                }
                next += batch;
            }
            for (; next < ready.Count; next++)
                kept.Add(ready[next]);
            ready.Clear();
            _ready = kept;
            _readyNext = ready;
            UpdateIndicator();
            return found;
        }
    }

    // io_uring, under the lock: takes what the ring holds now into the ready list, driving the
    // queue unless another thread is already driving it (that thread then submits our changes).
    private unsafe void Collect()
    {
        Span<CeqMessage> messages = stackalloc CeqMessage[MessageBatch];
        Ingest(messages, _queue.Wait(messages, 0, interruptible: false));
        UpdateIndicator();
    }

    // ADD and MOD poll the fd at once (ep_insert, ep_modify): ready and not queued yet, the entry
    // is queued and this set's pollers wake; an entry already queued keeps its place. An entry
    // naming an io_uring set follows that set's wake-ups from here: earlier ones are not its own.
    private void PollAtCtl(Registration registration)
    {
        if (IsReadyNow(registration) && !registration.Queued)
        {
            Enqueue(registration);
            _wakes++;
        }
        if (registration.Nested is { } nested)
            nested.SeenWakes = nested.Set.CollectWakes();
    }

    // Under the lock: ingests messages a wait took from the queue before it held the lock. A set
    // this one is registered in may have read the wake count in that window, found it unchanged
    // and dropped its completion; a wake-up counted now wakes the name fd again, so it looks again.
    private void IngestTaken(Span<CeqMessage> messages, int taken)
    {
        uint wakes = _wakes;
        Ingest(messages, taken);
        if (_wakes != wakes && IsPolled())
            _queue.Backend.Wake();
    }

    private bool IsPolled() => _nesting.IsPolled;

    // io_uring, under the lock, before a ctl and before a close drops a registration: a set that
    // is registered in others collects first, so wake-ups already posted for the entry are counted
    // before the entry's poll is updated or removed, which would make them stale.
    private void CollectForPollers()
    {
        if (_userSpaceReady && IsPolled())
            Collect();
    }

    // Whether the io_uring set nested names woke the registration since it last looked. Its ring is
    // collected first, so wake-ups it has posted are counted. (An entry without EPOLLIN, which a
    // set never wakes, does not get here: IsDeaf drops its completions first.)
    private static bool Woke(NestedTarget nested)
    {
        uint wakes = nested.Set.CollectWakes();
        bool woke = wakes != nested.SeenWakes;
        nested.SeenWakes = wakes;
        return woke;
    }

    /// <summary>
    /// io_uring: collects what the ring holds and returns how many times Linux would have woken
    /// the pollers of <see cref="Fd"/> so far. Called by a set this one is registered in, under
    /// that set's lock (locks are always taken parent first).
    /// </summary>
    internal uint CollectWakes()
    {
        lock (_lock)
        {
            if (_disposed == 0)
                Collect();
            return _wakes;
        }
    }

    private void Enqueue(Registration registration)
    {
        if (registration.Queued)
            return;
        registration.Queued = true;
        _ready.Add(registration);
    }

    private unsafe bool IsReadyNow(Registration registration)
    {
        if (ReadsProxy(registration))
            return ProxyNow(registration, harvest: false) != 0;
        PollFd poll;
        Reread([registration], 0, 1, &poll, skipTrusted: false);
        EpollEvents now = ReadyNow(registration, poll);
        registration.Pending |= now;
        return now != 0;
    }

    // Trusted: an edge-triggered registration of a set that trusts its taps, reported with the
    // bits its completions carried, unchecked. Nested sets are always re-read (Settle).
    private bool IsTrusted(Registration registration) =>
        _trustTaps && registration.Target is null
        && (registration.Events & (EpollEvents.EPOLLET | EpollEvents.EPOLLONESHOT)) == EpollEvents.EPOLLET;

    // One poll(2) for registrations [start, start + count) into polls. A nested io_uring set
    // answers for itself instead (Settle, with Linux's EPOLLIN|EPOLLRDNORM): its name fd also
    // reads its ring's own completions, which settling another set in the batch may post. A
    // disarmed or removed registration's set is settled all the same, as Linux polls it too.
    private unsafe void Reread(List<Registration> registrations, int start, int count, PollFd* polls, bool skipTrusted = true)
    {
        int asked = 0;
        for (int i = 0; i < count; i++)
        {
            Registration registration = registrations[start + i];
            bool skipped = registration.Removed || registration.Disarmed || registration.Proxied || (skipTrusted && IsTrusted(registration));
            polls[i] = new PollFd { fd = skipped || NestedRing(registration) is not null ? -1 : registration.Fd, events = (short)(registration.Events & Pollable) };
            asked += polls[i].fd < 0 ? 0 : 1;
        }
        if (asked > 0)
            PollNow(polls, count);
        for (int i = 0; i < count; i++)
        {
            Registration registration = registrations[start + i];
            if (NestedRing(registration) is { } nested && nested.Settle() && !registration.Removed && !registration.Disarmed)
                polls[i] = new PollFd { fd = registration.Fd, revents = (short)(EpollEvents.EPOLLIN | EpollEvents.EPOLLRDNORM) };
        }
    }

    // poll(2) with no timeout. EINTR: a signal arrived; such a poll loses nothing by being repeated.
    private static unsafe void PollNow(PollFd* polls, int count)
    {
        while (LibC.poll(polls, (nuint)count, 0) < 0 && Marshal.GetLastPInvokeError() == LibC.EINTR)
        {
        }
    }

    // The io_uring set a registration names, if it names one (other than this set).
    private EpollSet? NestedRing(Registration registration) =>
        registration.Target is { _userSpaceReady: true } nested && nested != this ? nested : null;

    // The bits a trusted registration's completions carried since it was last reported.
    private static EpollEvents TakeTrusted(Registration registration)
    {
        EpollEvents bits = registration.Removed || registration.Disarmed ? 0 : registration.Pending & registration.Events & Pollable;
        registration.Pending = 0;
        return bits;
    }

    // Registered ∩ revents (ERR and HUP are always registered); POLLNVAL: the fd is closed.
    private static EpollEvents ReadyNow(Registration registration, in PollFd poll)
    {
        var revents = (EpollEvents)(ushort)poll.revents;
        if (poll.fd < 0 || ((PollEvents)(ushort)poll.revents & PollEvents.POLLNVAL) != 0)
            return 0;
        return revents & registration.Events & Pollable;
    }

    // The name fd's indicator follows the ready list: raised while it is not empty. Written only on
    // a change, so pollers of the name fd see one wake-up per transition, not one per call.
    private unsafe void UpdateIndicator()
    {
        bool raise = _ready.Count > 0;
        if (raise == _indicatorRaised)
            return;
        ulong value = 1;
        if (raise)
            LibC.write(_indicatorFd, &value, sizeof(ulong));
        else
            LibC.read(_indicatorFd, &value, sizeof(ulong));
        _indicatorRaised = raise;
    }

    // The io_uring set's name: a kernel epoll instance, readable while the ring holds completions
    // or the indicator is raised. Returns 0 or the errno, with nothing left open on error.
    private static unsafe int CreateName(int ringFd, bool closeOnExec, out int nameFd, out int indicatorFd)
    {
        indicatorFd = -1;
        nameFd = LibC.epoll_create1(closeOnExec ? LibC.EPOLL_CLOEXEC : 0);
        if (nameFd < 0)
            return Marshal.GetLastPInvokeError();
        indicatorFd = LibC.eventfd(0, LibC.EFD_CLOEXEC | LibC.EFD_NONBLOCK);
        int error = indicatorFd < 0 ? Marshal.GetLastPInvokeError() : Watch(nameFd, ringFd);
        if (error == 0)
            error = Watch(nameFd, indicatorFd);
        if (error == 0)
            return 0;
        if (indicatorFd >= 0)
            LibC.close(indicatorFd);
        LibC.close(nameFd);
        nameFd = indicatorFd = -1;
        return error;
    }

    private static int Watch(int epfd, int fd) => PrivateFds.Ctl(epfd, LibC.EPOLL_CTL_ADD, fd, EpollEvents.EPOLLIN);

    private void Link(Registration registration, EpollSet target)
    {
        registration.Nested = new NestedTarget(target);
        _nesting.Link(target._nesting);
    }

    private void Unlink(Registration registration, EpollSet target)
    {
        registration.Nested = null;
        if (_mirrors is not null && _mirrors.Remove(registration, out int mirror))
            Unmirror(mirror);
        _nesting.Unlink(target._nesting);
    }

    // Linux refuses an ADD (EINVAL, reverse_path_check) that would give a file too many wake-up
    // paths up through nested sets. Sets on kernel-epoll taps nest in the kernel as they nest here,
    // so the kernel counts their paths itself; io_uring sets poll through the ring, which the
    // kernel cannot follow. Their shadows (every tapped fd, empty mask) are nested in its stead: a
    // dup of the target's shadow, one per registration as Linux counts one path per registration,
    // goes into this set's shadow, and the kernel's own checks on that ADD, and on every later ADD
    // into a nested shadow, are Linux's.
    private int MirrorLink(EpollSet target, out int mirror)
    {
        mirror = PrivateFds.Dup(((IoUringTapBackend)target._queue.Backend).ShadowFd);
        if (mirror < 0)
            return Marshal.GetLastPInvokeError();
        int error = PrivateFds.CtlEmpty(Shadow, LibC.EPOLL_CTL_ADD, mirror);
        if (error == 0)
            return 0;
        LibC.close(mirror);
        mirror = -1;
        return error;
    }

    // A set registered in this one was closed: the shadow drops its mirrors of that set's shadow.
    private void DropMirrorsOf(EpollSet closed)
    {
        lock (_lock)
        {
            if (_mirrors is null)
                return;
            foreach ((Registration registration, int mirror) in System.Linq.Enumerable.ToArray(_mirrors))
            {
                if (registration.Target == closed)
                {
                    _mirrors.Remove(registration);
                    Unmirror(mirror);
                }
            }
        }
    }

    private unsafe void Unmirror(int mirror)
    {
        if (mirror < 0)
            return;
        // The target's own shadow keeps the file open: the link must be removed, not just closed.
        LibC.epoll_ctl(Shadow, LibC.EPOLL_CTL_DEL, mirror, null);
        LibC.close(mirror);
    }

    private int Shadow => UringTaps.ShadowFd;

    // The tap backend of an io_uring set (never called for kernel epoll sets).
    private IoUringTapBackend UringTaps => (IoUringTapBackend)_queue.Backend;

    private static TapFilters Filter(EpollEvents events) => EpollTapMap.ToTarget(events & Pollable);

    private TapModes Modes(EpollEvents events) => _userSpaceReady ? TapModes.None : KernelModes(events);

    // Kernel epoll carries the modes; on io_uring the set keeps them itself.
    private static TapModes KernelModes(EpollEvents events) =>
        ((events & EpollEvents.EPOLLONESHOT) != 0 ? TapModes.OneShot : TapModes.None)
        | ((events & EpollEvents.EPOLLET) == 0 ? TapModes.Level : TapModes.None)
        | ((events & EpollEvents.EPOLLEXCLUSIVE) != 0 ? TapModes.Exclusive : TapModes.None);

    // Linux's checks' probe exists before the first set does (see CtlRules.OpenProbe).
    static EpollSet() => CtlRules.OpenProbe();

    // A registration of an epoll instance without EPOLLIN: its tap's completions (a re-armed
    // poll's first report, above all) are not wake-ups Linux would queue it on (see
    // Registration.NamesEpoll). The readlink is paid once, and only by registrations without
    // EPOLLIN of fds that are not EpollGen sets.
    private static bool IsDeaf(Registration registration)
    {
        if ((registration.Events & EpollEvents.EPOLLIN) != 0)
            return false;
        if (!registration.EpollKnown)
        {
            registration.NamesEpoll = registration.Target is not null || IsEpoll(registration.Fd);
            registration.EpollKnown = true;
        }
        return registration.NamesEpoll;
    }

    private static unsafe bool IsEpoll(int fd)
    {
        byte* target = stackalloc byte[64];
        nint length = LibC.readlink($"/proc/self/fd/{fd}", target, 64);
        return length > 0 && new ReadOnlySpan<byte>(target, (int)length).SequenceEqual("anon_inode:[eventpoll]"u8);
    }

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
}
