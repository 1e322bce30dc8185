using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using EpollGen.Events;
using Xunit;

namespace EpollGen.Runtime.Tests.Events;

/// <summary>
/// A ring too small for the ids that wait: overflow, the recovery scan, and the stale ring entries
/// both leave behind (akaros-notes §7.2 #4 and #10).
/// </summary>
[Collection(CeqThreadedCollection.Name)]
public class CeqOverflowTests
{
    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void TinyRingWithManyIds_DeliversEachIdOnceWithItsBits(int ringSize)
    {
        const int Count = 300;
        using var queue = new CoalescingEventQueue(CeqOperation.Or, ringSize);
        CeqId[] ids = Enumerable.Range(0, Count).Select(i => queue.Allocate((ulong)i)).ToArray();
        for (int i = 0; i < Count; i++)
        {
            queue.Post(ids[i], BitsOf(i) & 0xFFFF);
            queue.Post(ids[i], BitsOf(i) & 0xFFFF_0000);
        }

        Assert.True(queue.Overflows > 0);
        List<CeqMessage> messages = CeqTesting.DrainQuiet(queue);

        Assert.True(queue.RecoveryScans > 0);
        Assert.Equal(Count, messages.Count);
        Assert.Equal(Count, messages.Select(m => m.Id).Distinct().Count());
        foreach (CeqMessage message in messages)
        {
            Assert.Equal(ids[message.Id.Slot], message.Id);
            Assert.Equal(BitsOf(message.Id.Slot), message.Bits);
            Assert.Equal((ulong)message.Id.Slot, message.UserData);
        }
    }

    [Fact]
    public void IsEmpty_StaysFalseWhileARecoveryScanIsDue()
    {
        using var queue = new CoalescingEventQueue(CeqOperation.Or, ringSize: 2);
        CeqId[] ids = Enumerable.Range(0, 4).Select(_ => queue.Allocate()).ToArray();
        foreach (CeqId id in ids)
            queue.Post(id, 1);
        Assert.True(queue.Overflows > 0);

        // The ring's two ids; the other two wait for a scan, so the queue is not empty.
        Assert.True(queue.TryTake(out _));
        Assert.True(queue.TryTake(out _));
        Assert.False(queue.IsEmpty);
        Assert.Equal(0, queue.RecoveryScans);

        // The scan stops at its first find and resumes later: still not empty in between.
        Assert.True(queue.TryTake(out CeqMessage third));
        Assert.Equal(1, queue.RecoveryScans);
        Assert.False(queue.IsEmpty);
        Assert.True(queue.TryTake(out CeqMessage fourth));
        Assert.Equal(new[] { ids[2], ids[3] }, new[] { third.Id, fourth.Id }.OrderBy(i => i.Slot));

        Assert.False(queue.TryTake(out _));
        Assert.True(queue.IsEmpty);
    }

    /// <summary>
    /// Drains the way the class remarks tell callers to: a false TryTake is final only when IsEmpty
    /// agrees. (A scan that ends returns false even when a post behind it raised the overflow flag
    /// again; the next take starts a new scan.)
    /// </summary>
    [Fact]
    public void PostsDuringARecoveryScan_AreAllFoundByACallerThatChecksIsEmpty()
    {
        using var queue = new CoalescingEventQueue(CeqOperation.Add, ringSize: 2);
        CeqId[] ids = Enumerable.Range(0, 8).Select(_ => queue.Allocate()).ToArray();
        foreach (CeqId id in ids)
            queue.Post(id, 1);
        var totals = new uint[ids.Length];
        for (int i = 0; i < 3; i++)
        {
            Assert.True(queue.TryTake(out CeqMessage message));
            totals[message.Id.Slot] += message.Bits;
        }
        Assert.Equal(1, queue.RecoveryScans);

        // Slots behind the scan (already taken) and ahead of it, some into the ring, some overflowing.
        foreach (int slot in new[] { 0, 1, 2, 7, 6, 0 })
            queue.Post(ids[slot], 10);

        var bound = Stopwatch.StartNew();
        while (!queue.IsEmpty)
        {
            while (queue.TryTake(out CeqMessage message))
            {
                Assert.NotEqual(0u, message.Bits);
                totals[message.Id.Slot] += message.Bits;
            }
            Assert.True(bound.Elapsed < CeqTesting.ThreadLimit, "the drain did not end");
        }
        Assert.False(queue.TryTake(out _));
        Assert.Equal(new uint[] { 21, 11, 11, 1, 1, 1, 11, 11 }, totals);
    }

