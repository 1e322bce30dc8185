using System;
using System.Threading;
using System.Threading.Tasks;

namespace EpollGen.Events;

// Waiting on several event queues at once, as Akaros's uth_blockon_evqs does.
//
// Each queue has its own kernel wait (the epoll instance of its tap backend), and exactly one
// thread at a time may wait in it: the queue's kernel waiter (its "driver"), who dispatches the
// taps. A thread cannot sit in several kernel waits at once, and becoming the kernel waiter of
// only one queue would leave the taps of the others unheard whenever no one else waits on them.
// So a multi-queue waiter owns a helper epoll instance of its own and, for one round of waiting:
//
//   - becomes the kernel waiter of every queue whose role is free, and nests that queue's backend
//     epoll fd in its helper instance: an epoll fd is readable while taps (or a Wake) wait in it,
//     and the waiter dispatches them itself (WaitAndDispatch(0)) once the helper reports them;
//   - registers as a multi-queue sleeper on every queue someone else drives; posts, and a kernel
//     waiter stepping down, wake it through the wake eventfd in its helper instance;
//   - fences, then checks every mailbox (and every queue it sleeps on for a kernel waiter that
//     left) before it sleeps in its helper instance;
//   - and at the end of the round gives every role up again.
//
// That keeps one kernel waiter per queue (only the driver's helper holds a queue's epoll fd), loses
// no wake-up (each registration is followed by a fence and a last look, and each post or
// step-down is followed by a fence and a read of the registrations: Dekker on every queue), and
// wakes no herd (a post wakes the kernel waiter and at most one sleeper of each kind).
public sealed partial class EventQueue
{
    /// <summary>The most queues <see cref="WaitAny"/> waits on at once.</summary>
    public const int MaxWaitAnyQueues = 64;

    private readonly object _multiLock = new();
    private MultiQueueWaiter[] _multiSleepers = [];
    private int _multiSleeperCount;
    private int _nextMultiSleeper;

    /// <summary>
    /// Waits until messages are waiting on any of <paramref name="queues"/> or <paramref name="timeout"/>
    /// passes, and takes up to <paramref name="messages"/>.Length of them, each with the index of its
    /// queue. Returns how many; 0 means the timeout passed. The deadline is on the monotonic clock,
    /// never returns early, and survives signals (EINTR). Queues are visited from a rotating start,
    /// so one busy queue does not starve the others. Waiters on a single queue may wait on the same
    /// queues concurrently; each message goes to one waiter.
    /// </summary>
    /// <param name="queues">One to <see cref="MaxWaitAnyQueues"/> distinct queues.</param>
    /// <param name="messages">Where to put the messages.</param>
    /// <param name="timeout"><see cref="Timeout.InfiniteTimeSpan"/>, zero (poll) or a positive duration.</param>
    /// <exception cref="ObjectDisposedException">One of the queues is or becomes disposed.</exception>
    /// <exception cref="System.ComponentModel.Win32Exception">The helper epoll instance failed (for example, out of file descriptors).</exception>
    public static int WaitAny(ReadOnlySpan<EventQueue> queues, Span<EventQueueMessage> messages, TimeSpan timeout)
    {
        ValidateWaitAny(queues, messages.Length, timeout);
        return WaitAnyCore(queues, messages, Deadline(timeout), MultiQueueWaiter.ForCurrentThread(), default);
    }

    /// <summary>
    /// Waits asynchronously until messages are waiting on any of <paramref name="queues"/>,
    /// <paramref name="timeout"/> passes or <paramref name="cancellationToken"/> is cancelled, and
    /// takes up to <paramref name="messages"/>.Length of them, each with the index of its queue. What
    /// is already waiting is taken on the calling thread. Otherwise a pooled wait thread waits as
    /// <see cref="WaitAny"/> does, one per pending asynchronous multi-queue wait (a thread can sleep
    /// in only one kernel wait, and waits on different sets of queues cannot share one). No
    /// allocation per wait in steady state (the wait objects and their threads are pooled), unless
    /// the token can be cancelled.
    /// </summary>
    /// <param name="queues">One to <see cref="MaxWaitAnyQueues"/> distinct queues; not to be changed until the wait completes.</param>
    /// <param name="messages">Where to put the messages; not to be touched until the wait completes.</param>
    /// <param name="timeout"><see cref="Timeout.InfiniteTimeSpan"/>, zero (poll) or a positive duration.</param>
    /// <param name="cancellationToken">Cancels the wait; messages taken before it was seen win over it.</param>
    /// <returns>How many messages were taken; 0 when the timeout passed.</returns>
    /// <exception cref="OperationCanceledException">The token was cancelled before messages were taken.</exception>
    /// <exception cref="ObjectDisposedException">One of the queues is or becomes disposed.</exception>
    public static ValueTask<int> WaitAnyAsync(ReadOnlyMemory<EventQueue> queues, Memory<EventQueueMessage> messages, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ValidateWaitAny(queues.Span, messages.Length, timeout);
        if (cancellationToken.IsCancellationRequested)
            return ValueTask.FromCanceled<int>(cancellationToken);
        long deadline = Deadline(timeout);
        int taken = WaitAnyCore(queues.Span, messages.Span, Deadline(TimeSpan.Zero), MultiQueueWaiter.ForCurrentThread(), default);
        if (taken > 0 || timeout == TimeSpan.Zero)
            return new ValueTask<int>(taken);
        AsyncMultiQueueWait wait = AsyncMultiQueueWait.Rent();
        return new ValueTask<int>(wait, wait.Start(queues, messages, deadline, cancellationToken));
    }

