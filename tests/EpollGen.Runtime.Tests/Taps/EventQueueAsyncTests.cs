using System;
using System.Diagnostics;
using System.Linq;
using System.Runtime.ExceptionServices;
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

    // A cancellation that reads the wait claimed by the engine, which then lets it go (nothing to
    // take), must still cancel it: the hook holds the cancelling thread in that window long enough
    // for the engine to finish its look. Before the fix the second step failed and the wait hung.
    [Fact]
    public void Cancel_WhileTheEngineClaimsTheWait_StillEndsIt()
    {
        using var queue = NewQueue();
        int claimedSeen = 0;
        queue.AfterCancelReadClaimed = () =>
        {
            Interlocked.Increment(ref claimedSeen);
            Thread.SpinWait(20_000);
        };
        var buffer = new CeqMessage[1];
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < 3000 && (claimedSeen < 20 || clock.Elapsed < TimeSpan.FromSeconds(1)) && clock.Elapsed < TimeSpan.FromSeconds(10); i++)
        {
            using var cancel = new CancellationTokenSource();
            Task<int> wait = queue.WaitAsync(buffer, Timeout.InfiniteTimeSpan, cancel.Token).AsTask();
            cancel.Cancel();
            Assert.True(((IAsyncResult)wait).AsyncWaitHandle.WaitOne(Bound), $"wait {i} did not end after its token was cancelled ({claimedSeen} cancellations found it claimed)");
            Assert.True(wait.IsCanceled, $"wait {i}: {wait.Status}");
        }
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
    public async Task WaitAsync_ATokenCancelledAfterItsWaitEnded_LeavesTheNextWaitAlone()
    {
        using var queue = NewQueue();
        CeqId id = queue.Allocate();
        var messages = new CeqMessage[1];
        using var stale = new CancellationTokenSource();
        // The first wait is completed the moment the engine can reach it, before WaitAsync returns.
        queue.AfterAsyncWaiterQueued = wait =>
        {
            queue.AfterAsyncWaiterQueued = null;
            Assert.True(queue.Post(id, 1));
            Assert.True(SpinWait.SpinUntil(() => wait.IsCompleted, Bound), "the engine did not complete the wait");
        };
        Assert.Equal(1, await queue.WaitAsync(messages, Timeout.InfiniteTimeSpan, stale.Token).AsTask().WaitAsync(Bound));

        ValueTask<int> next = queue.WaitAsync(messages, Timeout.InfiniteTimeSpan);
        Assert.False(next.IsCompleted);
        Assert.Equal(1, queue.AsyncWaitersCreated);
        stale.Cancel();
        Assert.True(queue.Post(id, 1));

        Assert.Equal(1, await next.AsTask().WaitAsync(Bound));
    }

    [Fact]
    public async Task WaitAsync_AfterACancelledWaitStillQueued_IsServedInItsOwnTurn()
    {
        using var queue = NewQueue();
        CeqId id = queue.Allocate();
        ValueTask<int> head = queue.WaitAsync(new CeqMessage[1], Timeout.InfiniteTimeSpan);
        using var cancel = new CancellationTokenSource();
        ValueTask<int> cancelled = queue.WaitAsync(new CeqMessage[1], Timeout.InfiniteTimeSpan, cancel.Token);
        Task<int> older = queue.WaitAsync(new CeqMessage[1], Timeout.InfiniteTimeSpan).AsTask();
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.AsTask().WaitAsync(Bound));
        // The cancelled wait's object is still in the queue, ahead of the older wait.
        Task<int> newer = queue.WaitAsync(new CeqMessage[1], Timeout.InfiniteTimeSpan).AsTask();

        Assert.True(queue.Post(id, 1));
        Assert.Equal(1, await head.AsTask().WaitAsync(Bound));
        Assert.True(queue.Post(id, 1));
        Task served = await Task.WhenAny(older, newer).WaitAsync(Bound);

        Assert.Same(older, served);
        Assert.Equal(1, await older);
        Assert.True(queue.Post(id, 1));
        Assert.Equal(1, await newer.WaitAsync(Bound));
    }

    [Fact]
    public void CancelAndCompleteCycles_EveryWaitEndsOnceWithItsOwnOutcome()
    {
        const int threads = 4;
        const int waitsPerThread = 500;
        using var queue = NewQueue();
        CeqId[] ids = Enumerable.Range(0, threads * waitsPerThread).Select(i => queue.Allocate(userData: (ulong)i)).ToArray();
        var posted = new int[ids.Length];
        var taken = new int[ids.Length];
        void Post(int index)
        {
            Interlocked.Increment(ref posted[index]);
            Assert.True(queue.Post(ids[index], 1));
        }
        using var postWhenQueued = new ThreadLocal<int>(() => -1);
        queue.AfterAsyncWaiterQueued = wait =>
        {
            int own = postWhenQueued.Value;
            if (own < 0)
                return;
            postWhenQueued.Value = -1;
            Post(own);
            Assert.True(SpinWait.SpinUntil(() => wait.IsCompleted, Bound), $"message {own}: the wait did not end");
        };

        // Each thread waits three ways in turn: (0) cancelled at once, most likely while queued
        // behind the others' waits (it may still take a message, which it posts again); (1) ended by
        // a message posted the moment the engine can reach it, its token cancelled after the
        // thread's next wait has started (which likely reuses its wait object); (2) ended by a
        // message posted after WaitAsync returns, with no token. Every wait that is not cancelled
        // posts one message and takes one, so each has a message to end it. (A wait that finds
        // messages already waiting is answered before it is queued; it posts one all the same.)
        void Run(int thread)
        {
            var buffer = new CeqMessage[1];
            CancellationTokenSource? stale = null;
            for (int i = 0; i < waitsPerThread; i++)
            {
                int own = thread * waitsPerThread + i;
                int kind = (thread + i) % 3;
                var cancel = kind == 2 ? null : new CancellationTokenSource();
                CancellationToken token = cancel?.Token ?? default;
                postWhenQueued.Value = kind == 1 ? own : -1;
                Task<int> wait = queue.WaitAsync(buffer, Timeout.InfiniteTimeSpan, token).AsTask();
                stale?.Cancel();
                stale?.Dispose();
                stale = null;
                if (kind == 0)
                    cancel!.Cancel();
                // A wait answered on the calling thread never reached the queue, nor the hook.
                else if (kind == 2 || postWhenQueued.Value >= 0)
                    Post(own);
                postWhenQueued.Value = -1;

                Assert.True(((IAsyncResult)wait).AsyncWaitHandle.WaitOne(Bound), $"thread {thread}, wait {i} (kind {kind}) did not end");
                if (wait.IsCanceled)
                {
                    Assert.True(kind == 0, $"thread {thread}, wait {i} (kind {kind}) was cancelled by a token not its own");
                    var error = Assert.ThrowsAny<OperationCanceledException>(() => wait.GetAwaiter().GetResult());
                    Assert.Equal(token, error.CancellationToken);
                    cancel!.Dispose();
                    continue;
                }
                Assert.Equal(1, wait.GetAwaiter().GetResult());
                int index = (int)buffer[0].UserData;
                Interlocked.Increment(ref taken[index]);
                if (kind == 0)
                    Post(index);
                if (kind == 1)
                    stale = cancel;
                else
                    cancel?.Dispose();
            }
            stale?.Dispose();
        }

        Exception? failure = null;
        Thread[] workers = Enumerable.Range(0, threads).Select(thread => new Thread(() =>
        {
            try
            {
                Run(thread);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref failure, e, null);
            }
        }) { IsBackground = true }).ToArray();
        foreach (Thread worker in workers)
            worker.Start();
        foreach (Thread worker in workers)
            Assert.True(worker.Join(TimeSpan.FromSeconds(60)), "a waiting thread did not finish");

        if (failure is not null)
            ExceptionDispatchInfo.Capture(failure).Throw();
        Assert.Equal(0, queue.Wait(new CeqMessage[1], TimeSpan.Zero));
        Assert.Equal(posted, taken);
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
