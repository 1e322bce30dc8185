using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using EpollGen.Events;
using Xunit;

namespace EpollGen.Runtime.Tests.Events;

/// <summary>
/// Producers posting to random ids while consumers take. With ADD and a value of 1 per post the
/// count is exact: the bits taken per id must equal the posts per id, nothing lost or invented.
/// With OR each producer owns a bit, and the union taken per id must equal the union posted.
/// Each run posts up to a fixed count or for a fixed time, whichever ends first.
/// </summary>
[Collection(CeqThreadedCollection.Name)]
public class CeqStressTests
{
    private static readonly TimeSpan PostingBudget = TimeSpan.FromMilliseconds(1500);

    [Theory]
    [InlineData(1, 1, 1024, 1000, 4_000_000)]
    [InlineData(2, 1, 1024, 1000, 2_000_000)]
    [InlineData(4, 2, 1024, 4096, 1_000_000)]
    [InlineData(2, 2, 4, 256, 1_000_000)]
    [InlineData(4, 1, 2, 64, 500_000)]
    public void AddPostsFromManyProducers_AreCountedExactly(int producers, int consumers, int ringSize, int idCount, int postsPerProducer)
    {
        using var queue = new CoalescingEventQueue(CeqOperation.Add, ringSize);
        CeqId[] ids = Enumerable.Range(0, idCount).Select(i => queue.Allocate((ulong)i)).ToArray();
        var posted = new long[producers][];
        var taken = new long[consumers][];
        long postsDone = 0;
        long takenSum = 0;
        long messages = 0;
        int producersLeft = producers;

        Action Producer(int index) => () =>
        {
            var counts = posted[index] = new long[idCount];
            uint random = 0xC0FF_EE00u + (uint)index * 0x9E37_79B9u;
            var bound = Stopwatch.StartNew();
            int n = 0;
            try
            {
                for (; n < postsPerProducer; n++)
                {
                    if ((n & 1023) == 0 && bound.Elapsed > PostingBudget)
                        break;
                    int slot = (int)(CeqTesting.Next(ref random) % (uint)idCount);
                    if (!queue.Post(ids[slot], 1))
                        throw new InvalidOperationException($"post to live id {ids[slot]} refused");
                    counts[slot]++;
                }
            }
            finally
            {
                Interlocked.Add(ref postsDone, n);
                Interlocked.Decrement(ref producersLeft);
            }
        };

        Action Consumer(int index) => () =>
        {
            var sums = taken[index] = new long[idCount];
            var batch = new CeqMessage[64];
            var bound = Stopwatch.StartNew();
            while (true)
            {
                // Read before the pass: if producers were done then, the target is final.
                bool final = Volatile.Read(ref producersLeft) == 0;
                long target = Volatile.Read(ref postsDone);
                int got = queue.TryTake(batch);
                long sum = 0;
                for (int i = 0; i < got; i++)
                {
                    if (batch[i].Bits == 0)
                        throw new InvalidOperationException($"empty message for {batch[i].Id}");
                    if (batch[i].Id != ids[batch[i].Id.Slot])
                        throw new InvalidOperationException($"message for an id never allocated: {batch[i].Id}");
                    sums[batch[i].Id.Slot] += batch[i].Bits;
                    sum += batch[i].Bits;
                }
                Interlocked.Add(ref messages, got);
                long all = Interlocked.Add(ref takenSum, sum);
                if (final && all >= target)
                    break;
                if (got == 0)
                    Thread.Yield();
                if (bound.Elapsed > CeqTesting.ThreadLimit)
                    throw new TimeoutException($"{all} of {target} posts taken; final: {final}, IsEmpty: {queue.IsEmpty}");
            }
        };

        CeqTesting.RunThreads([.. Enumerable.Range(0, producers).Select(Producer), .. Enumerable.Range(0, consumers).Select(Consumer)]);

        long total = 0;
        for (int slot = 0; slot < idCount; slot++)
        {
            long expected = posted.Sum(p => p[slot]);
            long got = taken.Sum(t => t[slot]);
            Assert.True(expected == got, $"id {slot}: {expected} posted, {got} taken");
            total += expected;
        }
        Assert.Equal(total, Volatile.Read(ref postsDone));
        Assert.True(total >= Math.Min(100_000, producers * postsPerProducer), $"only {total} posts in the budget");
        Assert.True(Volatile.Read(ref messages) <= total);
        Assert.Empty(CeqTesting.DrainQuiet(queue));
        if (ringSize < idCount / 8)
            Assert.True(queue.Overflows > 0 && queue.RecoveryScans > 0, $"overflows {queue.Overflows}, scans {queue.RecoveryScans}");
    }

