using System;
using System.Threading;
using EpollGen.Events;
using EpollGen.Interop;
using EpollGen.Native.IoUring;
using EpollGen.Runtime.Tests.Native;
using EpollGen.Taps;
using Xunit;

namespace EpollGen.Runtime.Tests.Taps;

/// <summary>
/// A queue with a single waiting thread: the first wait's thread is the only one that may wait; on
/// io_uring its ring is that thread's, with the kernel's completion work deferred to its waits.
/// </summary>
public abstract class SingleWaitingThreadTests(TapBackendKind backend) : BackendTests(backend)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public void Taps_MadeAndFiredFromOtherThreads_ReachTheWaitingThread()
    {
        using var queue = SingleThreadQueue();
        int fd = Fds.EventFd();
        try
        {
            CeqId id = queue.Allocate(userData: 7);
            Assert.Equal(1, FdTaps.Submit([new TapRequest(fd, TapCommand.Add, TapFilters.FDTAP_FILT_READABLE, queue, id)], out _));
            Fds.Signal(fd);   // before the first wait, before the ring exists
            int first = 0, second = 0;
            var waiting = new ManualResetEventSlim();
            RunOnOneThread(() =>
            {
                var messages = new CeqMessage[4];
                first = queue.Wait(messages, Bound);
                Drain(fd);
                waiting.Set();
                second = queue.Wait(messages, Bound);
            }, () =>
            {
                Assert.True(waiting.Wait(Bound));
                Fds.Signal(fd);   // while the waiting thread waits, or is about to
            });
            Assert.Equal(1, first);
            Assert.Equal(1, second);
            if (Backend == TapBackendKind.IoUring)
                Assert.Equal(IoUringRing.DeferredTaskRunSupported, ((IoUringTapBackend)queue.Backend).DefersTaskRun);
        }
        finally
        {
            TestLibC.close(fd);
        }
    }

    [Fact]
    public void AWaitFromAnotherThread_IsRefused_AndTakesNothing()
    {
        using var queue = SingleThreadQueue();
        CeqId id = queue.Allocate();
        RunOnOneThread(() => Assert.Equal(0, queue.Wait(new CeqMessage[1], TimeSpan.Zero)), () => { });
        Assert.True(queue.Post(id, 0x3));

        Assert.Throws<InvalidOperationException>(() => queue.Wait(new CeqMessage[1], TimeSpan.Zero));
        Exception? refused = null;
        var other = new Thread(() => refused = Record.Exception(() => queue.Wait(new CeqMessage[1], TimeSpan.Zero)));
        other.Start();
        Assert.True(other.Join(Bound));

        Assert.IsType<InvalidOperationException>(refused);
        Assert.False(queue.Mailbox.IsEmpty);
    }

    [Fact]
    public void AsynchronousAndMultiQueueWaits_AreRefused()
    {
        using var queue = SingleThreadQueue();

        Assert.Throws<InvalidOperationException>(() => queue.WaitAsync(new CeqMessage[1], Bound));
        Assert.Throws<InvalidOperationException>(() => EventQueue.WaitAny([queue], new EventQueueMessage[1], TimeSpan.Zero));
    }

    [Fact]
    public void Dispose_FromAnotherThread_EndsTheWaitingThreadsWait()
    {
        var queue = SingleThreadQueue();
        var started = new ManualResetEventSlim();
        Exception? ended = null;
        var waiter = new Thread(() =>
        {
            started.Set();
            ended = Record.Exception(() => queue.Wait(new CeqMessage[1], Timeout.InfiniteTimeSpan));
        });
        waiter.Start();
        Assert.True(started.Wait(Bound));

        queue.Dispose();

        Assert.True(waiter.Join(Bound), "the waiting thread's wait did not end");
        Assert.IsType<ObjectDisposedException>(ended);
    }

    private EventQueue SingleThreadQueue()
    {
        var queue = new EventQueue(tapBackend: Backend, singleWaitingThread: true);
        Assert.Equal(Backend, queue.TapBackend);
        return queue;
    }

    // Runs body on a new thread while other runs on this one, and rethrows what body threw.
    private static void RunOnOneThread(Action body, Action other)
    {
        Exception? failure = null;
        var thread = new Thread(() => failure = Record.Exception(body));
        thread.Start();
        other();
        Assert.True(thread.Join(Bound), "the waiting thread did not finish");
        if (failure is not null)
            throw failure;
    }

    private static unsafe void Drain(int eventFd)
    {
        ulong value;
        TestLibC.read(eventFd, &value, 8);
    }
}

/// <summary><see cref="SingleWaitingThreadTests"/> on the kernel-epoll backend.</summary>
public sealed class SingleWaitingThreadTests_Epoll() : SingleWaitingThreadTests(TapBackendKind.Epoll);

/// <summary><see cref="SingleWaitingThreadTests"/> on the io_uring backend.</summary>
public sealed class SingleWaitingThreadTests_IoUring() : SingleWaitingThreadTests(TapBackendKind.IoUring);
