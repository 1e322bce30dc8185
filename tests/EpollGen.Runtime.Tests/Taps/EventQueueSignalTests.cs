using System;
using System.Diagnostics;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;
using EpollGen.Events;
using EpollGen.Taps;
using Xunit;
using static EpollGen.Runtime.Tests.Native.TestLibC;

namespace EpollGen.Runtime.Tests.Taps;

/// <summary>A signal that interrupts a blocked wait neither ends it early nor restarts its timeout.</summary>
[Collection(SignalCollection.Name)]
public abstract class EventQueueSignalTests(TapBackendKind backend) : BackendTests(backend)
{
    [Fact]
    public void Wait_InterruptedBySignal_ResumesWithTheTimeLeft()
    {
        // SIGURG is ignored by default, so a stray one is harmless; a registered handler makes the
        // kernel deliver it and interrupt epoll_wait or io_uring_enter, neither of which is restarted (signal(7)).
        using PosixSignalRegistration registration = PosixSignalRegistration.Create((PosixSignal)SIGURG, context => context.Cancel = true);
        using var queue = NewQueue();
        TimeSpan timeout = TimeSpan.FromMilliseconds(1000);
        int waiterTid = 0, taken = -1;
        long started = 0;
        TimeSpan elapsed = default;
        var waiter = new Thread(() =>
        {
            Volatile.Write(ref waiterTid, gettid());
            Volatile.Write(ref started, Stopwatch.GetTimestamp());
            taken = queue.Wait(new CeqMessage[1], timeout);
            elapsed = Stopwatch.GetElapsedTime(Volatile.Read(ref started));
        });
        waiter.Start();
        try
        {
            KernelWaits.UntilBlocked(ref waiterTid, TimeSpan.FromSeconds(5));
            // Interrupt half-way: restarting the full timeout would take 1.5 s in all.
            TimeSpan sinceStart = Stopwatch.GetElapsedTime(Volatile.Read(ref started));
            if (sinceStart < timeout / 2)
                Thread.Sleep(timeout / 2 - sinceStart);
            Assert.Equal(0, tgkill(getpid(), Volatile.Read(ref waiterTid), SIGURG));
        }
        finally
        {
            Assert.True(waiter.Join(TimeSpan.FromSeconds(5)), "the waiter did not return");
        }

        Assert.Equal(0, taken);
        Assert.True(queue.InterruptedWaits >= 1, "the kernel wait was never interrupted");
        Assert.InRange(elapsed, timeout, timeout + TimeSpan.FromMilliseconds(400));
    }

    [Fact]
    public void WaitAny_InterruptedBySignal_ResumesWithTheTimeLeft()
    {
        using PosixSignalRegistration registration = PosixSignalRegistration.Create((PosixSignal)SIGURG, context => context.Cancel = true);
        using EventQueue a = NewQueue();
        using EventQueue b = NewQueue();
        TimeSpan timeout = TimeSpan.FromMilliseconds(1000);
        int waiterTid = 0, taken = -1;
        long started = 0;
        TimeSpan elapsed = default;
        long interruptedBefore = EventQueue.InterruptedMultiQueueWaits;
        var waiter = new Thread(() =>
        {
            Volatile.Write(ref waiterTid, gettid());
            Volatile.Write(ref started, Stopwatch.GetTimestamp());
            taken = EventQueue.WaitAny([a, b], new EventQueueMessage[1], timeout);
            elapsed = Stopwatch.GetElapsedTime(Volatile.Read(ref started));
        });
        waiter.Start();
        try
        {
            KernelWaits.UntilBlocked(ref waiterTid, TimeSpan.FromSeconds(5));
            TimeSpan sinceStart = Stopwatch.GetElapsedTime(Volatile.Read(ref started));
            if (sinceStart < timeout / 2)
                Thread.Sleep(timeout / 2 - sinceStart);
            Assert.Equal(0, tgkill(getpid(), Volatile.Read(ref waiterTid), SIGURG));
        }
        finally
        {
            Assert.True(waiter.Join(TimeSpan.FromSeconds(5)), "the waiter did not return");
        }

        Assert.Equal(0, taken);
        // The multi-queue waiter sleeps in its own helper epoll instance, not in a queue's.
        Assert.True(EventQueue.InterruptedMultiQueueWaits > interruptedBefore, "the helper epoll_wait was never interrupted");
        Assert.Equal(0, a.InterruptedWaits + b.InterruptedWaits);
        Assert.InRange(elapsed, timeout, timeout + TimeSpan.FromMilliseconds(400));
    }

}

/// <summary><see cref="EventQueueSignalTests"/> on the kernel-epoll backend.</summary>
[Collection(SignalCollection.Name)]
public sealed class EventQueueSignalTests_Epoll() : EventQueueSignalTests(TapBackendKind.Epoll);

/// <summary><see cref="EventQueueSignalTests"/> on the io_uring backend.</summary>
[Collection(SignalCollection.Name)]
public sealed class EventQueueSignalTests_IoUring() : EventQueueSignalTests(TapBackendKind.IoUring);
