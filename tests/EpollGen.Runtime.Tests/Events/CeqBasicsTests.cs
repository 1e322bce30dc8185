using System;
using System.Collections.Generic;
using System.Linq;
using EpollGen.Events;
using Xunit;

namespace EpollGen.Runtime.Tests.Events;

/// <summary>Single-threaded behaviour of one queue: round trips, coalescing, emptiness and batches.</summary>
public class CeqBasicsTests
{
    [Fact]
    public void PostThenTake_ReturnsIdBitsBlobAndUserData()
    {
        using var queue = new CoalescingEventQueue();
        queue.Allocate(userData: 7);
        CeqId id = queue.Allocate(userData: 0xDEAD_BEEF_0000_0001UL);

        Assert.True(queue.Post(id, 0x41, blob: 0x1234_5678_9ABC_DEF0UL));

        Assert.True(queue.TryTake(out CeqMessage message));
        Assert.Equal(new CeqMessage(id, 0x41, 0x1234_5678_9ABC_DEF0UL, 0xDEAD_BEEF_0000_0001UL), message);
        Assert.False(queue.TryTake(out _));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void RingLaps_CellsOfAnEarlierLapAreNeverTakenAgain(int perTake)
    {
        // Ring cells are not cleared when taken; the lap in each entry is what tells a consumer a
        // cell it reaches was written for its position. A consumer that trusted an earlier lap's
        // entry would take it twice, or claim past the producers and lose the next post.
        var queue = new CoalescingEventQueue(CeqOperation.Add, ringSize: 2);
        CeqId[] ids = [queue.Allocate(), queue.Allocate(), queue.Allocate()];
        var buffer = new CeqMessage[4];
        // On a thread of its own with a bound: a consumer that ran past the producers spins. The
        // queue is freed only once that thread is known to have finished.
        CeqTesting.RunThreads([() => Rounds(queue, ids, buffer, perTake)]);
        Assert.Equal(0, queue.Overflows);
        queue.Dispose();
    }

    private static void Rounds(CoalescingEventQueue queue, CeqId[] ids, CeqMessage[] buffer, int perTake)
    {
        for (int round = 0; round < 12; round++)
        {
            CeqId[] posted = [.. Enumerable.Range(0, perTake).Select(i => ids[(round + i) % ids.Length])];
            foreach (CeqId id in posted)
                Assert.True(queue.Post(id, (uint)round + 1));

            int taken = queue.TryTake(buffer);
            Assert.Equal(posted, buffer[..taken].Select(m => m.Id));
            Assert.All(buffer[..taken], m => Assert.Equal((uint)round + 1, m.Bits));
            Assert.False(queue.TryTake(out _), $"round {round}: an earlier lap's entry was taken again");
            Assert.True(queue.IsEmpty);
        }
    }

    [Fact]
    public void SeveralOrPosts_CoalesceIntoOneMessageWithTheUnion()
    {
        using var queue = new CoalescingEventQueue(CeqOperation.Or);
        CeqId id = queue.Allocate();

        Assert.True(queue.Post(id, 0b0001, blob: 1));
        Assert.True(queue.Post(id, 0b0100, blob: 2));
        Assert.True(queue.Post(id, 0b0101, blob: 3));
        Assert.True(queue.Post(id, 1u << 31, blob: 4));

        CeqMessage message = Assert.Single(CeqTesting.DrainQuiet(queue));
        Assert.Equal(id, message.Id);
        Assert.Equal(0b0101u | 1u << 31, message.Bits);
        Assert.Equal(4UL, message.Blob);
    }

    [Fact]
    public void SeveralAddPosts_CoalesceIntoTheirSum()
    {
        using var queue = new CoalescingEventQueue(CeqOperation.Add);
        CeqId id = queue.Allocate();

        for (uint value = 1; value <= 100; value++)
            Assert.True(queue.Post(id, value));

        CeqMessage message = Assert.Single(CeqTesting.DrainQuiet(queue));
        Assert.Equal(5050u, message.Bits);
    }

    [Fact]
    public void AddPosts_WrapAt32Bits()
    {
        using var queue = new CoalescingEventQueue(CeqOperation.Add);
        CeqId id = queue.Allocate();

        Assert.True(queue.Post(id, 0xFFFF_FFF0));
        Assert.True(queue.Post(id, 0x13));

        CeqMessage message = Assert.Single(CeqTesting.DrainQuiet(queue));
        Assert.Equal(id, message.Id);
        Assert.Equal(3u, message.Bits);
    }

    [Theory]
    [InlineData(CeqOperation.Or)]
    [InlineData(CeqOperation.Add)]
    public void ZeroBitPost_ProducesNoMessage(CeqOperation operation)
    {
        using var queue = new CoalescingEventQueue(operation);
        CeqId id = queue.Allocate();

        Assert.True(queue.Post(id, 0, blob: 9));

        Assert.True(queue.IsEmpty);
        Assert.Empty(CeqTesting.DrainQuiet(queue));
    }

    [Fact]
    public void ZeroBitPostAfterTake_DoesNotResurrectTheId()
    {
        using var queue = new CoalescingEventQueue();
        CeqId id = queue.Allocate();
        Assert.True(queue.Post(id, 1));
        Assert.Single(CeqTesting.DrainQuiet(queue));

        Assert.True(queue.Post(id, 0));

        Assert.Empty(CeqTesting.DrainQuiet(queue));
    }

    [Fact]
    public void IsEmpty_FollowsPostsAndTakes()
    {
        using var queue = new CoalescingEventQueue();
        CeqId a = queue.Allocate();
        CeqId b = queue.Allocate();
        Assert.True(queue.IsEmpty);

        queue.Post(a, 1);
        Assert.False(queue.IsEmpty);
        queue.Post(a, 2);
        queue.Post(b, 4);
        Assert.False(queue.IsEmpty);

        Assert.True(queue.TryTake(out _));
        Assert.False(queue.IsEmpty);
        Assert.True(queue.TryTake(out _));
        Assert.True(queue.IsEmpty);

        queue.Post(b, 8);
        Assert.False(queue.IsEmpty);
        Assert.True(queue.TryTake(out CeqMessage again));
        Assert.Equal(new CeqMessage(b, 8, 0, 0), again);
        Assert.True(queue.IsEmpty);
    }

    [Fact]
    public void PostAfterTake_QueuesTheIdAgain()
    {
        using var queue = new CoalescingEventQueue();
        CeqId id = queue.Allocate();

        for (uint round = 1; round <= 5; round++)
        {
            queue.Post(id, round);
            CeqMessage message = Assert.Single(CeqTesting.DrainQuiet(queue));
            Assert.Equal(round, message.Bits);
        }
    }

    [Fact]
    public void TryTakeIntoSpan_TakesUpToItsLength()
    {
        using var queue = new CoalescingEventQueue(CeqOperation.Or, ringSize: 16);
        CeqId[] ids = Enumerable.Range(0, 10).Select(i => queue.Allocate((ulong)i)).ToArray();
        for (int i = 0; i < ids.Length; i++)
            queue.Post(ids[i], 1u << i);

        var first = new CeqMessage[4];
        Assert.Equal(4, queue.TryTake(first));
        var rest = new CeqMessage[16];
        Assert.Equal(6, queue.TryTake(rest));
        Assert.Equal(0, queue.TryTake(new CeqMessage[4]));
        Assert.Equal(0, queue.TryTake(Span<CeqMessage>.Empty));

        var seen = new Dictionary<CeqId, CeqMessage>();
        foreach (CeqMessage message in first.Concat(rest.Take(6)))
            seen.Add(message.Id, message);
        for (int i = 0; i < ids.Length; i++)
        {
            Assert.Equal(1u << i, seen[ids[i]].Bits);
            Assert.Equal((ulong)i, seen[ids[i]].UserData);
        }
        Assert.True(queue.IsEmpty);
    }

    [Fact]
    public void PostToAnIdNeverAllocated_IsRefused()
    {
        using var queue = new CoalescingEventQueue();
        queue.Allocate();

        Assert.False(queue.Post(new CeqId(5, 0), 1));
        Assert.False(queue.Post(new CeqId(0, 1), 1));

        Assert.True(queue.IsEmpty);
        Assert.Empty(CeqTesting.DrainQuiet(queue));
    }
}
