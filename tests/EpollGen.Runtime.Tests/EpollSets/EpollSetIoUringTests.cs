using System;
using System.Collections.Generic;
using EpollGen.Interop;
using EpollGen.Runtime.Tests.Native;
using EpollGen.Taps;
using Xunit;
using static EpollGen.Interop.EpollEvents;

namespace EpollGen.Runtime.Tests.EpollSets;

/// <summary>What the io_uring set adds to its backend: re-validation, its ready list, its name fd and its nesting graph.</summary>
[Collection(SignalCollection.Name)]
public sealed class EpollSetIoUringTests : IDisposable
{
    private readonly List<int> _fds = [];
    private readonly List<EpollSet> _sets = [];

    public void Dispose()
    {
        foreach (EpollSet set in _sets)
            set.Dispose();
        foreach (int fd in _fds)
            TestLibC.close(fd);
    }

    [Fact]
    public void StaleCompletion_IsNeverReported_InEitherMode()
    {
        EpollSet set = NewSet();
        int edge = Track(TestLibC.EventFd());
        int level = Track(TestLibC.EventFd());
        set.Add(edge, EPOLLIN | EPOLLET, 1);
        set.Add(level, EPOLLIN, 2);

        // Written and drained before the wait: the multishot polls posted completions that are
        // stale by the time the wait reaps them.
        TestLibC.Signal(edge);
        TestLibC.Signal(level);
        TestLibC.Drain(edge);
        TestLibC.Drain(level);

        Assert.Equal(0, set.Wait(new EpollEvent[4], TimeSpan.Zero));
        Assert.False(Readable(set.Fd), "the stale completions were collected; nothing keeps the name fd readable");
    }

    [Fact]
    public void LevelTriggered_ReportedGoToTheTail_UnreportedKeepTheHead()
    {
        EpollSet set = NewSet();
        for (ulong i = 0; i < 5; i++)
        {
            int fd = Track(TestLibC.EventFd());
            TestLibC.Signal(fd);
            set.Add(fd, EPOLLIN, i);
        }
        var events = new EpollEvent[2];
        var order = new List<ulong>();
        for (int call = 0; call < 5; call++)
        {
            Assert.Equal(2, set.Wait(events, TimeSpan.Zero));
            order.Add(events[0].data);
            order.Add(events[1].data);
        }
        // ADD order first, then round-robin: 0 1 | 2 3 | 4 0 | 1 2 | 3 4.
        Assert.Equal([0UL, 1, 2, 3, 4, 0, 1, 2, 3, 4], order);
    }

    [Fact]
    public void OneShot_DisarmedIsSilentOnHangUp_AndTheNameFdStaysQuiet()
    {
        EpollSet set = NewSet();
        (int read, int write) = TestLibC.Pipe();
        Track(read);
        set.Add(read, EPOLLIN | EPOLLONESHOT, 1);
        TestLibC.WriteByte(write);
        Assert.Equal(1, set.Wait(new EpollEvent[4], TimeSpan.FromSeconds(5)));

        TestLibC.close(write);

        Assert.Equal(0, set.Wait(new EpollEvent[4], TimeSpan.FromMilliseconds(50)));
        Assert.False(Readable(set.Fd));
    }

    [Fact]
    public void Nesting_IsCheckedInEpollGensGraph_WhichTheKernelCannotSee()
    {
        var chain = new EpollSet[6];
        for (int i = 0; i < chain.Length; i++)
            chain[i] = NewSet();
        int fd = Track(TestLibC.EventFd());
        chain[0].Add(fd, EPOLLIN, 100);
        for (int i = 1; i < 5; i++)
            chain[i].Add(chain[i - 1].Fd, EPOLLIN, (ulong)i);

        Assert.False(chain[5].TryAdd(chain[4].Fd, EPOLLIN, 5, out int errno));
        Assert.Equal(40, errno); // ELOOP: a sixth level
        Assert.False(chain[0].TryAdd(chain[3].Fd, EPOLLIN, 6, out errno));
        Assert.Equal(40, errno); // ELOOP: a cycle

        // Removing a link frees the depth it used.
        chain[4].Remove(chain[3].Fd);
        Assert.True(chain[5].TryAdd(chain[4].Fd, EPOLLIN, 5, out _));

        TestLibC.Signal(fd);
        var events = new EpollEvent[4];
        Assert.Equal(1, chain[3].Wait(events, TimeSpan.FromSeconds(5)));
        Assert.Equal(3UL, events[0].data);
    }

    [Fact]
    public void NameFd_IsAKernelEpoll_ThatCloseOnExecFollows_AndThatNestsInTheKernel()
    {
        EpollSet inherited = NewSet(closeOnExec: false);
        Assert.Equal(0, TestLibC.fcntl(inherited.Fd, TestLibC.F_GETFD, 0));
        EpollSet set = NewSet();
        Assert.Equal(TestLibC.FD_CLOEXEC, TestLibC.fcntl(set.Fd, TestLibC.F_GETFD, 0));
        int fd = Track(TestLibC.EventFd());
        set.Add(fd, EPOLLIN, 1);
        Assert.False(Readable(set.Fd));

        TestLibC.Signal(fd);

        Assert.True(Readable(set.Fd));
        Assert.Equal(1, set.Wait(new EpollEvent[4], TimeSpan.Zero));
        Assert.True(Readable(set.Fd), "a level-triggered entry still waits");
        TestLibC.Drain(fd);
        Assert.Equal(0, set.Wait(new EpollEvent[4], TimeSpan.Zero));
        Assert.False(Readable(set.Fd));
    }

    private EpollSet NewSet(bool closeOnExec = true)
    {
        var set = new EpollSet(closeOnExec, TapBackendKind.IoUring);
        _sets.Add(set);
        return set;
    }

    private int Track(int fd)
    {
        _fds.Add(fd);
        return fd;
    }

    private static unsafe bool Readable(int fd)
    {
        var poll = new PollFd { fd = fd, events = 1 };
        return TestLibC.poll(&poll, 1, 0) == 1 && (poll.revents & 1) != 0;
    }
}
