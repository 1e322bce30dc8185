using System;
using System.Runtime.InteropServices;
using System.Threading;
using EpollGen.Interop;
using EpollGen.Runtime.Tests.Native;
using EpollGen.Taps;
using Xunit;

namespace EpollGen.Runtime.Tests.Concurrency;

/// <summary>
/// A level-triggered item that is ready is seen by every wait that starts while it is ready,
/// however many threads poll the set at once (Linux: the harvester puts the item back before it
/// lets go of the ready list; the 2025 selftest epoll65 asserts it for 64 zero-timeout pollers).
/// </summary>
public abstract unsafe class LevelTriggeredPollerTests(EpollUnderTest epoll) : ConcurrencyTests(epoll)
{
    private const ulong Data = 0x1E7;

    [Theory]
    [InlineData(2, 20_000)]
    [InlineData(64, 500)]
    public void ZeroTimeoutPollers_OfAnAlwaysReadableItem_NeverGetZero(int threads, int callsEach) =>
        AssertNoPollerMisses(threads, callsEach, timeout: 0);

    // A positive timeout that starts while the item is ready must not sleep to its deadline and
    // end with nothing: the item was there when it started.
    [Theory]
    [InlineData(2, 5_000)]
    [InlineData(64, 100)]
    public void PositiveTimeoutWaits_StartedWhileReady_NeverGetZero(int threads, int callsEach) =>
        AssertNoPollerMisses(threads, callsEach, timeout: 10);

    private void AssertNoPollerMisses(int threads, int callsEach, int timeout)
    {
        int set = NewSet();
        int fd = EventFd();
        TestLibC.Signal(fd);   // never read: readable for the whole test
        Ctl(set, Linux.EPOLL_CTL_ADD, fd, EpollEvents.EPOLLIN, Data);

        int zeros = 0, failures = 0, wrong = 0, lastErrno = 0;
        using var start = new Barrier(threads);
        var pollers = new Thread[threads];
        for (int t = 0; t < threads; t++)
        {
            pollers[t] = new Thread(() =>
            {
                byte* ev = stackalloc byte[EpollEvent.NativeSize];
                start.SignalAndWait(Bound);
                for (int i = 0; i < callsEach; i++)
                {
                    int n = Epoll.Wait(set, ev, 1, timeout);
                    if (n == 0)
                        Interlocked.Increment(ref zeros);
                    else if (n < 0)
                    {
                        Volatile.Write(ref lastErrno, Marshal.GetLastPInvokeError());
                        Interlocked.Increment(ref failures);
                    }
                    else if (EpollEvent.ReadNative(ev, 0) is { data: not Data } or { events: not (uint)EpollEvents.EPOLLIN })
                        Interlocked.Increment(ref wrong);
                }
            })
            { IsBackground = true, Name = $"poller {t}" };
            pollers[t].Start();
        }
        TimeSpan limit = TimeSpan.FromSeconds(20);
        foreach (Thread poller in pollers)
            Assert.True(poller.Join(limit), $"a poller did not finish {callsEach} calls within {limit}");

        int calls = threads * callsEach;
        Assert.True(zeros == 0 && failures == 0 && wrong == 0,
            $"{threads} threads, {calls} calls with timeout {timeout} on {Epoll}: {zeros} returned 0 ({100.0 * zeros / calls:F1} %), "
            + $"{failures} failed (last errno {lastErrno}), {wrong} reported another item or mask");
    }
}

/// <summary><see cref="LevelTriggeredPollerTests"/> on the kernel's epoll.</summary>
public sealed class LevelTriggeredPollerTests_Kernel() : LevelTriggeredPollerTests(new KernelEpoll());

/// <summary><see cref="LevelTriggeredPollerTests"/> on EpollGen sets on the kernel-epoll tap backend.</summary>
public sealed class LevelTriggeredPollerTests_Epoll() : LevelTriggeredPollerTests(new EpollGenEpoll(TapBackendKind.Epoll));

/// <summary><see cref="LevelTriggeredPollerTests"/> on EpollGen sets on the io_uring tap backend.</summary>
public sealed class LevelTriggeredPollerTests_IoUring() : LevelTriggeredPollerTests(new EpollGenEpoll(TapBackendKind.IoUring));
