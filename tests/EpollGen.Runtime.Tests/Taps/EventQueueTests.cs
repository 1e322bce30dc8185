using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using EpollGen.Events;
using EpollGen.Taps;
using Xunit;

namespace EpollGen.Runtime.Tests.Taps;

/// <summary>Waiting on an event queue: deadlines, wake-ups, many waiters, dispose.</summary>
public abstract class EventQueueTests(TapBackendKind backend) : BackendTests(backend)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);

    [Theory]
    [InlineData(0)]
    [InlineData(30)]
    [InlineData(120)]
    public void Wait_WithNothingPosted_ReturnsZeroNeverEarly(int milliseconds)
    {
        using var queue = NewQueue();
        var clock = Stopwatch.StartNew();

        int taken = queue.Wait(new CeqMessage[4], TimeSpan.FromMilliseconds(milliseconds));

        Assert.Equal(0, taken);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(milliseconds), $"returned after {clock.Elapsed.TotalMilliseconds} ms");
        Assert.True(clock.Elapsed < TimeSpan.FromMilliseconds(milliseconds) + Bound);
    }

    [Fact]
    public async Task Post_FromAnotherThread_WakesAnInfiniteWait()
    {
        using var queue = NewQueue();
        CeqId id = queue.Allocate();
        var waiter = Task.Run(() =>
        {
            var messages = new CeqMessage[1];
            int n = queue.Wait(messages, Timeout.InfiniteTimeSpan);
            return (n, messages[0]);
        });
        // Let the waiter reach the kernel, then post; the bound catches a lost wake-up.
        SpinWait.SpinUntil(() => waiter.IsCompleted, 50);

        Assert.True(queue.Post(id, 0x5));

        (int n, CeqMessage message) = await waiter.WaitAsync(Bound);
        Assert.Equal(1, n);
        Assert.Equal(0x5u, message.Bits);
    }

    [Fact]
    public async Task ManyWaiters_EveryPostIsTakenOnce()
    {
        using var queue = NewQueue();
        const int posts = 20_000;
        CeqId[] ids = new CeqId[64];
        for (int i = 0; i < ids.Length; i++)
            ids[i] = queue.Allocate(userData: (ulong)i);
        long taken = 0;
        using var stop = new CancellationTokenSource();
        var waiters = new Task[3];
        for (int w = 0; w < waiters.Length; w++)
        {
            waiters[w] = Task.Factory.StartNew(() =>
            {
                var buffer = new CeqMessage[16];
                while (!stop.IsCancellationRequested)
                {
                    int n = queue.Wait(buffer, TimeSpan.FromMilliseconds(20));
                    for (int i = 0; i < n; i++)
                        Interlocked.Add(ref taken, buffer[i].Bits);
                }
            }, TaskCreationOptions.LongRunning);
        }

        // ADD would count exactly, but this queue ORs: post each id once per round and wait until
        // the round is taken, so every post is one bit that must arrive.
        for (int round = 0; round < posts / ids.Length; round++)
        {
            foreach (CeqId id in ids)
                Assert.True(queue.Post(id, 1));
            long expected = (long)(round + 1) * ids.Length;
            Assert.True(SpinWait.SpinUntil(() => Interlocked.Read(ref taken) >= expected, Bound), $"round {round}: {taken} of {expected} taken");
        }
        stop.Cancel();
        await Task.WhenAll(waiters).WaitAsync(Bound);
        Assert.Equal(posts / ids.Length * ids.Length, Interlocked.Read(ref taken));
    }

    [Fact]
    public async Task Dispose_WakesABlockedWaiter_WithObjectDisposedException()
    {
        var queue = NewQueue();
        var waiter = Task.Run(() => queue.Wait(new CeqMessage[1], Timeout.InfiniteTimeSpan));
        SpinWait.SpinUntil(() => waiter.IsCompleted, 50);

        queue.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => waiter.WaitAsync(Bound));
        Assert.False(queue.Post(default, 1));
    }

    [Fact]
    public void Wait_RejectsNegativeTimeoutsAndEmptyBuffers()
    {
        using var queue = NewQueue();
        Assert.Throws<ArgumentOutOfRangeException>(() => queue.Wait(new CeqMessage[1], TimeSpan.FromMilliseconds(-2)));
        Assert.Throws<ArgumentException>(() => queue.Wait(Span<CeqMessage>.Empty, TimeSpan.Zero));
    }
}

/// <summary><see cref="EventQueueTests"/> on the kernel-epoll backend.</summary>
public sealed class EventQueueTests_Epoll() : EventQueueTests(TapBackendKind.Epoll);

/// <summary><see cref="EventQueueTests"/> on the io_uring backend.</summary>
public sealed class EventQueueTests_IoUring() : EventQueueTests(TapBackendKind.IoUring);
