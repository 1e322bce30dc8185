using System;
using System.Linq;
using System.Threading;
using EpollGen.Interop;
using EpollGen.Runtime.Tests.Native;
using EpollGen.Taps;
using Xunit;

namespace EpollGen.Runtime.Tests.Concurrency;

/// <summary>
/// EPOLLEXCLUSIVE across sets: several sets tap one file exclusively, a thread blocked on each;
/// one wake-up of the file wakes one of them (Linux: at least one, typically exactly one, never
/// all), the others sleep on, and the set that woke reports the event.
/// </summary>
public abstract unsafe class ExclusiveWakeUpTests(EpollUnderTest epoll) : ConcurrencyTests(epoll)
{
    private const int Sets = 8;

    [Fact]
    public void OneWrite_ToAnEventFdEightSetsTapExclusively_WakesFewerThanEight() =>
        AssertOneWriteWakesFewerThanAll(useSocket: false);

    [Fact]
    public void OneWrite_ToASocketEightSetsTapExclusively_WakesFewerThanEight() =>
        AssertOneWriteWakesFewerThanAll(useSocket: true);

    private void AssertOneWriteWakesFewerThanAll(bool useSocket)
    {
        int fd, writer;
        if (useSocket)
            (fd, writer) = SocketPair();
        else
            fd = writer = EventFd();
        var sets = new int[Sets];
        var waiters = new Waiter[Sets];
        for (int i = 0; i < Sets; i++)
        {
            sets[i] = NewSet();
            Ctl(sets[i], Linux.EPOLL_CTL_ADD, fd, EpollEvents.EPOLLIN | EpollEvents.EPOLLEXCLUSIVE, (ulong)i);
        }
        for (int i = 0; i < Sets; i++)
            waiters[i] = StartBlockedWait($"waiter {i}", sets[i], timeout: 5000);

        if (useSocket)
            TestLibC.WriteByte(writer);
        else
            TestLibC.Signal(writer);

        int first = WaitHandle.WaitAny(waiters.Select(w => w.ReturnedHandle).ToArray(), Bound);
        Assert.True(first != WaitHandle.WaitTimeout, $"no waiter returned within {Bound} on {Epoll}");
        // What a herd would take to arrive: the others' wake-ups are as quick as the first's.
        Thread.Sleep(200);
        Waiter[] woken = [.. waiters.Where(w => w.HasReturned)];
        Assert.True(woken.Length < Sets, $"all {Sets} waiters returned for one write on {Epoll}: {Describe(waiters)}");
        for (int i = 0; i < Sets; i++)
        {
            if (waiters[i].HasReturned)
            {
                Assert.True(waiters[i].Result == 1 && waiters[i].Event(0).data == (ulong)i,
                    $"woken waiter {i} returned {Describe(waiters[i])} on {Epoll}");
            }
            else
            {
                waiters[i].UntilBlocked(Bound);
            }
        }

        // The others were asleep, not lost: each one's release fd still reaches it.
        foreach (int i in Enumerable.Range(0, Sets).Where(i => !waiters[i].HasReturned))
        {
            Release(sets[i]);
            AssertReturnsEvent(waiters[i], ReleaseData, $"waiter {i}, released after {woken.Length} of {Sets} woke");
        }
    }

    // Linux counts an exclusive wake-up as taken only by a set that has waiters (ep_poll_callback);
    // the others on the way queue the event and let the wake-up go on. Either way no set loses it:
    // the set with no waiter reports it at its next wait.
    [Fact]
    public void OneWrite_WhileTheFirstExclusiveSetHasNoWaiter_IsReportedByThatSetsNextWait() =>
        Assert.Equal(1, WriteWhileTheFirstSetHasNoWaiter(out _));

