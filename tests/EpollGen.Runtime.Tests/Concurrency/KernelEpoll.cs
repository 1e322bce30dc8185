using System.Runtime.InteropServices;
using EpollGen.Runtime.Tests.Native;

namespace EpollGen.Runtime.Tests.Concurrency;

/// <summary>The kernel's epoll, called through libc directly: what every concurrency test must pass on.</summary>
public sealed unsafe partial class KernelEpoll : EpollUnderTest
{
    public override int Create() => TestLibC.epoll_create1(0);

    public override int Ctl(int epfd, int op, int fd, void* @event) => TestLibC.epoll_ctl(epfd, op, fd, @event);

    public override int Wait(int epfd, void* events, int maxEvents, int timeout) =>
        TestLibC.epoll_wait(epfd, events, maxEvents, timeout);

    public override int PWait(int epfd, void* events, int maxEvents, int timeout, void* sigmask) =>
        epoll_pwait(epfd, events, maxEvents, timeout, sigmask);

    public override int Close(int fd) => TestLibC.close(fd);

    public override string ToString() => "kernel epoll";

#pragma warning disable IDE1006 // libc's name
    [LibraryImport("libc", SetLastError = true)]
    private static partial int epoll_pwait(int epfd, void* events, int maxEvents, int timeout, void* sigmask);
#pragma warning restore IDE1006
}
