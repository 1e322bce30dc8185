using System;
using System.Diagnostics;
using System.Runtime.InteropServices;
using EpollGen.Interop;
using EpollGen.Native;

namespace EpollGen;

/// <summary>
/// epoll with libc's signatures, for code ported from C: each call returns what libc returns and,
/// on failure, -1 with the errno in <see cref="Marshal.GetLastPInvokeError"/>, checked in Linux's
/// order. No exception escapes. Sets created here are EpollGen sets on the tap backend that
/// <c>EPOLLGEN_TAP_BACKEND</c> names (kernel epoll when unset; see <see cref="EpollSet"/>), named by real kernel fds;
/// calls on a kernel epoll fd that EpollGen did not create go to the kernel unchanged.
/// <c>EPOLLGEN_TRUST_TAPS=1</c> makes the sets created here trust their taps (<see cref="EpollSet.TrustsTaps"/>).
/// </summary>
/// <remarks>
/// <para>
/// Event buffers are native <c>struct epoll_event</c> arrays: 12 bytes per entry on x86_64 and 16
/// elsewhere (<see cref="EpollEvent.NativeSize"/>); <see cref="EpollEvent.ReadNative"/> and
/// <see cref="EpollEvent.WriteNative"/> read and write them.
/// </para>
/// <para>
/// Close and dup EpollGen sets, and fds registered in them, with this class's <see cref="close"/>,
/// <see cref="dup"/>, <see cref="dup2"/> and <see cref="dup3"/>: they keep the sets consistent, as
/// the kernel does for its own epoll. A registered fd closed with <see cref="close"/> leaves every
/// set, as in Linux when no dup or child keeps the file open.
/// </para>
/// </remarks>
#pragma warning disable IDE1006, CA1707 // the names are libc's
public static unsafe class Epoll
{
    /// <summary><c>EPOLL_CTL_ADD</c>.</summary>
    public const int EPOLL_CTL_ADD = 1;

    /// <summary><c>EPOLL_CTL_DEL</c>.</summary>
    public const int EPOLL_CTL_DEL = 2;

    /// <summary><c>EPOLL_CTL_MOD</c>.</summary>
    public const int EPOLL_CTL_MOD = 3;

    /// <summary><c>EPOLL_CLOEXEC</c>, the only flag <see cref="epoll_create1"/> accepts.</summary>
    public const int EPOLL_CLOEXEC = 0x80000;

    /// <summary>The largest maxevents Linux accepts: INT_MAX / sizeof(struct epoll_event).</summary>
    public static int MaxEvents => int.MaxValue / EpollEvent.NativeSize;

    /// <summary>Creates a set; <paramref name="size"/> must be positive and is otherwise ignored.</summary>
    public static int epoll_create(int size) => size <= 0 ? Fail(LibC.EINVAL) : Create(closeOnExec: false);

    /// <summary>Creates a set; <paramref name="flags"/> is 0 or <see cref="EPOLL_CLOEXEC"/>.</summary>
    public static int epoll_create1(int flags) => (flags & ~EPOLL_CLOEXEC) != 0 ? Fail(LibC.EINVAL) : Create(flags != 0);

    /// <summary>Adds, modifies or removes <paramref name="fd"/>'s registration in the set <paramref name="epfd"/>.</summary>
    /// <param name="epfd">The set.</param>
    /// <param name="op"><see cref="EPOLL_CTL_ADD"/>, <see cref="EPOLL_CTL_MOD"/> or <see cref="EPOLL_CTL_DEL"/>.</param>
    /// <param name="fd">The target fd.</param>
    /// <param name="event">A native <c>struct epoll_event</c>; may be null for DEL only.</param>
    public static int epoll_ctl([EpollArgument(EpollArgumentRole.Set)] int epfd, [EpollArgument(EpollArgumentRole.ControlOperation)] int op, [EpollArgument(EpollArgumentRole.Target)] int fd, [EpollArgument(EpollArgumentRole.ControlEvent)] void* @event)
    {
        try
        {
            if (op != EPOLL_CTL_DEL && @event is null)
                return Fail(LibC.EFAULT);
            if (EpollNames.Find(epfd) is not { } set)
                return LibC.epoll_ctl(epfd, op, fd, @event);
            EpollEvent ev = default;
            if (op != EPOLL_CTL_DEL && !TryCopyIn(@event, out ev))
                return Fail(LibC.EFAULT);
            int error = set.Control(op, fd, ev.Events, ev.data, null);
            return error == 0 ? 0 : Fail(error);
        }
        catch (Exception e)
        {
            return Fail(e);
        }
    }