    /// <summary>
    /// Eight sets tap one eventfd exclusively, in order, and seven of them (all but the first) have
    /// a blocked waiter; one write. Returns what a zero-timeout wait on the first set then returns,
    /// with <paramref name="wokenOthers"/> the number of the seven waiters that returned the event.
    /// </summary>
    protected int WriteWhileTheFirstSetHasNoWaiter(out int wokenOthers)
    {
        int fd = EventFd();
        var sets = new int[Sets];
        var waiters = new Waiter[Sets];
        for (int i = 0; i < Sets; i++)
        {
            sets[i] = NewSet();
            Ctl(sets[i], Linux.EPOLL_CTL_ADD, fd, EpollEvents.EPOLLIN | EpollEvents.EPOLLEXCLUSIVE, (ulong)i);
        }
        for (int i = 1; i < Sets; i++)
            waiters[i] = StartBlockedWait($"waiter {i}", sets[i], timeout: 5000);
        Waiter[] blocked = waiters[1..];

        TestLibC.Signal(fd);

        WaitHandle.WaitAny(blocked.Select(w => w.ReturnedHandle).ToArray(), TimeSpan.FromMilliseconds(500));
        Thread.Sleep(200);
        wokenOthers = blocked.Count(w => w.HasReturned && w.Result == 1 && w.Event(0).data != ReleaseData);
        byte* ev = stackalloc byte[EpollEvent.NativeSize];
        int first = Epoll.Wait(sets[0], ev, 1, 0);
        Assert.True(first <= 0 || EpollEvent.ReadNative(ev, 0).data == 0, $"the first set reported {EpollEvent.ReadNative(ev, 0).data:X}");
        return first;
    }

    private static string Describe(Waiter[] waiters) => string.Join(", ", waiters.Select(Describe));

    private static string Describe(Waiter waiter) =>
        !waiter.HasReturned ? "still blocked"
        : waiter.Result == 1 ? $"data {waiter.Event(0).data:X} after {waiter.Elapsed.TotalMilliseconds:F0} ms"
        : $"{waiter.Result} (errno {waiter.Errno}) after {waiter.Elapsed.TotalMilliseconds:F0} ms";
}

/// <summary><see cref="ExclusiveWakeUpTests"/> on the kernel's epoll.</summary>
public sealed class ExclusiveWakeUpTests_Kernel() : ExclusiveWakeUpTests(new KernelEpoll())
{
    [Fact]
    public void OneWrite_WhileTheFirstExclusiveSetHasNoWaiter_WakesAnotherSetsWaiter()
    {
        WriteWhileTheFirstSetHasNoWaiter(out int woken);
        Assert.Equal(1, woken);
    }
}

/// <summary><see cref="ExclusiveWakeUpTests"/> on EpollGen sets on the kernel-epoll tap backend.</summary>
public sealed class ExclusiveWakeUpTests_Epoll() : ExclusiveWakeUpTests(new EpollGenEpoll(TapBackendKind.Epoll))
{
    [Fact]
    public void OneWrite_WhileTheFirstExclusiveSetHasNoWaiter_WakesAnotherSetsWaiter()
    {
        WriteWhileTheFirstSetHasNoWaiter(out int woken);
        Assert.Equal(1, woken);
    }
}

/// <summary><see cref="ExclusiveWakeUpTests"/> on EpollGen sets on the io_uring tap backend.</summary>
public sealed class ExclusiveWakeUpTests_IoUring() : ExclusiveWakeUpTests(new EpollGenEpoll(TapBackendKind.IoUring))
{
    // The documented divergence: an exclusive io_uring poll takes every wake-up that reaches it,
    // whether or not anyone waits on its ring (io_uring/poll.c, io_poll_wake returns 1), so the
    // first set's poll takes it and the blocked waiters of the others sleep on. Not lost: the
    // first set reports it at its next wait (the test above).
    [Fact]
    public void OneWrite_WhileTheFirstExclusiveSetHasNoWaiter_WakesNoOtherSet_TheRingTakesIt()
    {
        WriteWhileTheFirstSetHasNoWaiter(out int woken);
        Assert.Equal(0, woken);
    }
}