    [Theory]
    [InlineData(4, 2, 1024, 1000, 1_000_000)]
    [InlineData(3, 1, 2, 128, 1_000_000)]
    public void OrPostsFromManyProducers_DeliverTheUnionPosted(int producers, int consumers, int ringSize, int idCount, int postsPerProducer)
    {
        using var queue = new CoalescingEventQueue(CeqOperation.Or, ringSize);
        CeqId[] ids = Enumerable.Range(0, idCount).Select(_ => queue.Allocate()).ToArray();
        uint allBits = (1u << producers) - 1;
        var posted = new uint[producers][];
        var seen = new uint[consumers][];
        int producersLeft = producers;

        Action Producer(int index) => () =>
        {
            var union = posted[index] = new uint[idCount];
            uint bit = 1u << index;
            uint random = 0xBADC_0DEu + (uint)index * 0x9E37_79B9u;
            var bound = Stopwatch.StartNew();
            try
            {
                for (int n = 0; n < postsPerProducer; n++)
                {
                    if ((n & 1023) == 0 && bound.Elapsed > PostingBudget)
                        break;
                    // A skewed choice, so some ids never see some producers.
                    uint r = CeqTesting.Next(ref random);
                    int slot = (int)(r % (uint)idCount);
                    if (slot % (index + 2) == 0)
                        continue;
                    if (!queue.Post(ids[slot], bit))
                        throw new InvalidOperationException($"post to live id {ids[slot]} refused");
                    union[slot] |= bit;
                }
            }
            finally
            {
                Interlocked.Decrement(ref producersLeft);
            }
        };

        Action Consumer(int index) => () =>
        {
            var union = seen[index] = new uint[idCount];
            var bound = Stopwatch.StartNew();
            while (true)
            {
                bool final = Volatile.Read(ref producersLeft) == 0;
                bool took = false;
                while (queue.TryTake(out CeqMessage message))
                {
                    if (message.Bits == 0 || (message.Bits & ~allBits) != 0)
                        throw new InvalidOperationException($"message {message} has bits no producer posts");
                    union[message.Id.Slot] |= message.Bits;
                    took = true;
                }
                // With other consumers a false TryTake may only mean another one is scanning.
                if (final && !took && queue.IsEmpty)
                    break;
                if (!took)
                    Thread.Yield();
                if (bound.Elapsed > CeqTesting.ThreadLimit)
                    throw new TimeoutException($"the consumer did not finish; IsEmpty: {queue.IsEmpty}");
            }
        };

        CeqTesting.RunThreads([.. Enumerable.Range(0, producers).Select(Producer), .. Enumerable.Range(0, consumers).Select(Consumer)]);

        for (int slot = 0; slot < idCount; slot++)
        {
            uint expected = posted.Aggregate(0u, (u, p) => u | p[slot]);
            uint got = seen.Aggregate(0u, (u, s) => u | s[slot]);
            Assert.True(expected == got, $"id {slot}: posted 0x{expected:x}, taken 0x{got:x}");
        }
        Assert.Contains(posted.SelectMany(p => p), u => u != 0);
        Assert.Empty(CeqTesting.DrainQuiet(queue));
    }
}
