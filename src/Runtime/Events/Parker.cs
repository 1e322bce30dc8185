using System;
using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.InteropServices;
using EpollGen.Native;

namespace EpollGen.Events;

/// <summary>
/// A thread's own place to sleep in the kernel while another thread waits on a queue's taps: an
/// eventfd the thread waits on with ppoll(2), so a signal sent to the thread interrupts its sleep
/// (EINTR) and an epoll_pwait mask is installed atomically with it, as Linux's epoll_wait does for
/// every waiter.
/// </summary>
/// <remarks>
/// One per thread, created at the thread's first sleep; its SafeHandle closes the eventfd when the
/// thread is gone and the parker is collected. A wake-up that arrives after its sleeper left is
/// kept in the eventfd and ends the thread's next sleep early: sleepers treat every wake-up as a
/// hint and check again, so such a late one costs a loop, never a lost or false event.
/// </remarks>
internal sealed unsafe class Parker
{
    [ThreadStatic]
    private static Parker? t_current;

    private readonly ParkerHandle _handle;

    private Parker()
    {
        int fd = PrivateFds.CreateEventFd();
        if (fd < 0)
            throw new Win32Exception(Marshal.GetLastPInvokeError(), "eventfd for a sleeping waiter failed");
        _handle = new ParkerHandle(fd);
    }

    /// <summary>How a sleep ended.</summary>
    public enum Outcome
    {
        /// <summary><see cref="Unpark"/> was called (perhaps for an earlier sleep).</summary>
        Woken,

        /// <summary>The deadline passed.</summary>
        TimedOut,

        /// <summary>A signal handler ran (EINTR).</summary>
        Interrupted,
    }

    /// <summary>The calling thread's parker.</summary>
    public static Parker Current => t_current ??= new Parker();

    /// <summary>
    /// Whether a waker took this parker off a queue's list of sleepers during its current sleep;
    /// guarded by that queue's lock. A parker sleeps on one queue at a time.
    /// </summary>
    public bool Chosen { get; set; }

    // A waker holds a reference to the parker, so the handle cannot be released under its write.
    private int Fd => (int)_handle.DangerousGetHandle();

    /// <summary>
    /// Sleeps until <see cref="Unpark"/>, the deadline (<see cref="Stopwatch"/> ticks;
    /// <see cref="long.MaxValue"/>: none) or a signal. <paramref name="signalMask"/> (a sigset_t, or
    /// null) replaces the thread's mask for the sleep only, atomically.
    /// </summary>
    public Outcome Park(long deadline, void* signalMask)
    {
        int ready = LibC.PollInUntil(Fd, deadline, signalMask);
        if (ready < 0)
        {
            int error = Marshal.GetLastPInvokeError();
            if (error == LibC.EINTR)
                return Outcome.Interrupted;
            throw new Win32Exception(error, "ppoll of a sleeping waiter failed");
        }
        if (ready == 0)
            return Outcome.TimedOut;
        ulong drained;
        LibC.read(Fd, &drained, sizeof(ulong));
        return Outcome.Woken;
    }

    /// <summary>Ends the thread's current sleep, or its next one. Safe from any thread.</summary>
    public void Unpark()
    {
        ulong one = 1;
        LibC.write(Fd, &one, sizeof(ulong));
    }

    private sealed class ParkerHandle : SafeHandle
    {
        public ParkerHandle(int fd)
            : base(-1, ownsHandle: true) => SetHandle(fd);

        public override bool IsInvalid => handle < 0;

        protected override bool ReleaseHandle() => LibC.close((int)handle) == 0;
    }
}
