namespace EpollGen.Taps;

/// <summary>
/// The kernel mechanism an <see cref="Events.EventQueue"/> uses to watch its taps' fds. The default
/// is <see cref="IoUring"/> where the kernel allows it and <see cref="Epoll"/> elsewhere; the
/// <c>EPOLLGEN_TAP_BACKEND</c> environment variable (<c>epoll</c> or <c>io_uring</c>) overrides that
/// default, and a queue's constructor argument overrides both.
/// </summary>
public enum TapBackendKind
{
    /// <summary>
    /// A kernel epoll instance per queue, edge-triggered, one registration per tapped fd. Works
    /// wherever epoll does; the fallback where io_uring is disabled (sysctl, seccomp, old kernels).
    /// </summary>
    Epoll = 1,

    /// <summary>
    /// An io_uring instance per queue with one multishot <c>POLL_ADD</c> per tapped fd: the kernel
    /// posts readiness into shared memory, the closest Linux analogue of an Akaros tap.
    /// </summary>
    IoUring = 2,
}
