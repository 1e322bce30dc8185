using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using EpollGen.Events;
using Xunit;

namespace EpollGen.Runtime.Tests.Events;

/// <summary>The CEQ tests that start threads run one at a time: on two cores they would only slow each other.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class CeqThreadedCollection
{
    public const string Name = "CEQ threaded";
}

/// <summary>Draining, bounded waits and thread handling shared by the CEQ tests.</summary>
internal static class CeqTesting
{
    /// <summary>How long any threaded CEQ test may wait for its threads before it fails.</summary>
    public static readonly TimeSpan ThreadLimit = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Takes everything from a queue no other thread touches. With one consumer a false TryTake
    /// means nothing waits, so it must agree with IsEmpty; every message must carry bits.
    /// </summary>
    public static List<CeqMessage> DrainQuiet(CoalescingEventQueue queue)
    {
        var messages = new List<CeqMessage>();
        var bound = Stopwatch.StartNew();
        while (queue.TryTake(out CeqMessage message))
        {
            Assert.NotEqual(0u, message.Bits);
            messages.Add(message);
            Assert.True(bound.Elapsed < ThreadLimit, "the drain did not end");
        }
        Assert.True(queue.IsEmpty, "TryTake returned false with no other consumer, but the queue is not empty");
        Assert.False(queue.TryTake(out _));
        return messages;
    }

    /// <summary>Runs each action on its own thread and rethrows the first failure; fails if any thread outlives the limit.</summary>
    public static void RunThreads(params Action[] actions)
    {
        var failures = new Exception?[actions.Length];
        var threads = new Thread[actions.Length];
        for (int i = 0; i < actions.Length; i++)
        {
            int index = i;
            threads[i] = new Thread(() =>
            {
                try
                {
                    actions[index]();
                }
                catch (Exception e)
                {
                    failures[index] = e;
                }
            })
            { IsBackground = true, Name = $"ceq-test-{i}" };
        }
        foreach (Thread thread in threads)
            thread.Start();
        var bound = Stopwatch.StartNew();
        foreach (Thread thread in threads)
        {
            TimeSpan left = ThreadLimit - bound.Elapsed;
            Assert.True(thread.Join(left > TimeSpan.Zero ? left : TimeSpan.Zero), $"{thread.Name} did not finish within {ThreadLimit}");
        }
        foreach (Exception? failure in failures)
        {
            if (failure is not null)
                throw new InvalidOperationException("a CEQ test thread failed", failure);
        }
    }

    /// <summary>A small fast generator for the hot loops (xorshift32), seeded per thread for reproducibility.</summary>
    public static uint Next(ref uint state)
    {
        uint x = state;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        state = x;
        return x;
    }
}
