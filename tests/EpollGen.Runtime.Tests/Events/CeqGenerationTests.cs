using System;
using System.Diagnostics;
using System.Threading;
using EpollGen.Events;
using Xunit;

namespace EpollGen.Runtime.Tests.Events;

/// <summary>Freeing and reallocating ids: the generation keeps an old id's posts away from the slot's next user.</summary>
[Collection(CeqThreadedCollection.Name)]
public class CeqGenerationTests
{
    [Fact]
    public void Free_RefusesLaterPostsAndDropsUntakenBits()
    {
        using var queue = new CoalescingEventQueue();
        CeqId keep = queue.Allocate();
        CeqId id = queue.Allocate();
        queue.Post(id, 3);

        Assert.True(queue.Free(id));

        Assert.False(queue.Post(id, 4));
        Assert.False(queue.IsCurrent(id));
        Assert.Equal(1, queue.IdsInUse);
        Assert.Empty(CeqTesting.DrainQuiet(queue));
        Assert.True(queue.Post(keep, 1));
    }

    [Fact]
    public void Free_OfAnIdNotCurrent_ChangesNothing()
    {
        using var queue = new CoalescingEventQueue();
        CeqId id = queue.Allocate();
        Assert.True(queue.Free(id));
        CeqId next = queue.Allocate();

        Assert.False(queue.Free(id));
        Assert.False(queue.Free(new CeqId(40, 0)));

        Assert.True(queue.IsCurrent(next));
        Assert.Equal(1, queue.IdsInUse);
    }

    [Fact]
    public void ReallocatedSlot_GetsANewGenerationAndItsOwnUserData()
    {
        using var queue = new CoalescingEventQueue();
        CeqId old = queue.Allocate(userData: 1);
        queue.Free(old);

        CeqId next = queue.Allocate(userData: 2);

        Assert.Equal(old.Slot, next.Slot);
        Assert.NotEqual(old.Generation, next.Generation);
        Assert.False(queue.IsCurrent(old));
        Assert.True(queue.IsCurrent(next));
        Assert.False(queue.Post(old, 1));
        Assert.True(queue.Post(next, 2));
        CeqMessage message = Assert.Single(CeqTesting.DrainQuiet(queue));
        Assert.Equal(new CeqMessage(next, 2, 0, 2), message);
    }

    [Fact]
    public void BitsPostedBeforeAFree_NeverReachTheSlotsNextUser()
    {
        using var queue = new CoalescingEventQueue();
        CeqId old = queue.Allocate();
        queue.Post(old, 1, blob: 11);
        queue.Free(old);
        CeqId next = queue.Allocate();

        // The old id's ring entry is still queued; it must carry only what the new id posts.
        Assert.False(queue.IsEmpty);
        queue.Post(next, 2, blob: 22);

        CeqMessage message = Assert.Single(CeqTesting.DrainQuiet(queue));
        Assert.Equal(next, message.Id);
        Assert.Equal(2u, message.Bits);
    }

    [Fact]
    public void FreedIdStillInTheRing_YieldsNoMessage()
    {
        using var queue = new CoalescingEventQueue();
        CeqId id = queue.Allocate();
        queue.Post(id, 1);
        queue.Free(id);

        Assert.Empty(CeqTesting.DrainQuiet(queue));
    }

