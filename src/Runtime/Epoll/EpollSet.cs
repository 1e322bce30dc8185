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
/// ∩ ready, plus EPOLLERR|EPOLLHUP); level-triggered registrations and those that did not fit go
/// back to the kernel to be re-read, so calls round-robin when more are ready than fit;
/// EPOLLONESHOT disarms on delivery, in the kernel too, until MOD.
/// </summary>
/// <remarks>
/// The set is named by a real kernel fd (<see cref="Fd"/>): poll, select and the kernel's own
/// epoll see it readable while it has events, and it nests in other sets. Level-triggered use costs
/// the kernel's re-check of the fd at every wait, as in Linux; edge-triggered use costs nothing
/// beyond the kernel wait. Calls from several threads are safe.
/// </remarks>
public sealed class EpollSet : IDisposable
{
    private const EpollEvents AlwaysReported = EpollEvents.EPOLLERR | EpollEvents.EPOLLHUP;

    // What poll(2) can report, bit for bit the same values as epoll's (EPOLLMSG is never reported).
    private const EpollEvents Pollable = EpollEvents.EPOLLIN | EpollEvents.EPOLLPRI | EpollEvents.EPOLLOUT
        | EpollEvents.EPOLLERR | EpollEvents.EPOLLHUP | EpollEvents.EPOLLRDNORM | EpollEvents.EPOLLRDBAND
        | EpollEvents.EPOLLWRNORM | EpollEvents.EPOLLWRBAND | EpollEvents.EPOLLRDHUP;

    // The only bits EPOLLEXCLUSIVE may come with (fs/eventpoll.c, EPOLLEXCLUSIVE_OK_BITS).
    private const EpollEvents ExclusiveAllowed = EpollEvents.EPOLLIN | EpollEvents.EPOLLOUT | EpollEvents.EPOLLERR
        | EpollEvents.EPOLLHUP | EpollEvents.EPOLLWAKEUP | EpollEvents.EPOLLET | EpollEvents.EPOLLEXCLUSIVE;

    private const int MessageBatch = 64;

    private readonly EventQueue _queue;
    private readonly object _lock = new();

    // Per wait, under the lock: registrations whose taps fired, in firing order, and those that
    // did not fit and that the kernel will not re-queue by itself.
    private readonly List<Registration> _candidates = [];
    private readonly List<Registration> _unreported = [];
    private Registration?[] _byFd = new Registration?[64];
    private int _count;
    private int _disposed;

    /// <summary>How many libc-shaped names (fds) the set has; guarded by <see cref="EpollNames"/>' lock.</summary>
    internal int Names;

    /// <summary>Creates an empty set.</summary>
    /// <param name="closeOnExec">Whether <see cref="Fd"/> has FD_CLOEXEC, as <c>EPOLL_CLOEXEC</c> asks.</param>
    /// <exception cref="EpollException">The kernel refused an fd (EMFILE, ENFILE, ENOMEM).</exception>
    public EpollSet(bool closeOnExec = true)
    {
        // Exact semantics rest on the kernel-epoll backend: its harvest re-reads readiness, and its
        // registrations carry level-triggered, one-shot and exclusive modes to the kernel.
        _queue = new EventQueue(tapBackend: TapBackendKind.Epoll);
        if (!closeOnExec && LibC.fcntl(Fd, LibC.F_SETFD, 0) < 0)
        {
            int error = Marshal.GetLastPInvokeError();
            _queue.Dispose();
            throw new EpollException("epoll_create1", error);
        }
    }