    /// <summary>
    /// Waits up to <paramref name="timeout"/> ms (negative: no limit; 0: poll) on the monotonic
    /// clock, never returning early, and fills <paramref name="events"/> with up to
    /// <paramref name="maxevents"/> entries. EINTR when a signal interrupts the wait first.
    /// </summary>
    public static int epoll_wait(int epfd, void* events, [EpollArgument(EpollArgumentRole.MaxEvents)] int maxevents, [EpollArgument(EpollArgumentRole.TimeoutMilliseconds)] int timeout) =>
        epoll_pwait(epfd, events, maxevents, timeout, null);

    /// <summary>
    /// <see cref="epoll_wait"/> with <paramref name="sigmask"/> (a <c>sigset_t*</c>, or null)
    /// installed for the wait and swapped atomically with it, as the kernel's epoll_pwait does.
    /// (Atomic for the thread that waits in the kernel for the set; with several threads waiting
    /// on one set, the others sleep under their own masks.)
    /// </summary>
    public static int epoll_pwait(int epfd, void* events, [EpollArgument(EpollArgumentRole.MaxEvents)] int maxevents, [EpollArgument(EpollArgumentRole.TimeoutMilliseconds)] int timeout, void* sigmask)
    {
        try
        {
            if (EpollNames.Hold(epfd) is not { } set)
                return LibC.epoll_pwait(epfd, events, maxevents, timeout, sigmask);
            try
            {
                ulong* mask = stackalloc ulong[SigsetWords];
                if (sigmask is not null && !TryCopyIn(sigmask, mask, KernelSigsetSize))
                    return Fail(LibC.EFAULT);
                long deadline = timeout < 0 ? long.MaxValue : Deadline(timeout * (long)TimeSpan.TicksPerMillisecond);
                return Wait(set, events, maxevents, deadline, sigmask is null ? null : mask);
            }
            finally
            {
                set.Release();
            }
        }
        catch (Exception e)
        {
            return Fail(e);
        }
    }

    /// <summary>
    /// <see cref="epoll_pwait"/> with a nanosecond <c>struct timespec</c> timeout: null waits
    /// without limit, {0, 0} polls; a negative second or a nanosecond outside [0, 1e9) is EINVAL.
    /// </summary>
    public static int epoll_pwait2(int epfd, void* events, [EpollArgument(EpollArgumentRole.MaxEvents)] int maxevents, Timespec* timeout, void* sigmask)
    {
        try
        {
            if (EpollNames.Hold(epfd) is not { } set)
                return LibC.epoll_pwait2(epfd, events, maxevents, timeout, sigmask);
            try
            {
                // The kernel's order: the mask is read first, then the timespec.
                ulong* mask = stackalloc ulong[SigsetWords];
                if (sigmask is not null && !TryCopyIn(sigmask, mask, KernelSigsetSize))
                    return Fail(LibC.EFAULT);
                long deadline = long.MaxValue;
                if (timeout is not null)
                {
                    Timespec limit;
                    if (!TryCopyIn(timeout, &limit, sizeof(Timespec)))
                        return Fail(LibC.EFAULT);
                    if (limit.tv_sec < 0 || limit.tv_nsec is < 0 or >= 1_000_000_000)
                        return Fail(LibC.EINVAL);
                    long ticks = limit.tv_sec >= long.MaxValue / TimeSpan.TicksPerSecond / 2
                        ? long.MaxValue / 4
                        : limit.tv_sec * TimeSpan.TicksPerSecond + (limit.tv_nsec + 99) / 100;
                    deadline = Deadline(ticks);
                }
                return Wait(set, events, maxevents, deadline, sigmask is null ? null : mask);
            }
            finally
            {
                set.Release();
            }
        }
        catch (Exception e)
        {
            return Fail(e);
        }
    }