    /// <summary>Stale entries at the ring's head (ids freed after they were queued) must not end a drain.</summary>
    [Fact]
    public void StaleRingEntriesAheadOfLiveOnes_DoNotEndTheDrain()
    {
        using var queue = new CoalescingEventQueue(CeqOperation.Or, ringSize: 4);
        CeqId a = queue.Allocate();
        CeqId b = queue.Allocate();
        CeqId[] live = Enumerable.Range(0, 5).Select(_ => queue.Allocate()).ToArray();
        queue.Post(a, 1);
        queue.Post(b, 1);
        queue.Free(a);
        queue.Free(b);
        foreach (CeqId id in live)
            queue.Post(id, 2);
        Assert.True(queue.Overflows > 0);

        // The first take walks past both stale entries; the last ids come from the scan.
        Assert.True(queue.TryTake(out CeqMessage first));
        Assert.Equal(live[0], first.Id);
        List<CeqMessage> rest = CeqTesting.DrainQuiet(queue);
        Assert.Equal(live.Skip(1), rest.Select(m => m.Id).OrderBy(i => i.Slot));
        Assert.All(rest, m => Assert.Equal(2u, m.Bits));
    }

    /// <summary>
    /// The §7.2 #4 shape needs a recovery scan to take ids that a producer is queueing in the ring at
    /// the same time, which leaves their ring entries stale; a single thread cannot build it, since
    /// a take empties the ring before it resumes the scan. So a producer posts rounds of 64 distinct
    /// ids into a ring of 4 while the only consumer takes; after each round the consumer drains until
    /// TryTake is false, and then every id of the round must have been seen and the queue be empty.
    /// </summary>
    [Fact]
    public void RecoveryRacingAProducer_LeavesNoEntryThatEndsTheDrainEarly()
    {
        const int Ids = 64;
        using var queue = new CoalescingEventQueue(CeqOperation.Add, ringSize: 4);
        CeqId[] ids = Enumerable.Range(0, Ids).Select(_ => queue.Allocate()).ToArray();
        var budget = TimeSpan.FromSeconds(2);
        int round = 0;
        int roundsPosted = 0;
        int roundsChecked = 0;

        void Producer()
        {
            var bound = Stopwatch.StartNew();
            uint random = 0x9E3779B9;
            while (bound.Elapsed < budget)
            {
                // Every id once per round, in a random rotation so the scan meets them in varied order.
                int start = (int)(CeqTesting.Next(ref random) % Ids);
                for (int i = 0; i < Ids; i++)
                    Assert.True(queue.Post(ids[(start + i) % Ids], 1));
                Volatile.Write(ref roundsPosted, ++round);
                SpinWait.SpinUntil(() => Volatile.Read(ref roundsChecked) is var c && (c == round || c < 0), CeqTesting.ThreadLimit);
                Assert.Equal(round, Volatile.Read(ref roundsChecked));
            }
            Volatile.Write(ref roundsPosted, -1);
        }

        void Consumer()
        {
            try
            {
                CheckRounds();
            }
            finally
            {
                // Releases the producer at once if a check failed.
                if (Volatile.Read(ref roundsPosted) >= 0)
                    Volatile.Write(ref roundsChecked, -1);
            }
        }

        void CheckRounds()
        {
            var totals = new long[Ids];
            long expected = 0;
            var bound = Stopwatch.StartNew();
            int checkedRound = 0;
            while (true)
            {
                int posted = Volatile.Read(ref roundsPosted);
                if (posted < 0)
                    break;
                bool done = posted > checkedRound;
                bool took = false;
                while (queue.TryTake(out CeqMessage message))
                {
                    Assert.NotEqual(0u, message.Bits);
                    totals[message.Id.Slot] += message.Bits;
                    took = true;
                }
                if (done)
                {
                    // The round's posts have all completed and this is the only consumer.
                    Assert.True(queue.IsEmpty, $"round {posted}: TryTake returned false but the queue is not empty");
                    expected++;
                    for (int i = 0; i < Ids; i++)
                        Assert.True(totals[i] == expected, $"round {posted}: id {i} has {totals[i]} of {expected} posts");
                    checkedRound = posted;
                    Volatile.Write(ref roundsChecked, posted);
                }
                else if (!took)
                {
                    Thread.Yield();
                }
                Assert.True(bound.Elapsed < CeqTesting.ThreadLimit, "the consumer did not finish");
            }
            Assert.True(checkedRound > 10, $"only {checkedRound} rounds ran");
        }

        CeqTesting.RunThreads(Producer, Consumer);

        Assert.True(queue.Overflows > 0);
        Assert.True(queue.RecoveryScans > 0);
    }

    private static uint BitsOf(int slot) => (uint)(slot * 2654435761u) | 1u << 16 | 1;
}
