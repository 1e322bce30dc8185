using System;
using System.Linq;
using System.Threading;
using EpollGen.Interop;
using EpollGen.Runtime.Tests.Native;
using EpollGen.Taps;
using Xunit;

namespace EpollGen.Runtime.Tests.Concurrency;

/// <summary>
/// Which blocked waiters an event wakes: every one for a level-triggered item (each harvester
/// puts the item back and wakes the next), exactly one for an edge-triggered one; a ctl from
/// another thread wakes a waiter; a close, of a registered fd or of the set, wakes none.
/// </summary>
public abstract unsafe class WakeUpTests(EpollUnderTest epoll) : ConcurrencyTests(epoll)
{
    private const ulong Data = 7;

    [Theory]
    [InlineData(2)]
    [InlineData(10)]
    public void OneWrite_ToALevelTriggeredSocket_WakesEveryBlockedWaiter(int count)
    {
        int set = NewSet();
        (int a, int b) = SocketPair();
        Ctl(set, Linux.EPOLL_CTL_ADD, a, EpollEvents.EPOLLIN, Data);
        Waiter[] waiters = StartBlockedWaiters(set, count);

        TestLibC.WriteByte(b);

        WaitHandle.WaitAll(waiters.Select(w => w.ReturnedHandle).ToArray(), Bound);
        int woken = waiters.Count(w => w.HasReturned && w.Result == 1 && w.Event(0).data == Data);
        Assert.True(woken == count,
            $"{woken} of {count} waiters returned the level-triggered event within {Bound} on {Epoll}; "
            + $"results: {string.Join(", ", waiters.Select(Describe))}");
    }

    [Fact]
    public void OneWrite_ToAnEdgeTriggeredSocket_WakesExactlyOneOfEightWaiters()
    {
        int set = NewSet();
        (int a, int b) = SocketPair();
        Ctl(set, Linux.EPOLL_CTL_ADD, a, EpollEvents.EPOLLIN | EpollEvents.EPOLLET, Data);
        Waiter[] waiters = StartBlockedWaiters(set, 8);

        TestLibC.WriteByte(b);

        int first = WaitHandle.WaitAny(waiters.Select(w => w.ReturnedHandle).ToArray(), Bound);
        Assert.True(first != WaitHandle.WaitTimeout, $"no waiter returned the edge within {Bound}");
        Assert.True(waiters[first].Result == 1 && waiters[first].Event(0).data == Data, $"the first waiter returned {Describe(waiters[first])}");
        Waiter[] others = [.. waiters.Where((_, i) => i != first)];
        int extra = WaitHandle.WaitAny(others.Select(w => w.ReturnedHandle).ToArray(), TimeSpan.FromMilliseconds(200));
        if (extra != WaitHandle.WaitTimeout)
            Assert.Fail($"a second waiter returned {Describe(others[extra])} for one edge");

        // Let the others go; none of them may report the edge a second time.
        Release(set);
        WaitHandle.WaitAll(others.Select(w => w.ReturnedHandle).ToArray(), Bound);
        Assert.True(others.All(w => !w.HasReturned || w.Result != 1 || w.Event(0).data != Data),
            $"the edge was reported twice: {string.Join(", ", others.Select(Describe))}");
    }

    [Fact]
    public void Add_OfAReadyFd_FromAnotherThread_WakesAWaiterWithNoTimeout()
    {
        int set = NewSet();
        int fd = EventFd();
        TestLibC.Signal(fd);
        Waiter waiter = StartBlockedWait("waiter", set, timeout: -1);

        Ctl(set, Linux.EPOLL_CTL_ADD, fd, EpollEvents.EPOLLIN, Data);

        AssertReturnsEvent(waiter, Data, "after ADD of a ready fd");
    }

    [Fact]
    public void Mod_RearmingAReadyOneshotFd_FromAnotherThread_WakesAWaiterWithNoTimeout()
    {
        int set = NewSet();
        int fd = EventFd();
        TestLibC.Signal(fd);
        Ctl(set, Linux.EPOLL_CTL_ADD, fd, EpollEvents.EPOLLIN | EpollEvents.EPOLLONESHOT, 1);
        byte* ev = stackalloc byte[EpollEvent.NativeSize];
        Assert.Equal(1, Epoll.Wait(set, ev, 1, 0));   // delivered, so disarmed
        Waiter waiter = StartBlockedWait("waiter", set, timeout: -1);
        AssertStillWaiting(waiter, "while the oneshot item is disarmed");

        Ctl(set, Linux.EPOLL_CTL_MOD, fd, EpollEvents.EPOLLIN | EpollEvents.EPOLLONESHOT, Data);

        AssertReturnsEvent(waiter, Data, "after MOD re-armed a ready oneshot fd");
    }

    [Fact]
    public void Close_OfARegisteredFd_LeavesABlockedWaiterWaiting_ForAnotherFdsEvent()
    {
        int set = NewSet();
        int closed = EventFd(), other = EventFd();
        Ctl(set, Linux.EPOLL_CTL_ADD, closed, EpollEvents.EPOLLIN, 1);
        Ctl(set, Linux.EPOLL_CTL_ADD, other, EpollEvents.EPOLLIN, Data);
        Waiter waiter = StartBlockedWait("waiter", set, timeout: 5000);

        Forget(closed);
        Assert.Equal(0, Epoll.Close(closed));

        AssertStillWaiting(waiter, "after close of a registered fd");
        TestLibC.Signal(other);
        AssertReturnsEvent(waiter, Data, "after the other fd's event");
    }

    // Linux: the wait holds its own reference to the set's file, so the set lives on under it,
    // registrations and all, until the wait returns.
    [Fact]
    public void Close_OfTheSetsFd_LeavesABlockedWaiterWaiting_ForItsEvent()
    {
        int set = NewSet();
        int fd = EventFd();
        Ctl(set, Linux.EPOLL_CTL_ADD, fd, EpollEvents.EPOLLIN, Data);
        Waiter waiter = StartBlockedWait("waiter", set, timeout: 5000);

        Forget(set);
        Assert.Equal(0, Epoll.Close(set));

        AssertStillWaiting(waiter, "after close of the set's fd");
        TestLibC.Signal(fd);
        AssertReturnsEvent(waiter, Data, "after the event on the closed set");
    }

    private Waiter[] StartBlockedWaiters(int set, int count)
    {
        var waiters = new Waiter[count];
        for (int i = 0; i < count; i++)
            waiters[i] = StartBlockedWait($"waiter {i}", set, timeout: 5000);
        return waiters;
    }

    private static string Describe(Waiter waiter) =>
        !waiter.HasReturned ? "still blocked"
        : waiter.Result == 1 ? $"data {waiter.Event(0).data:X} after {waiter.Elapsed.TotalMilliseconds:F0} ms"
        : $"{waiter.Result} (errno {waiter.Errno}) after {waiter.Elapsed.TotalMilliseconds:F0} ms";
}

/// <summary><see cref="WakeUpTests"/> on the kernel's epoll.</summary>
public sealed class WakeUpTests_Kernel() : WakeUpTests(new KernelEpoll());

/// <summary><see cref="WakeUpTests"/> on EpollGen sets on the kernel-epoll tap backend.</summary>
public sealed class WakeUpTests_Epoll() : WakeUpTests(new EpollGenEpoll(TapBackendKind.Epoll));

/// <summary><see cref="WakeUpTests"/> on EpollGen sets on the io_uring tap backend.</summary>
public sealed class WakeUpTests_IoUring() : WakeUpTests(new EpollGenEpoll(TapBackendKind.IoUring));
