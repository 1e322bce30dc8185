using System;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using EpollGen.Events;
using EpollGen.Interop;
using EpollGen.Runtime.Tests.Native;
using EpollGen.Taps;
using Xunit;

namespace EpollGen.Runtime.Tests.Taps;

/// <summary>
/// The process's async engines: a few threads serve the asynchronous waits of every queue, however
/// many queues wait at once.
/// </summary>
[Collection(ManyFdsCollection.Name)]
public abstract class AsyncEngineTests(TapBackendKind backend) : BackendTests(backend)
{
    private const int Queues = 1000;

    // Other work of the test process may start a thread or two meanwhile (the thread pool).
    private const int Slack = 8;

    [Fact]
    public async Task AThousandQueuesWaitingAsynchronously_CostAFewThreads_AndAreAllServed()
    {
        var queues = new EventQueue[Queues];
        var fds = new int[Queues];
        var waits = new Task<int>[Queues];
        var messages = new CeqMessage[Queues][];
        try
        {
            for (int i = 0; i < Queues; i++)
            {
                queues[i] = NewQueue();
                fds[i] = Fds.EventFd();
                CeqId id = queues[i].Allocate(userData: (ulong)i);
                TapTests.Submit(new TapRequest(fds[i], TapCommand.Add, TapFilters.FDTAP_FILT_READABLE, queues[i], id));
                messages[i] = new CeqMessage[1];
            }
            int before = Threads();

            for (int i = 0; i < Queues; i++)
                waits[i] = queues[i].WaitAsync(messages[i], Timeout.InfiniteTimeSpan).AsTask();
            int during = Threads();
            Assert.True(during - before <= AsyncEngine.Count + Slack,
                $"{Queues} queues waiting asynchronously started {during - before} threads (engines: {AsyncEngine.Count})");
            Assert.DoesNotContain(waits, w => w.IsCompleted);

            foreach (int fd in fds)
                Fds.Signal(fd);
            int[] taken = await Task.WhenAll(waits).WaitAsync(TimeSpan.FromSeconds(20));
            Assert.All(taken, n => Assert.Equal(1, n));
            for (int i = 0; i < Queues; i++)
                Assert.Equal((ulong)i, messages[i][0].UserData);
        }
        finally
        {
            foreach (EventQueue? queue in queues)
                queue?.Dispose();
            foreach (int fd in fds.Where(fd => fd > 0))
                TestLibC.close(fd);
        }
    }

    [Fact]
    public async Task DisposingAQueueWithAWaitInFlight_FailsTheWait_AndTheEngineServesTheNextQueue()
    {
        EventQueue first = NewQueue();
        ValueTask<int> orphaned = first.WaitAsync(new CeqMessage[1], Timeout.InfiniteTimeSpan);
        first.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => orphaned.AsTask().WaitAsync(TimeSpan.FromSeconds(5)));

        using EventQueue second = NewQueue();
        int fd = Fds.EventFd();
        try
        {
            CeqId id = second.Allocate(userData: 7);
            TapTests.Submit(new TapRequest(fd, TapCommand.Add, TapFilters.FDTAP_FILT_READABLE, second, id));
            var buffer = new CeqMessage[1];
            ValueTask<int> wait = second.WaitAsync(buffer, Timeout.InfiniteTimeSpan);
            Fds.Signal(fd);
            Assert.Equal(1, await wait.AsTask().WaitAsync(TimeSpan.FromSeconds(5)));
            Assert.Equal(7UL, buffer[0].UserData);
        }
        finally
        {
            TestLibC.close(fd);
        }
    }

    private static int Threads() => Directory.GetDirectories("/proc/self/task").Length;
}

/// <summary><see cref="AsyncEngineTests"/> on the kernel-epoll backend.</summary>
[Collection(ManyFdsCollection.Name)]
public sealed class AsyncEngineTests_Epoll() : AsyncEngineTests(TapBackendKind.Epoll);

/// <summary><see cref="AsyncEngineTests"/> on the io_uring backend.</summary>
[Collection(ManyFdsCollection.Name)]
public sealed class AsyncEngineTests_IoUring() : AsyncEngineTests(TapBackendKind.IoUring);
