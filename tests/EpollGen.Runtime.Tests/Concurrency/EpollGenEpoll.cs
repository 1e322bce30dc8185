using EpollGen.Runtime.Tests.EpollSets;
using EpollGen.Taps;
using Xunit;

namespace EpollGen.Runtime.Tests.Concurrency;

/// <summary>
/// EpollGen's libc-shaped API, its sets built on one tap backend. The backend comes from
/// <c>EPOLLGEN_TAP_BACKEND</c>, set only around each create, so the classes using this run in
/// <see cref="SignalCollection"/>, apart from every other test that creates sets.
/// </summary>
public sealed unsafe class EpollGenEpoll(TapBackendKind backend) : EpollUnderTest
{
    public override int Create()
    {
        int set;
        using (new BackendEnvironment(backend))
            set = Epoll.epoll_create1(0);
        if (set >= 0)
            Assert.Equal(backend, EpollNames.Find(set)?.TapBackend);
        return set;
    }

    public override int Ctl(int epfd, int op, int fd, void* @event) => Epoll.epoll_ctl(epfd, op, fd, @event);

    public override int Wait(int epfd, void* events, int maxEvents, int timeout) =>
        Epoll.epoll_wait(epfd, events, maxEvents, timeout);

    public override int PWait(int epfd, void* events, int maxEvents, int timeout, void* sigmask) =>
        Epoll.epoll_pwait(epfd, events, maxEvents, timeout, sigmask);

    public override int Close(int fd) => Epoll.close(fd);

    public override string ToString() => $"EpollGen on {backend}";
}
