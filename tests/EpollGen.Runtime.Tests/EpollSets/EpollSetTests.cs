using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using EpollGen.Events;
using EpollGen.Interop;
using EpollGen.Runtime.Tests.Native;
using EpollGen.Runtime.Tests.Taps;
using EpollGen.Taps;
using Microsoft.Win32.SafeHandles;
using Xunit;
using static EpollGen.Interop.EpollEvents;

namespace EpollGen.Runtime.Tests.EpollSets;

/// <summary>EpollSet against Linux's epoll semantics (linux-epoll-semantics.md §1), on real fds; on each tap backend.</summary>
[Collection(SignalCollection.Name)]
public abstract class EpollSetTests : BackendTests, IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);
    private readonly List<int> _fds = [];
    private readonly EpollSet _set;

    protected EpollSetTests(TapBackendKind backend)
        : base(backend)
    {
        _set = NewSet();
    }

    /// <summary>A set on <see cref="BackendTests.Backend"/>, checked to really be on it.</summary>
    protected EpollSet NewSet(bool closeOnExec = true)
    {
        var set = new EpollSet(closeOnExec, Backend);
        Assert.Equal(Backend, set.TapBackend);
        return set;
    }

    public void Dispose()
    {
        _set.Dispose();
        foreach (int fd in _fds)
            TestLibC.close(fd);
    }

    [Fact]
    public void ReportedMask_IsRegisteredIntersectReady()
    {
        int fd = Track(TestLibC.EventFd());
        TestLibC.Signal(fd);
        _set.Add(fd, EPOLLIN, 5);

        EpollEvent[] events = Poll(4);

        Assert.Single(events);
        Assert.Equal(EPOLLIN, events[0].Events);
        Assert.Equal(5UL, events[0].data);
    }

    [Fact]
    public void ErrAndHup_AreReportedUnasked()
    {
        (int read, int write) = TrackPipe();
        _set.Add(read, None, 9);
        Assert.Empty(Poll(4));

        TestLibC.close(write);
        _fds.Remove(write);

        EpollEvent[] events = WaitSome(4);
        Assert.Equal(EPOLLHUP, Assert.Single(events).Events);
    }

    [Fact]
    public void LevelTriggered_ReportsOnEveryCallUntilDrained()
    {
        int fd = Track(TestLibC.EventFd());
        _set.Add(fd, EPOLLIN, 1);
        TestLibC.Signal(fd);

        Assert.Single(WaitSome(4));
        Assert.Single(Poll(4));
        Assert.Single(Poll(4));

        TestLibC.Drain(fd);
        Assert.Empty(Poll(4));
    }

    [Fact]
    public void EdgeTriggered_ReportsEachNewChunkOnce()
    {
        (int read, int write) = TrackPipe();
        _set.Add(read, EPOLLIN | EPOLLET, 1);
        TestLibC.WriteByte(write);

        Assert.Single(WaitSome(4));
        Assert.Empty(Poll(4));

        TestLibC.WriteByte(write);
        Assert.Single(WaitSome(4));
        Assert.Empty(Poll(4));
    }

    [Fact]
    public void EdgeTriggered_PriOutOnASocket_ReFiresWhenThePeerWrites_AsTheWakeUpCarriesPri()
    {
        // AF_UNIX wakes readers with IN|PRI|RDNORM|RDBAND: PRI passes a PRI|OUT registration's
        // filter, so Linux queues it again and the harvest reports what is ready, OUT.
        (int a, int b) = TestLibC.SocketPair();
        _fds.Add(a);
        _fds.Add(b);
        _set.Add(a, EPOLLPRI | EPOLLOUT | EPOLLET, 7);
        var events = new EpollEvent[4];
        Assert.Equal(1, _set.Wait(events, Bound));
        Assert.Equal(EPOLLOUT, events[0].Events);
        Assert.Equal(0, _set.Wait(events, TimeSpan.Zero));
        TestLibC.WriteByte(b);
        // io_uring ignores PRI when it matches a wake-up against a poll; its backend polls IN too.
        Assert.Equal(1, _set.Wait(events, Bound));
        Assert.Equal(EPOLLOUT, events[0].Events);
    }

    [Fact]
    public void EdgeTriggered_ReadinessConsumedBeforeTheWait_IsNotReported()
    {
        int fd = Track(TestLibC.EventFd());
        _set.Add(fd, EPOLLIN | EPOLLET, 1);
        TestLibC.Signal(fd);
        TestLibC.Drain(fd);

        Assert.Empty(Poll(4));
    }

    [Fact]
    public void TrustedTaps_ReportEdgesAsTheTapsSaid_OnIoUringOnly_AndLoseNone()
    {
        using var trusting = new EpollSet(closeOnExec: true, Backend, trustTaps: true);
        Assert.Equal(Backend == TapBackendKind.IoUring, trusting.TrustsTaps);
        int fd = Track(TestLibC.EventFd());
        trusting.Add(fd, EPOLLIN | EPOLLET, 1);
        _set.Add(fd, EPOLLIN | EPOLLET, 1);
        var events = new EpollEvent[4];

        // Every edge is reported, once, with the mask registered ∩ what the tap saw.
        for (int i = 0; i < 3; i++)
        {
            TestLibC.Signal(fd);
            Assert.Equal(1, trusting.Wait(events, Bound));
            Assert.Equal(EPOLLIN, events[0].Events);
            Assert.Equal(0, trusting.Wait(events, TimeSpan.Zero));
            TestLibC.Drain(fd);
        }

        // Readiness consumed before the wait: the exact set re-reads and reports nothing; a trusting
        // io_uring set reports the edge its completion carried (spurious, and allowed).
        Assert.Equal(0, _set.Wait(events, TimeSpan.Zero));
        TestLibC.Signal(fd);
        TestLibC.Drain(fd);
        Assert.Equal(0, _set.Wait(events, TimeSpan.Zero));
        Assert.Equal(Backend == TapBackendKind.IoUring ? 1 : 0, trusting.Wait(events, TimeSpan.Zero));
    }

    [Fact]
    public void Modify_RereadsReadiness()
    {
        int fd = Track(TestLibC.EventFd());
        _set.Add(fd, EPOLLIN | EPOLLET, 1);
        TestLibC.Signal(fd);
        Assert.Single(WaitSome(4));
        Assert.Empty(Poll(4));

        _set.Modify(fd, EPOLLIN | EPOLLET, 2);

        EpollEvent again = Assert.Single(WaitSome(4));
        Assert.Equal(2UL, again.data);
    }

    [Fact]
    public void OneShot_SilentWhileDisarmed_EvenOnHangUp_UntilModify()
    {
        (int read, int write) = TrackPipe();
        _set.Add(read, EPOLLIN | EPOLLONESHOT, 1);
        TestLibC.WriteByte(write);
        Assert.Single(WaitSome(4));

        TestLibC.WriteByte(write);
        TestLibC.close(write);
        _fds.Remove(write);
        Assert.Empty(Poll(4));
        Assert.False(Readable(_set.Fd), "a disarmed registration must not make the set readable");
        Assert.False(_set.TryAdd(read, EPOLLIN, 1, out int errno));
        Assert.Equal(17, errno);

        _set.Modify(read, EPOLLIN | EPOLLONESHOT, 3);
        EpollEvent rearmed = Assert.Single(WaitSome(4));
        Assert.Equal(EPOLLIN | EPOLLHUP, rearmed.Events);
        Assert.Equal(3UL, rearmed.data);
    }

    [Fact]
    public void LevelTriggered_MoreReadyThanMaxEvents_RoundRobins()
    {
        const int Fds = 13;
        for (int i = 0; i < Fds; i++)
        {
            int fd = Track(TestLibC.EventFd());
            TestLibC.Signal(fd);
            _set.Add(fd, EPOLLIN, (ulong)i);
        }
        var seen = new int[Fds];
        for (int call = 0; call < Fds; call++)
        {
            EpollEvent[] events = Poll(3);
            Assert.Equal(3, events.Length);
            foreach (EpollEvent ev in events)
                seen[ev.data]++;
        }
        Assert.All(seen, count => Assert.Equal(3, count));
    }

    [Fact]
    public void OneEntryPerRegistrationPerCall()
    {
        int fd = Track(TestLibC.EventFd());
        _set.Add(fd, EPOLLIN | EPOLLOUT, 1);
        for (int i = 0; i < 10; i++)
            TestLibC.Signal(fd);

        EpollEvent only = Assert.Single(WaitSome(8));
        Assert.Equal(EPOLLIN | EPOLLOUT, only.Events);
    }

    [Fact]
    public void Errors_AreLinuxs_AndChangeNothing()
    {
        int fd = Track(TestLibC.EventFd());
        _set.Add(fd, EPOLLIN, 1);
        int file = Track(TestLibC.Check(TestLibC.open("/proc/self/exe", TestLibC.O_CLOEXEC), "open"));
        int fresh = Track(TestLibC.EventFd());
        int exclusive = Track(TestLibC.EventFd());
        (int closedRead, int closedWrite) = TestLibC.Pipe();
        TestLibC.close(closedRead);
        TestLibC.close(closedWrite);

        Assert.Equal(17, Errno(() => _set.Add(fd, EPOLLOUT, 2)));                    // EEXIST
        Assert.Equal(9, Errno(() => _set.Add(-1, EPOLLIN, 2)));                      // EBADF
        Assert.Equal(9, Errno(() => _set.Add(closedRead, EPOLLIN, 2)));              // EBADF
        Assert.Equal(1, Errno(() => _set.Add(file, EPOLLIN, 2)));                    // EPERM
        Assert.Equal(22, Errno(() => _set.Add(_set.Fd, EPOLLIN, 2)));                // EINVAL: itself
        Assert.Equal(22, Errno(() => _set.Add(exclusive, EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT, 2)));
        Assert.Equal(22, Errno(() => _set.Modify(fd, EPOLLIN | EPOLLEXCLUSIVE, 2)));
        Assert.Equal(2, Errno(() => _set.Modify(fresh, EPOLLIN, 2))); // ENOENT
        Assert.Equal(2, Errno(() => _set.Remove(fresh)));         // ENOENT
        Assert.Equal(9, Errno(() => _set.Remove(closedRead)));                       // EBADF

        Assert.Equal(1, _set.Count);
        TestLibC.Signal(fd);
        EpollEvent unchanged = Assert.Single(WaitSome(4));
        Assert.Equal(1UL, unchanged.data);
        Assert.Equal(EPOLLIN, unchanged.Events);
    }

    [Fact]
    public void Timeout_NeverReturnsEarly()
    {
        var events = new EpollEvent[4];
        foreach (int ms in new[] { 1, 10, 50 })
        {
            long start = Stopwatch.GetTimestamp();
            Assert.Equal(0, _set.Wait(events, TimeSpan.FromMilliseconds(ms)));
            Assert.True(Stopwatch.GetElapsedTime(start) >= TimeSpan.FromMilliseconds(ms));
        }
    }

    [Fact]
    public async Task ControlFromAnotherThread_WakesABlockedWaiter()
    {
        int fd = Track(TestLibC.EventFd());
        TestLibC.Signal(fd);
        var events = new EpollEvent[4];
        Task<int> waiter = Task.Factory.StartNew(() => _set.Wait(events, Timeout.InfiniteTimeSpan), TaskCreationOptions.LongRunning);
        await Task.Delay(50);
        Assert.False(waiter.IsCompleted);

        _set.Add(fd, EPOLLIN, 8);

        Assert.Equal(1, await waiter.WaitAsync(Bound));
        Assert.Equal(8UL, events[0].data);
    }

    [Fact]
    public async Task WaitAsync_CompletesOnReadiness_AndHonoursCancellation()
    {
        int fd = Track(TestLibC.EventFd());
        _set.Add(fd, EPOLLIN | EPOLLET, 4);
        var events = new EpollEvent[4];

        ValueTask<int> pending = _set.WaitAsync(events, Timeout.InfiniteTimeSpan);
        TestLibC.Signal(fd);
        Assert.Equal(1, await pending.AsTask().WaitAsync(Bound));
        Assert.Equal(4UL, events[0].data);

        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(20));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _set.WaitAsync(events, Timeout.InfiniteTimeSpan, cancel.Token).AsTask());
    }

    [Fact]
    public void SafeHandle_StaysOpenWhileRegistered()
    {
        int raw = TestLibC.EventFd();
        var handle = new SafeFileHandle(raw, ownsHandle: true);
        _set.Add(handle, EPOLLIN, 6);
        handle.Dispose();

        Assert.True(TestLibC.fcntl(raw, TestLibC.F_GETFD, 0) >= 0, "the fd must stay open while registered");
        TestLibC.Signal(raw);
        Assert.Equal(6UL, Assert.Single(WaitSome(4)).data);

        _set.Remove(raw);
        Assert.True(TestLibC.fcntl(raw, TestLibC.F_GETFD, 0) < 0, "removing the registration releases the handle");
    }

    [Fact]
    public void SetFd_IsReadableWhileEventsWait_AndCloseOnExecFollowsTheFlag()
    {
        int fd = Track(TestLibC.EventFd());
        _set.Add(fd, EPOLLIN, 1);
        Assert.False(Readable(_set.Fd));

        TestLibC.Signal(fd);
        Assert.True(Readable(_set.Fd), "unharvested readiness");
        Assert.Single(Poll(4));
        Assert.True(Readable(_set.Fd), "a level-triggered entry still waits");
        TestLibC.Drain(fd);
        Assert.Empty(Poll(4));
        Assert.False(Readable(_set.Fd));

        Assert.Equal(TestLibC.FD_CLOEXEC, TestLibC.fcntl(_set.Fd, TestLibC.F_GETFD, 0));
        using EpollSet inherited = NewSet(closeOnExec: false);
        Assert.Equal(0, TestLibC.fcntl(inherited.Fd, TestLibC.F_GETFD, 0));
    }

    [Fact]
    public void NestedSet_PropagatesReadiness()
    {
        using EpollSet outer = NewSet();
        int fd = Track(TestLibC.EventFd());
        _set.Add(fd, EPOLLIN | EPOLLET, 1);
        outer.Add(_set.Fd, EPOLLIN, 2);

        TestLibC.Signal(fd);
        var events = new EpollEvent[4];
        Assert.Equal(1, outer.Wait(events, Bound));
        Assert.Equal(2UL, events[0].data);
        Assert.Equal(EPOLLIN, events[0].Events);
        Assert.Equal(1UL, Assert.Single(Poll(4)).data);
    }

    [Fact]
    public void NestedSet_DrainedLevelTriggeredEntry_NoLongerMakesItReady()
    {
        using EpollSet outer = NewSet();
        int fd = Track(TestLibC.EventFd());
        _set.Add(fd, EPOLLIN, 1);
        outer.Add(_set.Fd, EPOLLIN, 2);
        TestLibC.Signal(fd);
        Assert.Single(WaitSome(4));

        TestLibC.Drain(fd);

        Assert.Equal(0, outer.Wait(new EpollEvent[4], TimeSpan.Zero));
        Assert.False(Readable(_set.Fd));
    }

    [Theory]
    [InlineData(true, 1)]
    [InlineData(false, 4)]
    public void Exclusive_OneWriteWakesOneOfSeveralSets(bool exclusive, int expectedWoken)
    {
        int fd = Track(TestLibC.EventFd());
        var sets = new EpollSet[4];
        var threads = new Thread[4];
        var tids = new int[4];
        var woken = new int[4];
        for (int i = 0; i < sets.Length; i++)
        {
            sets[i] = NewSet();
            sets[i].Add(fd, EPOLLIN | EPOLLET | (exclusive ? EPOLLEXCLUSIVE : None), (ulong)i);
            int index = i;
            threads[i] = new Thread(() =>
            {
                Volatile.Write(ref tids[index], TestLibC.gettid());
                woken[index] = sets[index].Wait(new EpollEvent[1], TimeSpan.FromMilliseconds(1500));
            });
            threads[i].Start();
        }
        try
        {
            for (int i = 0; i < threads.Length; i++)
                KernelWaits.UntilBlocked(ref tids[i], Bound);
            TestLibC.Signal(fd);
            foreach (Thread thread in threads)
                Assert.True(thread.Join(Bound));
            Assert.Equal(expectedWoken, woken.Sum());
        }
        finally
        {
            foreach (EpollSet set in sets)
                set.Dispose();
        }
    }

    [Fact]
    public unsafe void Wait_AllocatesNothingPerWait()
    {
        const int Waits = 5000;
        ulong one = 1;
        int fd = Track(TestLibC.EventFd());
        _set.Add(fd, EPOLLIN | EPOLLET, 1);
        var events = new EpollEvent[4];
        for (int i = 0; i < 100; i++)
        {
            TestLibC.Signal(fd);
            _set.Wait(events, Bound);
            TestLibC.Drain(fd);
        }
        // Unoptimized (Debug) builds of the generated flag maps allocate their lookup table per
        // call; a wait makes two translations (kernel mask to tap filters and back), so exactly
        // that much is allowed.
        long translations = GC.GetAllocatedBytesForCurrentThread();
        TapFilters filters = EpollTapMap.ToTarget(EPOLLIN);
        EpollEvents back = EpollTapMap.ToSource(filters);
        translations = GC.GetAllocatedBytesForCurrentThread() - translations;
        Assert.Equal(EPOLLIN, back);

        int reported = 0;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Waits; i++)
        {
            TestLibC.write(fd, &one, 8);   // not Signal: its assertion allocates
            reported += _set.Wait(events, Bound);
            TestLibC.Drain(fd);
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(Waits, reported);
        Assert.Equal(Waits * translations, allocated);
    }

    /// <summary>
    /// A waiter took a message for a registration and has not ingested it when DEL/ADD cycles of
    /// the fd begin (simulated: this thread takes under the hold a set's wait takes under). Each
    /// ADD gets a new CEQ id; however many cycles run, none is the held message's id, so the set,
    /// which matches messages to registrations by id, drops the stale message. Before ids were
    /// held, 1,024 cycles gave the first id back.
    /// </summary>
    [Fact]
    public void MessageHeldAcrossDelAddCycles_NeverNamesTheNewRegistration()
    {
        int fd = Track(TestLibC.EventFd());
        _set.Add(fd, EPOLLIN | EPOLLET, 1);
        TestLibC.Signal(fd);
        CeqMessage held = Assert.Single(TakeMessages(hold: true));
        try
        {
            for (int round = 0; round < 3; round++)
            {
                for (int cycle = 0; cycle < 1024; cycle++)
                {
                    _set.Remove(fd);
                    _set.Add(fd, EPOLLIN | EPOLLET, 1);
                }
                TestLibC.Signal(fd);
                CeqMessage fresh = Assert.Single(TakeMessages(hold: false));
                Assert.Equal((ulong)fd, fresh.UserData);
                Assert.NotEqual(held.Id, fresh.Id);
            }
        }
        finally
        {
            _set.Queue.Mailbox.ReleaseTaken();
        }
    }

    // What a set's wait would take from its queue for the registrations' taps.
    private CeqMessage[] TakeMessages(bool hold)
    {
        var messages = new CeqMessage[4];
        if (!hold)
            return messages[.._set.Queue.Wait(messages, Bound)];
        using (_set.Queue.Mailbox.HoldTakes())
            return messages[.._set.Queue.Wait(messages, Bound)];
    }

    private static unsafe bool Readable(int fd)
    {
        var poll = new PollFd { fd = fd, events = 1 };
        return TestLibC.poll(&poll, 1, 0) == 1 && (poll.revents & 1) != 0;
    }

    private EpollEvent[] Poll(int max) => Take(max, TimeSpan.Zero);

    private EpollEvent[] WaitSome(int max) => Take(max, Bound);

    private EpollEvent[] Take(int max, TimeSpan timeout)
    {
        var events = new EpollEvent[max];
        int count = _set.Wait(events, timeout);
        return events[..count];
    }

    private static int Errno(Action action) => Assert.Throws<EpollException>(action).Errno;

    private int Track(int fd)
    {
        _fds.Add(fd);
        return fd;
    }

    private (int Read, int Write) TrackPipe()
    {
        (int read, int write) = TestLibC.Pipe();
        Track(read);
        Track(write);
        return (read, write);
    }
}

/// <summary><see cref="EpollSetTests"/> on the kernel-epoll backend.</summary>
[Collection(SignalCollection.Name)]
public sealed class EpollSetTests_Epoll() : EpollSetTests(TapBackendKind.Epoll);

/// <summary><see cref="EpollSetTests"/> on the io_uring backend.</summary>
[Collection(SignalCollection.Name)]
public sealed class EpollSetTests_IoUring() : EpollSetTests(TapBackendKind.IoUring);