    /// <summary>
    /// Closes <paramref name="fd"/>: a set's name, a registered fd, or any other fd. A set goes with
    /// its last name, as in Linux, or after that with the last wait already in flight on it: such
    /// a wait goes on, and reports what its registrations make ready, or 0 at its timeout.
    /// </summary>
    public static int close(int fd)
    {
        try
        {
            EpollSet[] sets = EpollNames.Sets;
            foreach (EpollSet set in sets)
                set.ForgetClosed(fd);
            int result = LibC.close(fd);
            int error = Marshal.GetLastPInvokeError();
            // Only now can the kernel say whether the file outlived the close (a dup, a child).
            foreach (EpollSet set in sets)
                set.AfterClose(fd);
            if (EpollNames.Find(fd) is not null)
                EpollNames.Remove(fd)?.Release();
            Marshal.SetLastPInvokeError(error);
            return result;
        }
        catch (Exception e)
        {
            return Fail(e);
        }
    }

    /// <summary>
    /// close_range(2) over fds of which <paramref name="concerned"/> are those that name sets or
    /// were added to one: each of those is closed as <see cref="close"/> closes it, around one call
    /// of <paramref name="closeRange"/> (the kernel's close_range, returning 0 or -errno) for the whole range.
    /// </summary>
    internal static int CloseRange(ReadOnlySpan<int> concerned, delegate* unmanaged<uint, uint, int, int> closeRange, uint first, uint last, int flags)
    {
        try
        {
            EpollSet[] sets = EpollNames.Sets;
            foreach (int fd in concerned)
            {
                foreach (EpollSet set in sets)
                    set.ForgetClosed(fd);
            }
            int result = closeRange(first, last, flags);
            foreach (int fd in concerned)
            {
                foreach (EpollSet set in sets)
                    set.AfterClose(fd);
                if (EpollNames.Find(fd) is not null)
                    EpollNames.Remove(fd)?.Release();
            }
            return result == 0 ? 0 : Fail(-result);
        }
        catch (Exception e)
        {
            return Fail(e);
        }
    }

    /// <summary>dup(2); a dup of a set's name names the same set.</summary>
    public static int dup(int fd)
    {
        EpollSet? set = EpollNames.Hold(fd);
        return Named(set, LibC.dup(fd));
    }

    /// <summary>dup2(2); a set named by <paramref name="newfd"/> loses that name first.</summary>
    public static int dup2(int oldfd, int newfd)
    {
        if (oldfd == newfd)
            return LibC.fcntl(oldfd, LibC.F_GETFD, 0) < 0 ? -1 : newfd;
        return Replace(oldfd, newfd, 0);
    }

    /// <summary>dup3(2): <paramref name="flags"/> is 0 or O_CLOEXEC; the fds must differ.</summary>
    public static int dup3(int oldfd, int newfd, int flags) =>
        oldfd == newfd || (flags & ~LibC.O_CLOEXEC) != 0 ? Fail(LibC.EINVAL) : Replace(oldfd, newfd, flags);

    /// <summary>
    /// fcntl(2) with an integer or pointer argument: <c>F_DUPFD</c> and <c>F_DUPFD_CLOEXEC</c> of a
    /// set's name give a new name of the same set; every other command goes to libc unchanged.
    /// </summary>
    public static int fcntl(int fd, int cmd, nint arg)
    {
        if (cmd is not (LibC.F_DUPFD or LibC.F_DUPFD_CLOEXEC))
            return LibC.fcntl(fd, cmd, arg);
        try
        {
            EpollSet? set = EpollNames.Hold(fd);
            return Named(set, LibC.fcntl(fd, cmd, arg));
        }
        catch (Exception e)
        {
            return Fail(e);
        }
    }

