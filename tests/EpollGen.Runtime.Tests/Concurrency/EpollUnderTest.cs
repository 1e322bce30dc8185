namespace EpollGen.Runtime.Tests.Concurrency;

/// <summary>
/// The epoll a concurrency test runs against, with libc's signatures: the kernel's own (the proof
/// that a test asserts Linux) or an EpollGen set on one tap backend. Failures return -1 with the
/// errno in <see cref="System.Runtime.InteropServices.Marshal.GetLastPInvokeError"/>.
/// </summary>
public abstract unsafe class EpollUnderTest
{
    /// <summary>epoll_create1(0).</summary>
    public abstract int Create();

    /// <summary>epoll_ctl with a native <c>struct epoll_event</c> (null for DEL).</summary>
    public abstract int Ctl(int epfd, int op, int fd, void* @event);

    /// <summary>epoll_wait.</summary>
    public abstract int Wait(int epfd, void* events, int maxEvents, int timeout);

    /// <summary>epoll_pwait with a glibc <c>sigset_t*</c>.</summary>
    public abstract int PWait(int epfd, void* events, int maxEvents, int timeout, void* sigmask);

    /// <summary>close of a set or of an fd registered in one, the way this epoll's users close them.</summary>
    public abstract int Close(int fd);
}
