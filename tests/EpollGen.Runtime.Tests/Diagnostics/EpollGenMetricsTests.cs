using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Diagnostics.Metrics;
using System.Threading;
using EpollGen.Diagnostics;
using EpollGen.Events;
using EpollGen.Interop;
using EpollGen.Runtime.Tests.Native;
using EpollGen.Runtime.Tests.Taps;
using EpollGen.Taps;
using Xunit;

namespace EpollGen.Runtime.Tests.Diagnostics;

public sealed class EpollGenMetricsTests
{
    [Fact]
    public void CeqCounters_ReachAListenerOfTheEpollGenMeter()
    {
        // Other tests post concurrently; count only this queue's work by running it alone on the
        // listener's thread and summing per instrument what this test caused.
        var totals = new ConcurrentDictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == EpollGenMetrics.MeterName)
                l.EnableMeasurementEvents(instrument);
        };
        int testThread = Environment.CurrentManagedThreadId;
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            // No lambda captures `value`: its closure would be allocated on entry, on every
            // thread that posts while this listens, and break other tests' "allocates nothing".
            if (Environment.CurrentManagedThreadId == testThread)
                totals.AddOrUpdate(instrument.Name, static (_, v) => v, static (_, sum, v) => sum + v, value);
        });
        listener.Start();

        using var queue = new CoalescingEventQueue(ringSize: 2);
        CeqId[] ids = Enumerable.Range(0, 4).Select(_ => queue.Allocate()).ToArray();
        foreach (CeqId id in ids)
            queue.Post(id, 1);
        queue.Post(ids[0], 2);
        while (queue.TryTake(out _))
        {
        }

        Assert.Equal(5, totals.GetValueOrDefault("epollgen.ceq.posts"));
        Assert.Equal(1, totals.GetValueOrDefault("epollgen.ceq.coalesced_posts"));
        Assert.Equal(2, totals.GetValueOrDefault("epollgen.ceq.overflows"));
        Assert.Equal(1, totals.GetValueOrDefault("epollgen.ceq.recovery_scans"));
        Assert.True(queue.IsEmpty);
    }

    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);

    [Fact]
    public void Wakeups_APostToASleepingKernelWaiterCountsOnce_APostNobodyWaitsForNever()
    {
        using var counts = new WakeupCounts();
        using var queue = new EventQueue();
        CeqId id = queue.Allocate();
        queue.Post(id, 1);
        Assert.Equal(0, counts.On(Environment.CurrentManagedThreadId));
        Assert.Equal(1, queue.Wait(new CeqMessage[1], TimeSpan.Zero));

        int waiterThread = RunBlocked(
            () => Assert.Equal(1, queue.Wait(new CeqMessage[1], Bound)),
            () => Assert.True(queue.Post(id, 2)));

        Assert.Equal(1, counts.On(Environment.CurrentManagedThreadId));
        // The post ended the kernel wait through the wake eventfd, not a tap.
        Assert.Equal(0, counts.On(waiterThread));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Wakeups_ATapThatEndsABlockedKernelWaitCountsOnce_OnTheWaitingThread(bool waitAny)
    {
        using var counts = new WakeupCounts();
        using var queue = new EventQueue();
        using var other = new EventQueue();
        int fd = TestLibC.EventFd();
        try
        {
            CeqId id = queue.Allocate();
            TapTests.Submit(new TapRequest(fd, TapCommand.Add, TapFilters.FDTAP_FILT_READABLE, queue, id));

            int waiterThread = RunBlocked(
                () => Assert.Equal(1, waitAny
                    ? EventQueue.WaitAny([other, queue], new EventQueueMessage[1], Bound)
                    : queue.Wait(new CeqMessage[1], Bound)),
                () => TestLibC.Signal(fd));

            Assert.Equal(1, counts.On(waiterThread));
            Assert.Equal(0, counts.On(Environment.CurrentManagedThreadId));
        }
        finally
        {
            TestLibC.close(fd);
        }
    }

    // Runs `wait` on a thread of its own, and `act` here once that thread sleeps in epoll_wait;
    // returns the waiting thread's managed id.
    private static int RunBlocked(Action wait, Action act)
    {
        int tid = 0, managed = 0;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            Volatile.Write(ref managed, Environment.CurrentManagedThreadId);
            Volatile.Write(ref tid, TestLibC.gettid());
            try
            {
                wait();
            }
            catch (Exception e)
            {
                failure = e;
            }
        }) { IsBackground = true };
        thread.Start();
        KernelWaits.UntilBlocked(ref tid, Bound);
        act();
        Assert.True(thread.Join(Bound), "the waiter was not woken");
        Assert.Null(failure);
        return Volatile.Read(ref managed);
    }

    // Sums epollgen.queue.wakeups per thread: other tests post on their own threads meanwhile. The
    // callback runs on those threads too, and allocates nothing there, so the tests that assert
    // "no allocation per wait" on their own thread are not disturbed by this listener.
    private sealed class WakeupCounts : IDisposable
    {
        private readonly long[] _byThread = new long[1 << 16];
        private readonly MeterListener _listener = new();

        public WakeupCounts()
        {
            _listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == EpollGenMetrics.MeterName && instrument.Name == "epollgen.queue.wakeups")
                    l.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((_, value, _, _) =>
            {
                int thread = Environment.CurrentManagedThreadId;
                if (thread < _byThread.Length)
                    Interlocked.Add(ref _byThread[thread], value);
            });
            _listener.Start();
        }

        public long On(int managedThreadId)
        {
            Assert.InRange(managedThreadId, 0, _byThread.Length - 1);
            return Interlocked.Read(ref _byThread[managedThreadId]);
        }

        public void Dispose() => _listener.Dispose();
    }
}