    private static int Create(bool closeOnExec)
    {
        try
        {
            var set = new EpollSet(closeOnExec: true, tapBackend: null, trustTaps: TrustTapsRequested());
            int name = LibC.fcntl(set.Fd, closeOnExec ? LibC.F_DUPFD_CLOEXEC : LibC.F_DUPFD, 0);
            if (name < 0)
            {
                int error = Marshal.GetLastPInvokeError();
                set.Dispose();
                return Fail(error);
            }
            EpollNames.Add(name, set);
            return name;
        }
        catch (Exception e)
        {
            return Fail(e);
        }
    }

    /// <summary>
    /// Makes <paramref name="fd"/>, an epoll instance without registrations that was created
    /// outside EpollGen (the preload's lazy sets), the name of a new set under the same number and
    /// with the same FD_CLOEXEC: the set's own epoll is dup3'ed over it. 0, or -1 with the errno
    /// and <paramref name="fd"/> left as it was.
    /// </summary>
    internal static int Adopt(int fd)
    {
        try
        {
            int descriptorFlags = LibC.fcntl(fd, LibC.F_GETFD, 0);
            if (descriptorFlags < 0)
                return -1;
            var set = new EpollSet(closeOnExec: true, tapBackend: null, trustTaps: TrustTapsRequested());
            // Only an epoll instance answers a DEL of another epoll with ENOENT (any other file is
            // EINVAL), so a stale mark can never replace a file that is not a set.
            int error = PrivateFds.CtlEmpty(fd, EPOLL_CTL_DEL, set.Fd);
            if (error == LibC.ENOENT)
                error = LibC.dup3(set.Fd, fd, (descriptorFlags & LibC.FD_CLOEXEC) != 0 ? LibC.O_CLOEXEC : 0) < 0 ? Marshal.GetLastPInvokeError() : 0;
            else
                error = error == 0 ? LibC.EINVAL : error;
            if (error != 0)
            {
                set.Dispose();
                return Fail(error);
            }
            EpollNames.Add(fd, set);
            return 0;
        }
        catch (Exception e)
        {
            return Fail(e);
        }
    }

    /// <summary>
    /// The environment variable that makes the sets created here trust their taps
    /// (<see cref="EpollSet.TrustsTaps"/>): <c>1</c> to trust, unset or <c>0</c> for exact masks.
    /// </summary>
    public const string TrustTapsVariable = "EPOLLGEN_TRUST_TAPS";

    private static bool TrustTapsRequested() => Environment.GetEnvironmentVariable(TrustTapsVariable) is "1" or "true";

    // A wait on one of EpollGen's sets, after the checks of the mask and the timeout.
    private static int Wait(EpollSet set, void* events, int maxevents, long deadline, void* sigmask)
    {
        if (maxevents <= 0 || maxevents > MaxEvents)
            return Fail(LibC.EINVAL);
        if (events is null)
            return WaitWithoutBuffer(set.Fd, deadline, sigmask);
        if (!IsUserRange(events, (nuint)maxevents * (nuint)EpollEvent.NativeSize))
            return Fail(LibC.EFAULT);
        var sink = new NativeSink((byte*)events);
        int count = set.WaitCore(ref sink, maxevents, deadline, interruptible: true, sigmask);
        return count > 0 ? count : sink.Faulted ? Fail(LibC.EFAULT) : count == 0 ? 0 : Fail(LibC.EINTR);
    }

    // The kernel's access_ok: the range lies below the top of user space (47-bit on x86_64 with
    // four-level paging, 48-bit on arm64). Pages inside it may still fault; the sink probes those.
    private static bool IsUserRange(void* start, nuint length)
    {
        nuint top = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? ((nuint)1 << 47) - 4096 : (nuint)1 << 48;
        return (nuint)start <= top && length <= top - (nuint)start;
    }

