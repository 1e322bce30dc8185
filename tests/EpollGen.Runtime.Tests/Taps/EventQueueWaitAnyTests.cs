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
using static EpollGen.Runtime.Tests.Native.TestLibC;

namespace EpollGen.Runtime.Tests.Taps;

/// <summary>Waiting on several event queues at once: wake-ups from any queue, deadlines, dispose, and sharing queues with single-queue waiters.</summary>
public sealed class EventQueueWaitAnyTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);

    [Theory]
    [InlineData(0)]
    [InlineData(30)]
    [InlineData(120)]
    public void WaitAny_WithNothingPosted_ReturnsZeroNeverEarly(int milliseconds)
    {
        using var a = new EventQueue();
        using var b = new EventQueue();
        var clock = Stopwatch.StartNew();

        int taken = EventQueue.WaitAny([a, b], new EventQueueMessage[4], TimeSpan.FromMilliseconds(milliseconds));

        Assert.Equal(0, taken);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(milliseconds), $"returned after {clock.Elapsed.TotalMilliseconds} ms");
        Assert.True(clock.Elapsed < TimeSpan.FromMilliseconds(milliseconds) + Bound);
    }

    [Fact]
    public void WaitAny_TakesWhatIsWaiting_WithTheQueueIndex_AndVisitsQueuesInTurn()
    {
        using var a = new EventQueue();
        using var b = new EventQueue();
        CeqId onA = a.Allocate(userData: 1), onB = b.Allocate(userData: 2);
        var one = new EventQueueMessage[1];
        int[] seen = new int[2];
        for (int i = 0; i < 6; i++)
        {
            Assert.True(a.Post(onA, 1));
            Assert.True(b.Post(onB, 2));
            Assert.Equal(1, EventQueue.WaitAny([a, b], one, TimeSpan.Zero));
            seen[one[0].QueueIndex]++;
            Assert.Equal(one[0].QueueIndex == 0 ? 1UL : 2UL, one[0].Message.UserData);
            Assert.Equal(one[0].QueueIndex == 0 ? onA : onB, one[0].Message.Id);
        }
        // A buffer of one, both queues always full: a fixed order would starve one of them.
        Assert.Equal(3, seen[0]);
        Assert.Equal(3, seen[1]);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void Post_ToAnyQueue_WakesABlockedWaitAny(int target)
    {
        EventQueue[] queues = [new(), new(), new()];
        try
        {
            CeqId id = queues[target].Allocate(userData: 9);
            (EventQueueMessage[] got, int n, TimeSpan latency) = BlockThen(queues, () => Assert.True(queues[target].Post(id, 4)));

            Assert.Equal(1, n);
            Assert.Equal(target, got[0].QueueIndex);
            Assert.Equal(new CeqMessage(id, 4, 0, 9), got[0].Message);
            Assert.True(latency < TimeSpan.FromSeconds(1), $"woke {latency.TotalMilliseconds} ms after the post");
        }
        finally
        {
            foreach (EventQueue queue in queues)
                queue.Dispose();
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public void Tap_OnAnyQueue_WakesABlockedWaitAny(int target)
    {
        EventQueue[] queues = [new(), new(), new()];
        int fd = Fds.EventFd();
        try
        {
            CeqId id = queues[target].Allocate(userData: 5);
            TapTests.Submit(new TapRequest(fd, TapCommand.Add, TapFilters.FDTAP_FILT_READABLE, queues[target], id));
            (EventQueueMessage[] got, int n, _) = BlockThen(queues, () => Fds.Signal(fd));

            Assert.Equal(1, n);
            Assert.Equal(target, got[0].QueueIndex);
            Assert.Equal(id, got[0].Message.Id);
            Assert.Equal(TapFilters.FDTAP_FILT_READABLE, (TapFilters)got[0].Message.Bits);
        }
        finally
        {
            TestLibC.close(fd);
            foreach (EventQueue queue in queues)
                queue.Dispose();
        }
    }

    /// <summary>
    /// B's kernel waiter is a thread waiting on B alone; the multi-queue waiter drives A's kernel
    /// wait and sleeps on B. When B's thread times out and steps down, the multi-queue waiter must
    /// take B's kernel wait over: a tap on B, which only B's kernel waiter can hear, then reaches it.
    /// </summary>
    [Fact]
    public void WhenBsKernelWaiterLeaves_TheMultiQueueWaiterTakesItsKernelWaitOver()
    {
        using var a = new EventQueue();
        using var b = new EventQueue();
        int fd = Fds.EventFd();
        try
        {
            CeqId id = b.Allocate();
            TapTests.Submit(new TapRequest(fd, TapCommand.Add, TapFilters.FDTAP_FILT_READABLE, b, id));
            int singleTid = 0;
            var single = new Thread(() =>
            {
                Volatile.Write(ref singleTid, gettid());
                Assert.Equal(0, b.Wait(new CeqMessage[1], TimeSpan.FromMilliseconds(500)));
            });
            single.Start();
            KernelWaits.UntilBlocked(ref singleTid, Bound);

            // B's kernel waiter is taken, so the multi-queue waiter sleeps on B.
            (EventQueueMessage[] got, int n, _) = BlockThen([a, b], () =>
            {
                Assert.True(single.Join(Bound), "the single-queue waiter did not time out");
                Fds.Signal(fd);
            });

            Assert.Equal(1, n);
            Assert.Equal(1, got[0].QueueIndex);
            Assert.Equal(id, got[0].Message.Id);
        }
        finally
        {
            TestLibC.close(fd);
        }
    }

    [Fact]
    public async Task QueueDisposedDuringWaitAny_ThrowsObjectDisposed_AndTheOtherQueueStillWorks()
    {
        using var a = new EventQueue();
        var b = new EventQueue();
        int tid = 0;
        var waiter = Task.Factory.StartNew(() =>
        {
            Volatile.Write(ref tid, gettid());
            return EventQueue.WaitAny([a, b], new EventQueueMessage[1], Timeout.InfiniteTimeSpan);
        }, TaskCreationOptions.LongRunning);
        KernelWaits.UntilBlocked(ref tid, Bound);

        b.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => waiter.WaitAsync(Bound));
        Assert.Throws<ObjectDisposedException>(() => EventQueue.WaitAny([a, b], new EventQueueMessage[1], TimeSpan.Zero));
        // The multi-queue waiter gave A's kernel wait up: a single waiter on A can take it.
        CeqId id = a.Allocate();
        var poster = Task.Run(async () =>
        {
            await Task.Delay(20);
            a.Post(id, 1);
        });
        Assert.Equal(1, a.Wait(new CeqMessage[1], Bound));
        await poster;
    }

    [Fact]
    public void WaitAny_RejectsBadArguments()
    {
        using var a = new EventQueue();
        var buffer = new EventQueueMessage[1];
        Assert.Throws<ArgumentException>(() => EventQueue.WaitAny([], buffer, TimeSpan.Zero));
        Assert.Throws<ArgumentException>(() => EventQueue.WaitAny([a, a], buffer, TimeSpan.Zero));
        Assert.Throws<ArgumentException>(() => EventQueue.WaitAny([a], [], TimeSpan.Zero));
        Assert.Throws<ArgumentOutOfRangeException>(() => EventQueue.WaitAny([a], buffer, TimeSpan.FromMilliseconds(-2)));
        Assert.Throws<ArgumentNullException>(() => EventQueue.WaitAny([a, null!], buffer, TimeSpan.Zero));
    }

    /// <summary>
    /// Two multi-queue waiters and one single-queue waiter per queue share three queues, with short
    /// and infinite timeouts mixed so roles change hands all the time. Each round posts one bit to
    /// every id and waits until the round is taken: a lost message stalls the round, a duplicated
    /// one makes the sum too large.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task MultiAndSingleQueueWaiters_OnTheSameQueues_TakeEveryPostOnce(bool asynchronous)
    {
        // The third queue wakes every sleeper on a post: multi-queue sleepers are woken all at once there.
        EventQueue[] queues = [new(), new(), new(EventQueueWakeMode.Broadcast)];
        const int Rounds = 300;
        CeqId[][] ids = queues.Select(q => Enumerable.Range(0, 16).Select(_ => q.Allocate()).ToArray()).ToArray();
        long takenByMulti = 0, takenBySingle = 0;
        using var stop = new CancellationTokenSource();
        try
        {
            Task[] waiters =
            [
                .. Enumerable.Range(0, 2).Select(w => Task.Factory.StartNew(async () =>
                {
                    var buffer = new EventQueueMessage[w == 0 ? 4 : 32];
                    TimeSpan timeout = w == 0 ? TimeSpan.FromMilliseconds(5) : TimeSpan.FromMilliseconds(200);
                    while (!stop.IsCancellationRequested)
                    {
                        int n = asynchronous
                            ? await EventQueue.WaitAnyAsync(queues, buffer, timeout)
                            : EventQueue.WaitAny(queues, buffer, timeout);
                        for (int i = 0; i < n; i++)
                            Interlocked.Add(ref takenByMulti, buffer[i].Message.Bits);
                    }
                }, TaskCreationOptions.LongRunning).Unwrap()),
                .. queues.Select(q => Task.Factory.StartNew(() =>
                {
                    var buffer = new CeqMessage[8];
                    while (!stop.IsCancellationRequested)
                    {
                        int n = q.Wait(buffer, TimeSpan.FromMilliseconds(20));
                        for (int i = 0; i < n; i++)
                            Interlocked.Add(ref takenBySingle, buffer[i].Bits);
                    }
                }, TaskCreationOptions.LongRunning)),
            ];

            long perRound = ids.Sum(q => q.Length);
            for (int round = 0; round < Rounds; round++)
            {
                for (int q = 0; q < queues.Length; q++)
                {
                    foreach (CeqId id in ids[q])
                        Assert.True(queues[q].Post(id, 1));
                }
                long expected = (round + 1) * perRound;
                Assert.True(
                    SpinWait.SpinUntil(() => Interlocked.Read(ref takenByMulti) + Interlocked.Read(ref takenBySingle) >= expected, Bound),
                    $"round {round}: {takenByMulti + takenBySingle} of {expected} taken");
            }
            stop.Cancel();
            await Task.WhenAll(waiters).WaitAsync(Bound);

            Assert.Equal(Rounds * perRound, takenByMulti + takenBySingle);
            Assert.True(takenByMulti > 0 && takenBySingle > 0, $"multi {takenByMulti}, single {takenBySingle}: both kinds must have taken");
        }
        finally
        {
            stop.Cancel();
            foreach (EventQueue queue in queues)
                queue.Dispose();
        }
    }

    [Fact]
    public void WaitAny_AllocatesNothingPerWait_OnceWarm()
    {
        using var a = new EventQueue();
        using var b = new EventQueue();
        CeqId id = b.Allocate();
        var buffer = new EventQueueMessage[4];
        EventQueue[] queues = [a, b];
        EventQueue.WaitAny(queues, buffer, TimeSpan.FromMilliseconds(1));
        b.Post(id, 1);
        EventQueue.WaitAny(queues, buffer, TimeSpan.Zero);

        int taken = 0;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 200; i++)
        {
            b.Post(id, 1);
            taken += EventQueue.WaitAny(queues, buffer, TimeSpan.Zero);
            // A round that blocks in the helper instance, to its deadline.
            taken += EventQueue.WaitAny(queues, buffer, TimeSpan.FromMilliseconds(1));
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(200, taken);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public async Task WaitAnyAsync_CompletesWhenATapFiresOnAnyQueue()
    {
        using var a = new EventQueue();
        using var b = new EventQueue();
        int fd = Fds.EventFd();
        try
        {
            CeqId id = b.Allocate(userData: 3);
            TapTests.Submit(new TapRequest(fd, TapCommand.Add, TapFilters.FDTAP_FILT_READABLE, b, id));
            var messages = new EventQueueMessage[4];
            ValueTask<int> pending = EventQueue.WaitAnyAsync(new[] { a, b }, messages, Timeout.InfiniteTimeSpan);
            Assert.False(pending.IsCompleted);

            Fds.Signal(fd);

            Assert.Equal(1, await pending.AsTask().WaitAsync(Bound));
            Assert.Equal(1, messages[0].QueueIndex);
            Assert.Equal(3UL, messages[0].Message.UserData);
        }
        finally
        {
            TestLibC.close(fd);
        }
    }

    [Theory]
    [InlineData(30)]
    [InlineData(150)]
    public async Task WaitAnyAsync_WithNothingPosted_ReturnsZeroNeverEarly(int milliseconds)
    {
        using var a = new EventQueue();
        using var b = new EventQueue();
        var clock = Stopwatch.StartNew();

        int taken = await EventQueue.WaitAnyAsync(new[] { a, b }, new EventQueueMessage[1], TimeSpan.FromMilliseconds(milliseconds)).AsTask().WaitAsync(Bound);

        Assert.Equal(0, taken);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(milliseconds), $"returned after {clock.Elapsed.TotalMilliseconds} ms");
    }

    [Fact]
    public async Task WaitAnyAsync_CancelledWhileAsleep_ThrowsAndLeavesMessagesForOthers()
    {
        using var a = new EventQueue();
        using var b = new EventQueue();
        using var cancel = new CancellationTokenSource();
        ValueTask<int> pending = EventQueue.WaitAnyAsync(new[] { a, b }, new EventQueueMessage[1], Timeout.InfiniteTimeSpan, cancel.Token);
        // Its thread is asleep in the kernel (or about to be): only a wake-up can end the wait.
        await Task.Delay(50);
        Assert.False(pending.IsCompleted);

        cancel.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending.AsTask().WaitAsync(Bound));
        CeqId id = b.Allocate();
        Assert.True(b.Post(id, 2));
        var messages = new EventQueueMessage[1];
        Assert.Equal(1, await EventQueue.WaitAnyAsync(new[] { a, b }, messages, Bound).AsTask().WaitAsync(Bound));
        Assert.Equal(2u, messages[0].Message.Bits);
    }

    [Fact]
    public async Task WaitAnyAsync_QueueDisposed_FailsWithObjectDisposed()
    {
        using var a = new EventQueue();
        var b = new EventQueue();
        ValueTask<int> pending = EventQueue.WaitAnyAsync(new[] { a, b }, new EventQueueMessage[1], Timeout.InfiniteTimeSpan);

        b.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => pending.AsTask().WaitAsync(Bound));
    }

    [Fact]
    public async Task WaitAnyAsync_OneAtATime_ReusesOneWaitObject()
    {
        using var a = new EventQueue();
        using var b = new EventQueue();
        CeqId id = a.Allocate();
        EventQueue[] queues = [a, b];
        var buffer = new EventQueueMessage[4];
        await PostWhilePending(20);
        int created = EventQueue.AsyncMultiQueueWaitsCreated;

        int pendingWaits = await PostWhilePending(500);

        Assert.True(pendingWaits > 250, $"only {pendingWaits} of 500 waits were pending when posted to");
        Assert.Equal(created, EventQueue.AsyncMultiQueueWaitsCreated);

        async Task<int> PostWhilePending(int count)
        {
            int pending = 0;
            for (int i = 0; i < count; i++)
            {
                ValueTask<int> wait = EventQueue.WaitAnyAsync(queues, buffer, Timeout.InfiniteTimeSpan);
                if (!wait.IsCompleted)
                    pending++;
                a.Post(id, 1);
                Assert.Equal(1, await wait);
            }
            return pending;
        }
    }

    // Starts WaitAny(infinite) on its own thread, waits until it sleeps in the kernel, runs `act`,
    // and returns what the wait took and how long after `act` it returned.
    private static (EventQueueMessage[] Messages, int Count, TimeSpan Latency) BlockThen(EventQueue[] queues, Action act)
    {
        var messages = new EventQueueMessage[4];
        int tid = 0, count = -1;
        long returned = 0;
        Exception? failure = null;
        var waiter = new Thread(() =>
        {
            Volatile.Write(ref tid, gettid());
            try
            {
                count = EventQueue.WaitAny(queues, messages, Timeout.InfiniteTimeSpan);
                Volatile.Write(ref returned, Stopwatch.GetTimestamp());
            }
            catch (Exception e)
            {
                failure = e;
            }
        }) { IsBackground = true };
        waiter.Start();
        KernelWaits.UntilBlocked(ref tid, Bound);
        long acted = Stopwatch.GetTimestamp();
        act();
        Assert.True(waiter.Join(Bound), "WaitAny was not woken");
        Assert.Null(failure);
        return (messages, count, Stopwatch.GetElapsedTime(acted, Volatile.Read(ref returned)));
    }
}
