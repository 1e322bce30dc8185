using System;
using System.Threading;
using System.Threading.Tasks;
using EpollGen.Events;
using Xunit;

namespace EpollGen.Runtime.Tests.Taps;

/// <summary>Runs alone: the process-wide allocation counter must see only this test's work.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AllocationCollection
{
    public const string Name = "allocations";
}

/// <summary>Waits allocate nothing per wait once warm: pooled wait objects, native buffers.</summary>
[Collection(AllocationCollection.Name)]
public sealed class EventQueueAllocationTests
{
    private const int Waits = 5000;

    [Fact]
    public async Task AsyncWaitsThroughTheEngine_AllocateNothingPerWait()
    {
        using var queue = new EventQueue();
        CeqId id = queue.Allocate();
        var buffer = new CeqMessage[4];
        await Loop(queue, id, buffer, 500);

        long before = GC.GetTotalAllocatedBytes(precise: true);
        int viaEngine = await Loop(queue, id, buffer, Waits);
        long perWait = (GC.GetTotalAllocatedBytes(precise: true) - before) / Waits;

        Assert.True(viaEngine > Waits / 2, $"only {viaEngine} of {Waits} waits went through the engine");
        Assert.True(perWait < 8, $"{perWait} bytes allocated per asynchronous wait");
    }

    [Fact]
    public void SyncPostAndWait_AllocateNothing()
    {
        using var queue = new EventQueue();
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