    // copy_from_user: the caller's epoll_event is read by the kernel on our behalf, so an unmapped
    // or kernel address is EFAULT and not a crash.
    private static bool TryCopyIn(void* @event, out EpollEvent ev)
    {
        ev = default;
        byte* copy = stackalloc byte[EpollEvent.NativeSize];
        if (!TryCopyIn(@event, copy, EpollEvent.NativeSize))
            return false;
        ev = EpollEvent.ReadNative(copy, 0);
        return true;
    }

    // Copies length bytes from a caller's pointer: directly when it points into the caller's live
    // stack, which cannot fault; otherwise with process_vm_readv, which fails with EFAULT where the
    // kernel's own copy would.
    private static bool TryCopyIn(void* source, void* destination, int length)
    {
        if (source is null)
            return false;
        if (ThreadStack.Contains(source, (nuint)length))
        {
            Buffer.MemoryCopy(source, destination, length, length);
            return true;
        }
        var local = new LibC.IoVec { Base = destination, Length = (nuint)length };
        var remote = new LibC.IoVec { Base = source, Length = (nuint)length };
        return LibC.process_vm_readv(Environment.ProcessId, &local, 1, &remote, 1, 0) == length;
    }

    // NULL is a valid user range to Linux: the wait runs, and only the copy of a first event faults,
    // which leaves that event ready. The set's fd polls readable exactly when a wait would report.
    private static int WaitWithoutBuffer(int epfd, long deadline, void* sigmask)
    {
        while (true)
        {
            int ready = LibC.PollInUntil(epfd, deadline, sigmask);
            if (ready > 0)
                return Fail(LibC.EFAULT);
            if (ready < 0)
                return -1;
            if (Stopwatch.GetTimestamp() >= deadline)
                return 0;
        }
    }

    // newfd, the dup of an fd that named set (null: that named none), becomes a name of the set and
    // takes over the reference held since before the dup's system call, so a close of the old name
    // meanwhile cannot dispose the set under its new name.
    private static int Named(EpollSet? set, int newfd)
    {
        if (newfd < 0)
        {
            int error = Marshal.GetLastPInvokeError();
            set?.Release();
            return Fail(error);
        }
        if (set is not null)
            EpollNames.Add(newfd, set);
        return newfd;
    }

    private static int Replace(int oldfd, int newfd, int flags)
    {
        try
        {
            if (LibC.fcntl(oldfd, LibC.F_GETFD, 0) < 0)
                return -1;
            // newfd is closed on the way, as by close().
            foreach (EpollSet set in EpollNames.Sets)
                set.ForgetClosed(newfd);
            EpollSet? replaced = EpollNames.Find(newfd) is not null ? EpollNames.Remove(newfd) : null;
            EpollSet? named = EpollNames.Hold(oldfd);
            int result = Named(named, LibC.dup3(oldfd, newfd, flags));
            int error = Marshal.GetLastPInvokeError();
            foreach (EpollSet set in EpollNames.Sets)
                set.AfterClose(newfd);
            replaced?.Release();
            Marshal.SetLastPInvokeError(error);
            return result;
        }
        catch (Exception e)
        {
            return Fail(e);
        }
    }

    // The kernel reads sizeof its sigset (8 bytes on 64-bit); libc's sigset_t is 128 bytes, all of
    // which the runtime's own calls may read, so the copy has that size with the rest zero.
    private const int KernelSigsetSize = 8;
    private const int SigsetWords = 16;

    private static long Deadline(long ticks) =>
        Stopwatch.GetTimestamp() + (long)Math.Min((double)ticks / TimeSpan.TicksPerSecond * Stopwatch.Frequency, long.MaxValue / 4);

    private static int Fail(int errno)
    {
        Marshal.SetLastPInvokeError(errno);
        return -1;
    }

    private static int Fail(Exception e) => Fail(e switch
    {
        EpollException epoll => epoll.Errno,
        System.ComponentModel.Win32Exception native => native.NativeErrorCode,   // a set's own fds could not be made (EMFILE)
        ObjectDisposedException => LibC.EBADF,
        OutOfMemoryException => LibC.ENOMEM,
        _ => LibC.EINVAL,
    });
}
#pragma warning restore IDE1006, CA1707
