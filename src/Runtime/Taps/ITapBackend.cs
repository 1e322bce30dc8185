using System;

namespace EpollGen.Taps;

/// <summary>
/// The kernel side of one event queue's taps: it keeps the queue's per-fd tap table, asks the
/// kernel for readiness on those fds and posts what it reports into the queue's mailbox. One
/// thread at a time (the queue's driver) calls <see cref="WaitAndDispatch"/>, unless the backend
/// <see cref="AllowsConcurrentWaits"/>; <see cref="Apply"/> and <see cref="Wake"/> may be called
/// from any thread.
/// </summary>
internal interface ITapBackend : IDisposable
{
    /// <summary>Which mechanism this is.</summary>
    TapBackendKind Kind { get; }

    /// <summary>
    /// An fd that poll(2) and epoll report readable while the backend holds readiness it has not
    /// dispatched yet (and after <see cref="Wake"/>), so a queue can be nested in another poller.
    /// The backend owns it; never close it.
    /// </summary>
    int PollFd { get; }

    /// <summary>
    /// Whether several threads may call <see cref="WaitAndDispatch"/> at once. Where they may, a
    /// wait whose deadline has passed while another thread waits in the kernel still takes its own
    /// last look at the taps, as every caller of Linux's epoll_wait does.
    /// </summary>
    bool AllowsConcurrentWaits { get; }

    /// <summary>Kernel waits a signal interrupted (EINTR).</summary>
    long InterruptedWaits { get; }

    /// <summary>Carries out one tap request; returns 0 or an errno, and changes nothing on error.</summary>
    int Apply(in TapRequest request);

    /// <summary>
    /// Waits in the kernel for up to <paramref name="timeoutMs"/> (-1: no limit; 0: only collect
    /// what is there) and posts what the taps report. The result says whether a tap's bits were
    /// posted, whether a signal interrupted the wait (EINTR; the caller recomputes its remaining
    /// time and calls again) and whether the wait consumed a <see cref="Wake"/>. A positive
    /// <paramref name="limit"/> bounds the kernel events taken, and <paramref name="signalMask"/>
    /// (a sigset_t, or null) is installed atomically for the wait; a backend that cannot honour
    /// them takes all events and keeps the thread's mask (the kernel-epoll backend honours both; the
    /// io_uring backend honours the mask and needs no limit).
    /// </summary>
    unsafe TapWaitResult WaitAndDispatch(int timeoutMs, int limit = 0, void* signalMask = null);

    /// <summary>Makes a thread blocked in <see cref="WaitAndDispatch"/> return soon.</summary>
    void Wake();
}

/// <summary>What one <see cref="ITapBackend.WaitAndDispatch"/> did.</summary>
[Flags]
internal enum TapWaitResult
{
    /// <summary>Nothing: the wait timed out or found only stale events.</summary>
    None = 0,

    /// <summary>A tap's bits were posted to the mailbox.</summary>
    Posted = 1,

    /// <summary>A signal interrupted the kernel wait (EINTR).</summary>
    Interrupted = 2,

    /// <summary>The wait consumed a <see cref="ITapBackend.Wake"/>.</summary>
    Woken = 4,
}