    /// <summary>
    /// The kernel fd that names the set: readable (poll, select, a kernel epoll) while the set has
    /// events to report. Do not close it; <see cref="Dispose"/> does.
    /// </summary>
    public int Fd => _queue.TapPollFd;

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
                    Ingest(messages, taken);
                    reported = Deliver(ref sink, events.Length);
                }
            }
            return reported;
        }
        finally
        {
            ArrayPool<CeqMessage>.Shared.Return(messages);
        }
    }

    /// <summary>Removes every registration, releases their handles and closes the set's fds.</summary>
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
        }
        _queue.Dispose();
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
            if (_disposed == 0 && Find(fd) is { Handle: null } registration)
                Unregister(registration);
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
            error = op switch
            {
                LibC.EPOLL_CTL_ADD => AddLocked(fd, events, data, handle),
                LibC.EPOLL_CTL_MOD => ModifyLocked(fd, events, data),
                LibC.EPOLL_CTL_DEL => RemoveLocked(fd),
                _ => LibC.EINVAL,
            };
        }
        // Linux checks the target (EBADF, then EPERM for files it cannot poll) before anything
        // else; on the success path the tap's own kernel call has done so.
        return error is 0 or LibC.EBADF ? error : FirstError(TargetError(fd), error);
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
        // A poll of the kernel first, so readiness that arrived before the call is reported now.
        int taken = _queue.Wait(messages, 0, interruptible: false, maxEvents, signalMask);
        while (true)
        {
            int reported;
            lock (_lock)
            {
                Ingest(messages, taken);
                reported = Deliver(ref sink, maxEvents);
            }
            if (reported > 0 || Stopwatch.GetTimestamp() >= deadline)
                return reported;
            taken = _queue.Wait(messages, deadline, interruptible, maxEvents, signalMask);
            if (taken < 0)
                return -1;
        }
    }

    private int AddLocked(int fd, EpollEvents events, ulong data, SafeHandle? handle)
    {
        int error = CheckAdd(fd, events);
        if (error != 0)
            return error;
        CeqId id = _queue.Allocate((ulong)(uint)fd);
        var request = new TapRequest(fd, TapCommand.Add, Filter(events), _queue, id, Modes(events));
        if (FdTaps.Submit([request], out error) != 1)
        {
            _queue.Free(id);
            return error;
        }
        var registration = new Registration(fd, id, handle) { Events = events | AlwaysReported, Data = data };
        if (fd >= _byFd.Length)
            Array.Resize(ref _byFd, Math.Max(_byFd.Length * 2, fd + 1));
        _byFd[fd] = registration;
        Volatile.Write(ref _count, _count + 1);
        return 0;
    }

    private int CheckAdd(int fd, EpollEvents events)
    {
        if (IsSelf(fd))
            return LibC.EINVAL;
        if ((events & EpollEvents.EPOLLEXCLUSIVE) != 0 && ((events & ~ExclusiveAllowed) != 0 || IsEpoll(fd)))
            return LibC.EINVAL;
        return Find(fd) is null ? 0 : LibC.EEXIST;
    }

    private int ModifyLocked(int fd, EpollEvents events, ulong data)
    {
        int error = CheckFd(fd);
        if (error != 0)
            return error;
        if (IsSelf(fd) || (events & EpollEvents.EPOLLEXCLUSIVE) != 0)
            return LibC.EINVAL;
        if (Find(fd) is not { } registration)
            return LibC.ENOENT;
        if ((registration.Events & EpollEvents.EPOLLEXCLUSIVE) != 0)
            return LibC.EINVAL;
        // The tap's MOD re-arms the kernel side, which re-reads readiness: a ready fd is reported
        // again (and a disarmed one-shot registration comes back).
        var request = new TapRequest(fd, TapCommand.Modify, Filter(events), _queue, registration.Id, Modes(events));
        if (FdTaps.Submit([request], out error) != 1)
        {
            if (error == LibC.ENOENT)
                Unregister(registration);
            return error;
        }
        registration.Events = events | AlwaysReported;
        registration.Data = data;
        registration.Disarmed = false;
        return 0;
    }

    private int RemoveLocked(int fd)
    {
        int error = CheckFd(fd);
        if (error != 0)
            return error;
        if (IsSelf(fd))
            return LibC.EINVAL;
        if (Find(fd) is not { } registration)
            return LibC.ENOENT;
        Unregister(registration);
        return 0;
    }

    private void Unregister(Registration registration)
    {
        var request = new TapRequest(registration.Fd, TapCommand.Remove, 0, _queue, registration.Id);
        FdTaps.Submit([request], out _);
        _queue.Free(registration.Id);
        registration.Removed = true;
        _byFd[registration.Fd] = null;
        Volatile.Write(ref _count, _count - 1);
        registration.Handle?.DangerousRelease();
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
                if (Find((int)message.UserData) is not { } registration || registration.Id != message.Id || registration.Disarmed)
                    continue;
                EpollEvents ready = EpollTapMap.ToSource((TapFilters)message.Bits) & registration.Events & Pollable;
                if (ready == 0)
                    continue;
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
        int reported = 0;
        foreach (Registration registration in _candidates)
        {
            EpollEvents ready = registration.Pending;
            registration.Pending = 0;
            registration.Queued = false;
            if (registration.Removed || registration.Disarmed)
                continue;
            if (reported == maxEvents)
            {
                if ((registration.Events & (EpollEvents.EPOLLET | EpollEvents.EPOLLONESHOT)) != 0)
                    _unreported.Add(registration);
                continue;
            }
            sink.Write(reported++, (uint)ready, registration.Data);
            if ((registration.Events & EpollEvents.EPOLLONESHOT) != 0)
                registration.Disarmed = true;
        }
        _candidates.Clear();
        foreach (Registration registration in _unreported)
        {
            // A failure means the fd was closed or now names another file: nothing to re-read.
            var request = new TapRequest(registration.Fd, TapCommand.Modify, Filter(registration.Events), _queue, registration.Id, Modes(registration.Events));
            FdTaps.Submit([request], out _);
        }
        _unreported.Clear();
        return reported;
    }

    private static TapFilters Filter(EpollEvents events) => EpollTapMap.ToTarget(events & Pollable);

    private static TapModes Modes(EpollEvents events) =>
        ((events & EpollEvents.EPOLLONESHOT) != 0 ? TapModes.OneShot : TapModes.None)
        | ((events & EpollEvents.EPOLLET) == 0 ? TapModes.Level : TapModes.None)
        | ((events & EpollEvents.EPOLLEXCLUSIVE) != 0 ? TapModes.Exclusive : TapModes.None);

    // EBADF for a closed fd and for an O_PATH fd, which epoll_ctl does not accept either.
    private static int CheckFd(int fd)
    {
        int flags = LibC.fcntl(fd, LibC.F_GETFL, 0);
        return flags < 0 || (flags & LibC.O_PATH) != 0 ? LibC.EBADF : 0;
    }

    private static int FirstError(int first, int second) => first != 0 ? first : second;

    // The kernel's own verdict on a target fd, from a registration in a private epoll instance that
    // is undone at once: EBADF (closed, O_PATH), EPERM (cannot be polled) or 0. Error paths only.
    private static unsafe int TargetError(int fd)
    {
        EpollEvent ev = default;
        byte* native = stackalloc byte[EpollEvent.Size];
        EpollEvent.WriteNative(native, 0, ev);
        int probe = s_probe;
        if (LibC.epoll_ctl(probe, LibC.EPOLL_CTL_ADD, fd, native) == 0)
        {
            LibC.epoll_ctl(probe, LibC.EPOLL_CTL_DEL, fd, null);
            return 0;
        }
        int error = Marshal.GetLastPInvokeError();
        return error is LibC.EBADF or LibC.EPERM ? error : 0;
    }

    private static readonly int s_probe;

    // The probe is created with the first set (an explicit static constructor runs before it), not
    // on the first error path, where it could take the number of an fd the caller just closed.
    static EpollSet() => s_probe = LibC.epoll_create1(LibC.EPOLL_CLOEXEC);

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

/// <summary>Where a wait writes its events: a managed span or a native epoll_event array.</summary>
internal interface IEventSink
{
    void Write(int index, uint events, ulong data);
}

internal readonly ref struct SpanSink(Span<EpollEvent> events) : IEventSink
{
    private readonly Span<EpollEvent> _events = events;

    public void Write(int index, uint events, ulong data) => _events[index] = new EpollEvent { events = events, data = data };
}
