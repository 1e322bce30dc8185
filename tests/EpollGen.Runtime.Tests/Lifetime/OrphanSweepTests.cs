using EpollGen.Interop;
using EpollGen.Runtime.Tests.Native;
using EpollGen.Taps;
using Xunit;

namespace EpollGen.Runtime.Tests.Lifetime;

/// <summary>
/// Registered fds closed behind a set's back (a plain close, no DEL, no Epoll.close: what
/// Socket.Dispose does to an fd added by number) and their numbers added again: the set keeps
/// the closed ones only while it may not know whether their files live on, a bounded number,
/// as Linux drops a registration with its file. Kernel-epoll sets only: an io_uring set's ring
/// holds the file of every fd it polls, so a close behind its back releases nothing, and the
/// README asks for Epoll.close or the SafeHandle overloads there.
/// </summary>
public sealed class OrphanSweepTests
{
    [Fact]
    public void ClosesBehindTheSetsBack_AndAddsOfTheNumber_LeaveABoundedCount()
    {
        using var set = new EpollSet(tapBackend: TapBackendKind.Epoll);
        for (int i = 0; i < 2000; i++)
        {
            int fd = TestLibC.EventFd();
            set.Add(fd, EpollEvents.EPOLLIN, (ulong)i);
            Assert.Equal(0, TestLibC.close(fd));
        }

        Assert.InRange(set.Count, 1, 200);
    }
}
