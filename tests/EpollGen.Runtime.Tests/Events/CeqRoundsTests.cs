using System;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using EpollGen.Events;
using System.Reflection;
using EpollGen.Interop;
using Xunit;

namespace EpollGen.Runtime.Tests.Events;

/// <summary>
/// Rounds of posts from three producers into a two-entry ring, each round drained by one consumer
/// until IsEmpty: every id of a round must be taken. It once caught a late ring write left behind
/// the consumers with no overflow flag (a lost wake-up). EPOLLGEN_CEQ_ROUNDS_SECONDS hunts longer.
/// </summary>
[Collection(CeqThreadedCollection.Name)]
public class CeqRoundsTests
{
    [Fact]
    public void RoundsOnATinyRing_EveryIdOfARoundIsTakenBeforeIsEmpty()
    {
        int Producers = int.Parse(Environment.GetEnvironmentVariable("EPOLLGEN_CEQ_ROUNDS_PRODUCERS") ?? "3");
        const int PerProducer = 8, MinRounds = 100;
        // Rounds end with time to spare before RunThreads stops waiting for the consumer thread.
        TimeSpan hardLimit = CeqTesting.ThreadLimit * 0.75;
        using var queue = new CoalescingEventQueue(CeqOperation.Add, ringSize: 2);
        CeqId[] ids = Enumerable.Range(0, Producers * PerProducer).Select(_ => queue.Allocate()).ToArray();
        var budget = TimeSpan.FromSeconds(double.Parse(Environment.GetEnvironmentVariable("EPOLLGEN_CEQ_ROUNDS_SECONDS") ?? "2"));
        int round = 0;
        int finished = 0;
        int checkedRound = 0;
        int stop = 0;
        var totals = new long[ids.Length];
        var bound = Stopwatch.StartNew();

        Action Producer(int p) => () =>
        {
            for (int r = 1; ; r++)
            {
                SpinWait.SpinUntil(() => Volatile.Read(ref round) == r || Volatile.Read(ref stop) != 0);
                if (Volatile.Read(ref stop) != 0)
                    return;
                for (int i = 0; i < PerProducer; i++)
                    queue.Post(ids[p * PerProducer + i], 1);
                Interlocked.Increment(ref finished);
            }
        };

        void Consumer()
        {
            try
            {
                // The budget, and at least MinRounds rounds: on a loaded machine (the whole suite
                // runs its assemblies in parallel on two cores) a round can take milliseconds.
                for (int r = 1; (bound.Elapsed < budget || r <= MinRounds) && bound.Elapsed < hardLimit; r++)
                {
                    Volatile.Write(ref round, r);
                    while (true)
                    {
                        bool done = Volatile.Read(ref finished) == r * Producers;
                        while (queue.TryTake(out CeqMessage m))
                            totals[m.Id.Slot] += m.Bits;
                        if (done && queue.IsEmpty)
                            break;
                    }
                    for (int i = 0; i < ids.Length; i++)
                        Assert.True(totals[i] == r, $"round {r}: id {i} has {totals[i]}; overflows {queue.Overflows}, scans {queue.RecoveryScans}; {Dump(queue, i)}");
                    checkedRound = r;
                }
            }
            finally
            {
                Volatile.Write(ref stop, 1);
            }
        }

        CeqTesting.RunThreads([.. Enumerable.Range(0, Producers).Select(Producer), Consumer]);
        Assert.True(checkedRound >= MinRounds, $"only {checkedRound} rounds in {bound.Elapsed}");
    }

    private static unsafe string Dump(CoalescingEventQueue queue, int slot)
    {
        var flags = BindingFlags.NonPublic | BindingFlags.Instance;
        var header = (Ceq*)Pointer.Unbox(typeof(CoalescingEventQueue).GetField("_header", flags)!.GetValue(queue)!);
        var ring = (ulong*)Pointer.Unbox(typeof(CoalescingEventQueue).GetField("_ring", flags)!.GetValue(queue)!);
        var ev = (CeqEvent*)header->events + slot;
        return $"IsEmpty {queue.IsEmpty}, prod {header->prod_idx}, cons {header->cons_pvt_idx}, ring [{ring[0]}, {ring[1]}], overflowed {header->ring_overflowed}, recovery {header->overflow_recovery}, slot {slot}: posted {ev->idx_posted}, bits {(uint)ev->coalesce}";
    }
}
