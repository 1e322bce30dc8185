using System;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using EpollGen.Events;
using EpollGen.Interop;
using EpollGen.Runtime.Tests.Native;
using EpollGen.Taps;
using Xunit;

namespace EpollGen.Runtime.Tests.Taps;

/// <summary>Asynchronous waits: served by the queue's engine thread, with timeouts and cancellation.</summary>
public abstract class EventQueueAsyncTests(TapBackendKind backend) : BackendTests(backend)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task WaitAsync_CompletesWhenATapFires()
    {
        using var queue = NewQueue();
        int fd = Fds.EventFd();
        try
        {
            CeqId id = queue.Allocate(userData: 3);
            TapTests.Submit(new TapRequest(fd, TapCommand.Add, TapFilters.FDTAP_FILT_READABLE, queue, id));
            var messages = new CeqMessage[4];
            ValueTask<int> pending = queue.WaitAsync(messages, Timeout.InfiniteTimeSpan);
            Assert.False(pending.IsCompleted);

            Fds.Signal(fd);

            Assert.Equal(1, await pending.AsTask().WaitAsync(Bound));
            Assert.Equal(3UL, messages[0].UserData);
            Assert.Equal(TapFilters.FDTAP_FILT_READABLE, (TapFilters)messages[0].Bits);
        }
        finally
        {
            TestLibC.close(fd);
        }
    }

    [Theory]
    [InlineData(30)]
    [InlineData(150)]
    public async Task WaitAsync_WithNothingPosted_ReturnsZeroNeverEarly(int milliseconds)
    {
        using var queue = NewQueue();
        var clock = Stopwatch.StartNew();

        int taken = await queue.WaitAsync(new CeqMessage[1], TimeSpan.FromMilliseconds(milliseconds)).AsTask().WaitAsync(Bound);

        Assert.Equal(0, taken);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(milliseconds), $"returned after {clock.Elapsed.TotalMilliseconds} ms");
    }

    [Fact]
    public async Task WaitAsync_ShorterTimeoutBehindALongerOne_IsHonoured()
    {
        using var queue = NewQueue();
        ValueTask<int> infinite = queue.WaitAsync(new CeqMessage[1], Timeout.InfiniteTimeSpan);
        var clock = Stopwatch.StartNew();

        int taken = await queue.WaitAsync(new CeqMessage[1], TimeSpan.FromMilliseconds(50)).AsTask().WaitAsync(Bound);

        Assert.Equal(0, taken);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(50));
        Assert.False(infinite.IsCompleted);
        Assert.True(queue.Post(queue.Allocate(), 1));
        Assert.Equal(1, await infinite.AsTask().WaitAsync(Bound));
    }

    [Fact]
    public async Task WaitAsync_Cancelled_ThrowsAndLeavesMessagesForOthers()
    {
        using var queue = NewQueue();
        using var cancel = new CancellationTokenSource();
        ValueTask<int> pending = queue.WaitAsync(new CeqMessage[1], Timeout.InfiniteTimeSpan, cancel.Token);

        cancel.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending.AsTask().WaitAsync(Bound));
        CeqId id = queue.Allocate();
        Assert.True(queue.Post(id, 2));
        var messages = new CeqMessage[1];
        Assert.Equal(1, await queue.WaitAsync(messages, Bound).AsTask().WaitAsync(Bound));
        Assert.Equal(2u, messages[0].Bits);
    }

    [Fact]
    public async Task ManyAsyncWaiters_EveryPostIsTakenOnce()
    {
        using var queue = NewQueue();
        CeqId[] ids = Enumerable.Range(0, 32).Select(i => queue.Allocate(userData: (ulong)i)).ToArray();
        const int rounds = 200;
        long taken = 0;
        using var stop = new CancellationTokenSource();
        Task[] waiters = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            var buffer = new CeqMessage[8];
            while (!stop.IsCancellationRequested)
            {
                int n = await queue.WaitAsync(buffer, TimeSpan.FromMilliseconds(20));
                for (int i = 0; i < n; i++)
                    Interlocked.Add(ref taken, buffer[i].Bits);
            }
        })).ToArray();

        for (int round = 0; round < rounds; round++)
        {
            foreach (CeqId id in ids)
                Assert.True(queue.Post(id, 1));
            long expected = (long)(round + 1) * ids.Length;
            Assert.True(SpinWait.SpinUntil(() => Interlocked.Read(ref taken) >= expected, Bound), $"round {round}: {taken} of {expected}");
        }
        stop.Cancel();
        await Task.WhenAll(waiters).WaitAsync(Bound);
        Assert.Equal((long)rounds * ids.Length, Interlocked.Read(ref taken));
    }

    [Fact]
    public async Task Dispose_FailsPendingAsyncWaits_WithObjectDisposedException()
    {
        var queue = NewQueue();
        ValueTask<int> pending = queue.WaitAsync(new CeqMessage[1], Timeout.InfiniteTimeSpan);

        queue.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => pending.AsTask().WaitAsync(Bound));
    }
}

/// <summary><see cref="EventQueueAsyncTests"/> on the kernel-epoll backend.</summary>
public sealed class EventQueueAsyncTests_Epoll() : EventQueueAsyncTests(TapBackendKind.Epoll);

/// <summary><see cref="EventQueueAsyncTests"/> on the io_uring backend.</summary>
public sealed class EventQueueAsyncTests_IoUring() : EventQueueAsyncTests(TapBackendKind.IoUring);