    /// <summary>
    /// A thread keeps posting a bit of its own to ids it was handed, while this thread frees each
    /// handed id and reallocates its slot. Ids of even generations are never handed out, so no
    /// message for them may carry the stale poster's bit, and they must carry exactly what was
    /// posted to them. Fewer cycles than generations (1024), so no generation repeats.
    /// </summary>
    /// <remarks>
    /// The race is made to happen rather than hoped for: in every 32nd pair of cycles, the handed-out
    /// id stays live until the poster has posted to it at least once, and the reallocated slot stays
    /// with its new (even) user until the poster has posted the stale id at least once more. The
    /// poster keeps posting throughout, so its posts still race the free and the reallocation
    /// themselves, and the other cycles run free. Without these hand-shakes the cycles could all run
    /// while the poster was not scheduled (on a loaded machine 1000 cycles take a fraction of a time
    /// slice), and the test failed with "the stale poster never reached a live id" although the
    /// queue was right. Not every cycle, and no yield per cycle: under load each costs a scheduling
    /// round trip, and a thousand of them took seconds.
    /// </remarks>
    [Fact]
    public void StalePosterRacingFreeAndReallocate_NeverReachesTheNewId()
    {
        const uint StaleBit = 1u << 31;
        const uint OwnBit = 1;
        const int Cycles = 1000;
        const int HandShakeEvery = 32;
        using var queue = new CoalescingEventQueue(CeqOperation.Or, ringSize: 4);
        queue.Allocate();
        long handed = -1;
        long postedWith = -1;
        long attempts = 0;
        int stop = 0;
        long stalePostsRefused = 0;
        long stalePostsAccepted = 0;

        void StalePoster()
        {
            while (Volatile.Read(ref stop) == 0)
            {
                long value = Volatile.Read(ref handed);
                if (value < 0)
                {
                    Thread.Yield();
                    continue;
                }
                if (queue.Post(new CeqId((uint)value), StaleBit))
                    stalePostsAccepted++;
                else
                    stalePostsRefused++;
                // Published after the post returned, for the cycler's hand-shakes; only this thread writes them.
                Volatile.Write(ref postedWith, value);
                Volatile.Write(ref attempts, attempts + 1);
            }
        }

        void Cycler()
        {
            var bound = Stopwatch.StartNew();
            try
            {
                for (int cycle = 0; cycle < Cycles; cycle++)
                {
                    CeqId id = queue.Allocate();
                    Assert.Equal((uint)cycle, id.Generation);
                    bool handedOut = cycle % 2 == 1;
                    bool handShake = cycle % HandShakeEvery < 2;
                    if (handedOut && handShake)
                    {
                        Volatile.Write(ref handed, id.Value);
                        // A post of this id returned before the free below: it reached a live id.
                        Assert.True(
                            SpinWait.SpinUntil(() => Volatile.Read(ref postedWith) == id.Value, CeqTesting.ThreadLimit),
                            $"cycle {cycle}: the stale poster never posted to its live id");
                    }
                    else if (handedOut)
                    {
                        Volatile.Write(ref handed, id.Value);
                    }
                    else
                    {
                        Assert.True(queue.Post(id, OwnBit));
                        if (handShake && cycle > 0)
                        {
                            // Two more attempts: at least one began after the reallocation, with the freed id.
                            long seen = Volatile.Read(ref attempts);
                            Assert.True(
                                SpinWait.SpinUntil(() => Volatile.Read(ref attempts) >= seen + 2, CeqTesting.ThreadLimit),
                                $"cycle {cycle}: the stale poster never posted against the reallocated slot");
                        }
                    }
                    int taken = 0;
                    while (queue.TryTake(out CeqMessage message))
                    {
                        Assert.NotEqual(0u, message.Bits);
                        if (message.Id.Generation % 2 == 0)
                            Assert.Equal(OwnBit, message.Bits);
                        else
                            Assert.Equal(StaleBit, message.Bits);
                        Assert.True(++taken < 1_000_000, "the drain did not end");
                    }
                    Assert.True(queue.Free(id));
                    Assert.True(bound.Elapsed < CeqTesting.ThreadLimit, "the cycles took too long");
                }
                foreach (CeqMessage message in CeqTesting.DrainQuiet(queue))
                    Assert.Equal(message.Id.Generation % 2 == 0 ? OwnBit : StaleBit, message.Bits);
            }
            finally
            {
                Volatile.Write(ref stop, 1);
            }
        }

        CeqTesting.RunThreads(StalePoster, Cycler);

        // At least each hand-shake's post reached a live id, or was refused by a reallocated slot.
        Assert.True(stalePostsAccepted >= Cycles / HandShakeEvery, $"only {stalePostsAccepted} stale posts reached a live id");
        Assert.True(stalePostsRefused >= Cycles / HandShakeEvery - 1, $"only {stalePostsRefused} stale posts were refused");
    }
}
