using System;
using System.Diagnostics;
using System.Threading;
using EpollGen.Taps;

namespace EpollGen.Events;

/// <summary>How many sleeping waiters a post wakes.</summary>
public enum EventQueueWakeMode
{
    /// <summary>One waiter per post: the messages go to whoever takes them first.</summary>
    Exclusive,

    /// <summary>Every sleeping waiter.</summary>
    Broadcast,
}

/// <summary>
/// An event queue: a CEQ mailbox that taps and <see cref="Post"/> fill, and the threads that wait
/// on it. While every waiter is asleep, exactly one of them waits in the kernel for the queue's
/// taps and posts what they report; the others sleep until a post or until the kernel waiter
/// leaves, when one of them takes its place.
/// </summary>
/// <remarks>
/// No wake-up is lost: a waiter registers as a sleeper (or as the kernel waiter) and then checks
/// the mailbox again before it sleeps, and a poster checks for sleepers and the kernel waiter
/// after its post, each side with a full fence between its write and its read.
/// </remarks>
public sealed class EventQueue : IDisposable
{
    private const int DisposedBit = 1 << 30;

    private readonly CoalescingEventQueue _mailbox;
    private readonly EpollTapBackend _backend;
    private readonly SemaphoreSlim _sleep = new(0);
    private readonly EventQueueWakeMode _wakeMode;
    private int _driver;
    private int _inKernel;
    private int _sleepers;
    private int _users;

    /// <summary>Creates a queue with its own mailbox and tap backend.</summary>
    /// <param name="wakeMode">Whether a post wakes one sleeping waiter or all of them.</param>
    /// <param name="ringSize">The mailbox's ring size; see <see cref="CoalescingEventQueue"/>.</param>
    public EventQueue(EventQueueWakeMode wakeMode = EventQueueWakeMode.Exclusive, int ringSize = 1024)
    {
        _wakeMode = wakeMode;
        _mailbox = new CoalescingEventQueue(CeqOperation.Or, ringSize);
        try
        {
            _backend = new EpollTapBackend(_mailbox);
        }
        catch
        {
            _mailbox.Dispose();
            throw;
        }
    }

    /// <summary>Whether a post wakes one sleeping waiter or all of them.</summary>
    public EventQueueWakeMode WakeMode => _wakeMode;

    /// <summary>The queue's mailbox, for its counters and ids.</summary>
    public CoalescingEventQueue Mailbox => _mailbox;

    /// <summary>Kernel waits of this queue that a signal interrupted and that were resumed.</summary>
    internal long InterruptedWaits => _backend.InterruptedWaits;

    /// <summary>Allocates an id to tap or post with.</summary>
    public CeqId Allocate(ulong userData = 0) => _mailbox.Allocate(userData);

    /// <summary>Frees an id; its untaken bits are dropped. Remove its taps first.</summary>
    public bool Free(CeqId id) => _mailbox.Free(id);

