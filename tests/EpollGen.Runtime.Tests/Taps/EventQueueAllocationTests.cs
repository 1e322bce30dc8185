using System;
using System.Threading;
using System.Threading.Tasks;
using EpollGen.Events;
using EpollGen.Runtime.Tests.Native;
using EpollGen.Interop;
using EpollGen.Taps;
using Xunit;

namespace EpollGen.Runtime.Tests.Taps;

/// <summary>Waits allocate nothing per wait once warm: pooled wait objects, native buffers.</summary>
public abstract class EventQueueAllocationTests(TapBackendKind backend) : BackendTests(backend)
{
    private const int Waits = 5000;

    [Fact]
    public async Task AsyncWaitsThroughTheEngine_ReuseOneWaitObject()
    {
        using var queue = NewQueue();
        CeqId id = queue.Allocate();
        var buffer = new CeqMessage[4];
        await Loop(queue, id, buffer, 100);
        int created = queue.AsyncWaitersCreated;

        int viaEngine = await Loop(queue, id, buffer, Waits);

        Assert.True(viaEngine > Waits / 2, $"only {viaEngine} of {Waits} waits went through the engine");
        // One wait at a time: the pool hands the same object back every time. (The process-wide
        // allocation counter also sees the test runner's own threads, so bytes are not asserted.)
        Assert.Equal(1, created);
        Assert.Equal(created, queue.AsyncWaitersCreated);
    }

    [Fact]
    public void SyncPostAndWait_AllocateNothing()
    {
        using var queue = NewQueue();
        CeqId id = queue.Allocate();
        var buffer = new CeqMessage[4];
        queue.Post(id, 1);
        queue.Wait(buffer, TimeSpan.Zero);

        int taken = 0;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Waits; i++)
        {
            queue.Post(id, 1);
            taken += queue.Wait(buffer, TimeSpan.Zero);
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(Waits, taken);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public unsafe void TapWakeUpsThroughTheKernel_AllocateNothing()
    {
        using var queue = NewQueue();
        int fd = Fds.EventFd();
        try
        {
            CeqId id = queue.Allocate();
            TapTests.Submit(new TapRequest(fd, TapCommand.Add, TapFilters.FDTAP_FILT_READABLE, queue, id));
            var buffer = new CeqMessage[4];
            ulong one = 1;
            TimeSpan bound = TimeSpan.FromSeconds(5);
            // Warm-up: the backend's first waits arm the tap and settle who owns which poll.
            for (int i = 0; i < 100; i++)
            {
                TestLibC.write(fd, &one, 8);
                queue.Wait(buffer, bound);
                TestLibC.Drain(fd);
            }

            // Unoptimized (Debug) builds of the generated flag maps allocate their lookup table on
            // each call; optimized builds allocate nothing. Each wait makes exactly one translation
            // (kernel readiness to tap filters), so that much is allowed and nothing more.
            long translation = GC.GetAllocatedBytesForCurrentThread();
            uint sink = Backend == TapBackendKind.Epoll
                ? (uint)EpollTapMap.ToTarget(EpollEvents.EPOLLIN)
                : (uint)TapPollMap.ToSource(PollEvents.POLLIN);
            translation = GC.GetAllocatedBytesForCurrentThread() - translation;
            Assert.Equal((uint)TapFilters.FDTAP_FILT_READABLE, sink);

            int taken = 0;
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < Waits; i++)
            {
                // Each wait finds the mailbox empty and collects the tap's edge from the kernel.
                TestLibC.write(fd, &one, 8);
                taken += queue.Wait(buffer, bound);
                TestLibC.Drain(fd);
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

            Assert.Equal(Waits, taken);
            Assert.Equal(Waits * translation, allocated);
        }
        finally
        {
            TestLibC.close(fd);
        }
    }

    // Each wait is pending when the post arrives, so the engine completes it.
    private static async Task<int> Loop(EventQueue queue, CeqId id, CeqMessage[] buffer, int count)
    {
        int viaEngine = 0;
        for (int i = 0; i < count; i++)
        {
            ValueTask<int> wait = queue.WaitAsync(buffer, Timeout.InfiniteTimeSpan);
            if (!wait.IsCompleted)
                viaEngine++;
            queue.Post(id, 1);
            await wait;
        }
        return viaEngine;
    }
}

/// <summary><see cref="EventQueueAllocationTests"/> on the kernel-epoll backend.</summary>
public sealed class EventQueueAllocationTests_Epoll() : EventQueueAllocationTests(TapBackendKind.Epoll);

/// <summary><see cref="EventQueueAllocationTests"/> on the io_uring backend.</summary>
public sealed class EventQueueAllocationTests_IoUring() : EventQueueAllocationTests(TapBackendKind.IoUring);