    /// <summary>Asynchronous multi-queue wait objects (each with its thread) made so far, process-wide.</summary>
    internal static int AsyncMultiQueueWaitsCreated => AsyncMultiQueueWait.Created;

    private static int WaitAnyCore(ReadOnlySpan<EventQueue> queues, Span<EventQueueMessage> messages, long deadline, MultiQueueWaiter waiter, CancellationToken cancellationToken)
    {
        int entered = 0;
        try
        {
            // Entered for the whole wait: Dispose then waits for us before it frees anything we use.
            for (; entered < queues.Length; entered++)
            {
                if (!queues[entered].TryEnter())
                    throw new ObjectDisposedException(nameof(EventQueue));
            }
            return waiter.Wait(queues, messages, deadline, cancellationToken);
        }
        finally
        {
            for (int i = 0; i < entered; i++)
                queues[i].Exit();
        }
    }

    private static void ValidateWaitAny(ReadOnlySpan<EventQueue> queues, int capacity, TimeSpan timeout)
    {
        if (timeout < TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "The timeout must be infinite, zero or positive.");
        if (capacity == 0)
            throw new ArgumentException("The buffer must hold at least one message.", "messages");
        if (queues.IsEmpty || queues.Length > MaxWaitAnyQueues)
            throw new ArgumentException($"Wait on 1 to {MaxWaitAnyQueues} queues.", nameof(queues));
        for (int i = 0; i < queues.Length; i++)
        {
            ArgumentNullException.ThrowIfNull(queues[i], nameof(queues));
            if (queues[i].SingleWaitingThread)
                throw new InvalidOperationException($"Queue {i} has a single waiting thread: a multi-queue wait may wait for it on another thread.");
            // A queue listed twice would try to drive itself and sleep on itself in one round.
            for (int j = 0; j < i; j++)
            {
                if (queues[j] == queues[i])
                    throw new ArgumentException($"Queues {j} and {i} are the same queue.", nameof(queues));
            }
        }
    }

    /// <summary>Multi-queue waits a signal interrupted (EINTR) and that were resumed, process-wide.</summary>
    internal static long InterruptedMultiQueueWaits => MultiQueueWaiter.InterruptedWaits;

    private void AddMultiSleeper(MultiQueueWaiter waiter)
    {
        lock (_multiLock)
        {
            if (_multiSleeperCount == _multiSleepers.Length)
                Array.Resize(ref _multiSleepers, Math.Max(4, _multiSleepers.Length * 2));
            _multiSleepers[_multiSleeperCount] = waiter;
            // Read without the lock by posters; the caller's fence orders it before its last look.
            Volatile.Write(ref _multiSleeperCount, _multiSleeperCount + 1);
        }
    }

    private void RemoveMultiSleeper(MultiQueueWaiter waiter)
    {
        lock (_multiLock)
        {
            int last = _multiSleeperCount - 1;
            int index = Array.IndexOf(_multiSleepers, waiter, 0, _multiSleeperCount);
            _multiSleepers[index] = _multiSleepers[last];
            _multiSleepers[last] = null!;
            // Read without the lock by posters; a stale nonzero count costs them one lock, no more.
            Volatile.Write(ref _multiSleeperCount, last);
        }
    }

    // Wakes one multi-queue sleeper, taken in turn, or all of them; returns how many. The count is
    // read without the lock: the caller fenced after its post or step-down, and a sleeper fences
    // after registering, so a sleeper this read misses is one that sees the post or the step-down.
    private int WakeMultiSleepers(bool all)
    {
        if (Volatile.Read(ref _multiSleeperCount) == 0)
            return 0;
        lock (_multiLock)
        {
            int count = _multiSleeperCount;
            if (count == 0)
                return 0;
            if (all)
            {
                for (int i = 0; i < count; i++)
                    _multiSleepers[i].Wake();
                return count;
            }
            _multiSleepers[(int)((uint)_nextMultiSleeper++ % (uint)count)].Wake();
            return 1;
        }
    }
}