    /// <summary>
    /// Posts <paramref name="bits"/> to <paramref name="id"/> and wakes a waiter (or all, for a
    /// broadcast queue). Returns false, changing nothing, for a stale id or a disposed queue.
    /// </summary>
    public bool Post(CeqId id, uint bits)
    {
        if (!TryEnter())
            return false;
        try
        {
            if (!_mailbox.Post(id, bits))
                return false;
            Notify();
            return true;
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>
    /// Waits until messages are waiting or <paramref name="timeout"/> passes, and takes up to
    /// <paramref name="messages"/>.Length of them. Returns how many; 0 means the timeout passed.
    /// The deadline is on the monotonic clock, never returns early, and survives signals (EINTR).
    /// </summary>
    /// <param name="messages">Where to put the messages.</param>
    /// <param name="timeout"><see cref="Timeout.InfiniteTimeSpan"/>, zero (poll) or a positive duration.</param>
    /// <exception cref="ObjectDisposedException">The queue is or becomes disposed.</exception>
    public int Wait(Span<CeqMessage> messages, TimeSpan timeout)
    {
        if (timeout < TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "The timeout must be infinite, zero or positive.");
        if (messages.IsEmpty)
            throw new ArgumentException("The buffer must hold at least one message.", nameof(messages));
        long deadline = timeout == Timeout.InfiniteTimeSpan
            ? long.MaxValue
            : Stopwatch.GetTimestamp() + (long)Math.Min(timeout.TotalSeconds * Stopwatch.Frequency, long.MaxValue / 2);
        if (!TryEnter())
            throw new ObjectDisposedException(nameof(EventQueue));
        try
        {
            while (true)
            {
                ThrowIfDisposed();
                int taken = _mailbox.TryTake(messages);
                if (taken > 0)
                {
                    PassOn();
                    return taken;
                }
                if (!_mailbox.IsEmpty)
                {
                    // Another consumer is running the recovery scan; it never blocks, so yield.
                    Thread.Yield();
                    continue;
                }
                long remaining = deadline - Stopwatch.GetTimestamp();
                if (Interlocked.CompareExchange(ref _driver, 1, 0) == 0)
                    Drive(remaining, deadline == long.MaxValue);
                else if (remaining <= 0)
                    return 0;
                else
                    Sleep(remaining, deadline == long.MaxValue);
                if (remaining <= 0 && _mailbox.IsEmpty)
                    return 0;
            }
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>
    /// Disposes the queue: its taps stop, waiters wake with <see cref="ObjectDisposedException"/>,
    /// and posts return false. Waits for calls in flight to leave before freeing native memory.
    /// </summary>
    public void Dispose()
    {
        int users = Interlocked.Or(ref _users, DisposedBit);
        if ((users & DisposedBit) != 0)
            return;
        var spin = new SpinWait();
        while ((Volatile.Read(ref _users) & ~DisposedBit) != 0)
        {
            _backend.Wake();
            _sleep.Release(Math.Max(1, Volatile.Read(ref _sleepers)));
            spin.SpinOnce();
        }
        _backend.Dispose();
        _mailbox.Dispose();
        _sleep.Dispose();
    }

    internal int Tap(in TapRequest request)
    {
        if (!TryEnter())
            return Native.LibC.EBADF;
        try
        {
            int error = _backend.Apply(request);
            if (error == 0 && !_mailbox.IsEmpty)
                Notify();
            return error;
        }
        finally
        {
            Exit();
        }
    }

    // The kernel waiter: waits for the queue's taps until the deadline, a post, or a signal.
    private void Drive(long remaining, bool infinite)
    {
        try
        {
            Volatile.Write(ref _inKernel, 1);
            // Store-load fence: a poster that missed _inKernel is one whose post this check sees.
            Interlocked.MemoryBarrier();
            int timeoutMs = !_mailbox.IsEmpty || IsDisposed ? 0 : infinite ? -1 : Milliseconds(remaining);
            _backend.WaitAndDispatch(timeoutMs);
        }
        finally
        {
            Volatile.Write(ref _inKernel, 0);
            // A full fence between giving up the role and reading _sleepers (Dekker with Sleep,
            // which increments _sleepers and then reads _driver): one of the two sees the other,
            // so no thread sleeps while nobody waits in the kernel.
            Interlocked.Exchange(ref _driver, 0);
            // Someone must wait in the kernel in our place if others sleep; they re-check.
            if (Volatile.Read(ref _sleepers) > 0)
                _sleep.Release();
        }
    }

    private void Sleep(long remaining, bool infinite)
    {
        Interlocked.Increment(ref _sleepers);
        try
        {
            // Registered first, checked second: a post or a driver leaving after this point sees
            // us in _sleepers and releases the semaphore.
            if (!_mailbox.IsEmpty || Volatile.Read(ref _driver) == 0 || IsDisposed)
                return;
            _sleep.Wait(infinite ? Timeout.Infinite : Milliseconds(remaining));
        }
        finally
        {
            Interlocked.Decrement(ref _sleepers);
        }
    }

    // After a post: wake the kernel waiter, and sleepers as the wake mode says.
    private void Notify()
    {
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _inKernel) != 0)
            _backend.Wake();
        int sleepers = Volatile.Read(ref _sleepers);
        if (sleepers > 0)
            _sleep.Release(_wakeMode == EventQueueWakeMode.Broadcast ? sleepers : 1);
    }

    // A waiter that took messages (perhaps ones it posted itself from the kernel) leaves the rest
    // to sleepers, as the wake mode says.
    private void PassOn()
    {
        int sleepers = Volatile.Read(ref _sleepers);
        if (sleepers > 0 && !_mailbox.IsEmpty)
            _sleep.Release(_wakeMode == EventQueueWakeMode.Broadcast ? sleepers : 1);
    }

    // Rounded up: a kernel wait never ends before the deadline.
    private static int Milliseconds(long ticks)
    {
        if (ticks <= 0)
            return 0;
        double ms = Math.Ceiling(ticks * 1000.0 / Stopwatch.Frequency);
        return ms >= int.MaxValue ? int.MaxValue : (int)ms;
    }

    private bool IsDisposed => (Volatile.Read(ref _users) & DisposedBit) != 0;

    private void ThrowIfDisposed()
    {
        if (IsDisposed)
            throw new ObjectDisposedException(nameof(EventQueue));
    }

    private bool TryEnter()
    {
        if ((Interlocked.Increment(ref _users) & DisposedBit) == 0)
            return true;
        Interlocked.Decrement(ref _users);
        return false;
    }

    private void Exit() => Interlocked.Decrement(ref _users);
}
