using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using EpollGen.Events;
using EpollGen.Interop;
using Xunit;

namespace EpollGen.Runtime.Tests.Events;

/// <summary>Event memory committed as ids are allocated, while producers and a consumer keep working.</summary>
[Collection(CeqThreadedCollection.Name)]
public class CeqGrowthTests
{
    private const long CommitStep = 64 * 1024;

    [Fact]
    public void AllocatingWhileOthersPostAndTake_CommitsInStepsAndLosesNothing()
    {
        const int Ids = 200_000;
        const int Producers = 2;
        using var queue = new CoalescingEventQueue(CeqOperation.Add, ringSize: 1024);
        var ids = new CeqId[Ids];
        int published = 0;
        int producersLeft = Producers;
        var posted = new long[Producers][];
        var taken = new long[Ids];
        var commits = new List<long>();

        void Allocator()
        {
            long committed = queue.CommittedBytes;
            for (int i = 0; i < Ids; i++)
            {
                CeqId id = queue.Allocate((ulong)i);
                Assert.Equal(i, id.Slot);
                ids[i] = id;
                // Published after the id is stored: producers read ids below the count only.
                Volatile.Write(ref published, i + 1);
                long now = queue.CommittedBytes;
                if (now != committed)
                {
                    commits.Add(now);
                    committed = now;
                }
                long needed = (long)(i + 1) * CeqEvent.NativeSize;
                Assert.True(now >= needed, $"{now} bytes committed for {i + 1} ids");
                Assert.True(now <= (needed + CommitStep - 1) / CommitStep * CommitStep, $"{now} bytes committed for {i + 1} ids");
            }
        }

        Action Producer(int index) => () =>
        {
            var counts = posted[index] = new long[Ids];
            uint random = 0x1234_5678u + (uint)index * 0x9E37_79B9u;
            var bound = Stopwatch.StartNew();
            try
            {
                while (true)
                {
                    int count = Volatile.Read(ref published);
                    if (count == Ids && bound.Elapsed > TimeSpan.FromMilliseconds(200))
                        break;
                    if (count == 0)
                        continue;
                    int slot = (int)(CeqTesting.Next(ref random) % (uint)count);
                    Assert.True(queue.Post(ids[slot], 1));
                    counts[slot]++;
                    Assert.True(bound.Elapsed < CeqTesting.ThreadLimit, "the producer did not finish");
                }
            }
            finally
            {
                Interlocked.Decrement(ref producersLeft);
            }
        };

        void Consumer()
        {
            var batch = new CeqMessage[256];
            var bound = Stopwatch.StartNew();
            while (true)
            {
                bool producing = Volatile.Read(ref producersLeft) > 0;
                int n = queue.TryTake(batch);
                for (int i = 0; i < n; i++)
                {
                    Assert.NotEqual(0u, batch[i].Bits);
                    taken[batch[i].Id.Slot] += batch[i].Bits;
                }
                // Producers had finished before this pass began and it found nothing: done.
                if (!producing && n == 0 && queue.IsEmpty)
                    break;
                Assert.True(bound.Elapsed < CeqTesting.ThreadLimit, "the consumer did not finish");
            }
        }

        CeqTesting.RunThreads(Allocator, Producer(0), Producer(1), Consumer);

        Assert.Equal(Ids, queue.IdsInUse);
        Assert.True(commits.Count >= Ids * CeqEvent.NativeSize / CommitStep - 1, $"only {commits.Count} commits");
        for (int i = 1; i < commits.Count; i++)
            Assert.True(commits[i] > commits[i - 1] && commits[i] % CommitStep == 0, $"commit {i}: {commits[i - 1]} -> {commits[i]}");
        long total = 0;
        for (int slot = 0; slot < Ids; slot++)
        {
            long expected = posted[0][slot] + posted[1][slot];
            Assert.True(expected == taken[slot], $"id {slot}: {expected} posted, {taken[slot]} taken");
            total += expected;
        }
        Assert.True(total > Ids, $"only {total} posts");
        Assert.Empty(CeqTesting.DrainQuiet(queue));
    }
}
