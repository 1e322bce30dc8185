using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using System.Threading.Tasks.Sources;
using EpollGen.Diagnostics;
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
/// on it. While every waiter is asleep, one of them (the driver) waits in the kernel for the
/// queue's taps and posts what they report. Where the backend allows several kernel waits at once
/// (kernel epoll) the other synchronous waiters wait there too, beside it, and the kernel wakes
/// them one at a time as it wakes raw epoll's; elsewhere (io_uring) they sleep in the kernel on a
/// <see cref="Parker"/> of their own until a post or until the driver leaves, when one of them
/// takes its place.
/// </summary>
/// <remarks>
/// <para>
/// Every waiter is a waiter in its own right, as in Linux's epoll_wait: a signal to its thread
/// ends its sleep (EINTR, which interruptible waits return), a signal mask it passes is installed
/// atomically with whichever kernel wait it makes, and a wait whose deadline passes takes one last
/// look at the taps before it returns empty: as the driver if the role is free, else alongside the
/// driver where the backend allows it (kernel epoll).
/// </para>
/// <para>
/// No wake-up is lost: a waiter registers as a sleeper (or as the driver) and then checks the
/// mailbox again before it sleeps, and a poster checks for sleepers and the driver after its
/// post, each side with a full fence between its write and its read. A waiter that was chosen by
/// a wake-up and leaves without taking anything hands it on.
/// </para>
/// </remarks>
public sealed partial class EventQueue : IDisposable
{
    private const int DisposedBit = 1 << 30;

    // Set when a signal interrupted this thread's kernel wait; read by interruptible waits.
    [ThreadStatic]
    private static bool t_interrupted;

    // At most how many kernel events this thread's kernel waits harvest (0: the backend's batch).
    [ThreadStatic]
    private static int t_harvestLimit;

    // The signal mask (a sigset_t*) this thread's kernel waits install atomically, or null.
    [ThreadStatic]
    private static unsafe void* t_signalMask;

    private readonly CoalescingEventQueue _mailbox;
    private readonly ITapBackend _backend;
    // The sleeping waiters' parkers, oldest first, and their count (read without the lock).
    private readonly object _parkLock = new();
    private readonly List<Parker> _parked = [];
    private readonly EventQueueWakeMode _wakeMode;
    // With singleWaitingThread: the thread of the first wait, the only one that may wait.
    private readonly bool _singleWaitingThread;
    private Thread? _waitingThread;
    private int _sleepers;
    // The counters every waiting thread writes on every wait, apart from the fields it only reads.
    private HotCounters _hot;

    // Asynchronous waiters, served in order by the one of the process's engines the queue was given.
    private readonly object _asyncLock = new();
    private readonly Queue<AsyncWaiter> _asyncWaiters = new();
    private readonly Stack<AsyncWaiter> _waiterPool = new();
    private AsyncEngine? _asyncEngine;

    /// <summary>Set while the queue waits in its engine's requests; see <see cref="AsyncEngine.Request"/>.</summary>
    internal int EngineRequested;

    /// <summary>The queue's slot in its engine (the engine's thread only), or -1.</summary>
    internal int EngineSlot = -1;
    private int _asyncCount;

    // Tests only, null otherwise: WaitAsync calls it once its waiter is in the queue, where the
    // engine can complete it, so a test can complete the wait at exactly that point.
    internal Action<ValueTask<int>>? AfterAsyncWaiterQueued;

    // Tests only, null otherwise: a cancellation that found the wait claimed by the engine calls it
    // before it asks the engine to honour it, so a test can widen the window in which the engine
    // lets go of the wait.
    internal Action? AfterCancelReadClaimed;

    /// <summary>Creates a queue with its own mailbox and tap backend.</summary>
    /// <param name="wakeMode">Whether a post wakes one sleeping waiter or all of them.</param>
    /// <param name="ringSize">The mailbox's ring size; see <see cref="CoalescingEventQueue"/>.</param>
    /// <param name="tapBackend">
    /// The kernel mechanism behind the queue's taps. Null picks the default: the value of the
    /// <c>EPOLLGEN_TAP_BACKEND</c> environment variable (<c>epoll</c> or <c>io_uring</c>) when set,
    /// otherwise <see cref="TapBackendKind.IoUring"/> where the kernel allows io_uring and
    /// <see cref="TapBackendKind.Epoll"/> where it does not. <see cref="TapBackend"/> reports the choice.
    /// </param>
    /// <param name="singleWaitingThread">
    /// Only one thread ever waits on the queue, the thread of its first wait (an event loop's
    /// thread); other threads may still tap, post and dispose. A synchronous wait from any other
    /// thread throws <see cref="InvalidOperationException"/>, and <see cref="WaitAsync"/> and the
    /// multi-queue waits, which wait on other threads, are refused. In return the io_uring backend
    /// creates its ring on that thread with <c>IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN</c>
    /// (Linux 6.1 and later): the kernel runs the polls' completion work inside that thread's own
    /// waits rather than interrupting it to run it. The kernel-epoll backend only enforces the rule.
    /// </param>
    /// <exception cref="NotSupportedException">io_uring was requested (here or by the environment) and is not usable; the message says why.</exception>
    /// <exception cref="ArgumentException"><c>EPOLLGEN_TAP_BACKEND</c> names no backend.</exception>
    public EventQueue(EventQueueWakeMode wakeMode = EventQueueWakeMode.Exclusive, int ringSize = 1024, TapBackendKind? tapBackend = null, bool singleWaitingThread = false)
        : this(mailbox => TapBackendSelection.Create(tapBackend, mailbox, singleWaitingThread), wakeMode, ringSize, singleWaitingThread)
    {
    }

    /// <summary>
    /// Creates a queue whose tap backend <paramref name="createBackend"/> makes for its mailbox: an
    /// epoll set's readiness object picks the backend and keeps it with its own type.
    /// </summary>
    internal EventQueue(Func<CoalescingEventQueue, ITapBackend> createBackend, EventQueueWakeMode wakeMode = EventQueueWakeMode.Exclusive, int ringSize = 1024, bool singleWaitingThread = false)
    {
        _wakeMode = wakeMode;
        _singleWaitingThread = singleWaitingThread;
        _mailbox = new CoalescingEventQueue(CeqOperation.Or, ringSize);
        try
        {
            _backend = createBackend(_mailbox);
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

    /// <summary>The kernel mechanism behind this queue's taps.</summary>
    public TapBackendKind TapBackend => _backend.Kind;

    /// <summary>Kernel waits of this queue that a signal interrupted and that were resumed.</summary>
    internal long InterruptedWaits => _backend.InterruptedWaits;

    /// <summary>
    /// An fd that poll(2) reports readable while the queue's taps hold readiness no waiter has
    /// collected yet (see <see cref="ITapBackend.PollFd"/>); owned by the queue.
    /// </summary>
    internal int TapPollFd => _backend.PollFd;

    /// <summary>The tap backend, for an epoll set's handling of closed fds.</summary>
    internal ITapBackend Backend => _backend;

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
    public unsafe int Wait(Span<CeqMessage> messages, TimeSpan timeout)
    {
        if (timeout < TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "The timeout must be infinite, zero or positive.");
        if (messages.IsEmpty)
            throw new ArgumentException("The buffer must hold at least one message.", nameof(messages));
        return Wait(messages, Deadline(timeout), interruptible: false);
    }

    /// <summary>
    /// <see cref="Wait(Span{CeqMessage}, TimeSpan)"/> with a deadline in <see cref="Stopwatch"/>
    /// ticks (<see cref="long.MaxValue"/>: none). When <paramref name="interruptible"/>, a signal that
    /// interrupts this thread's kernel wait ends the wait: it returns -1 if it took nothing.
    /// </summary>
    /// <remarks>
    /// A positive <paramref name="harvestLimit"/> bounds how many kernel events each kernel wait
    /// takes; the rest stay queued in the kernel, as epoll_wait's maxevents leaves them. A
    /// <paramref name="signalMask"/> is installed atomically with this thread's kernel waits, as
    /// epoll_pwait does; a thread that sleeps while another waits in the kernel keeps its own mask.
    /// </remarks>
    internal unsafe int Wait(Span<CeqMessage> messages, long deadline, bool interruptible, int harvestLimit = 0, void* signalMask = null)
    {
        if (_singleWaitingThread)
            ClaimWaitingThread();
        if (!TryEnter())
            throw new ObjectDisposedException(nameof(EventQueue));
        try
        {
            t_interrupted = false;
            t_harvestLimit = harvestLimit;
            t_signalMask = signalMask;
            while (true)
            {
                ThrowIfDisposed();
                int taken = _mailbox.TryTake(messages);
                if (taken > 0)
                {
                    PassOn();
                    return taken;
                }
                if (interruptible && t_interrupted)
                {
                    HandOff();
                    return -1;
                }
                if (!WaitForWork(deadline))
                {
                    HandOff();
                    return 0;
                }
            }
        }
        finally
        {
            t_harvestLimit = 0;
            t_signalMask = null;
            Exit();
        }
    }


    /// <summary>
    /// Waits asynchronously until messages are waiting, <paramref name="timeout"/> passes or
    /// <paramref name="cancellationToken"/> is cancelled, and takes up to <paramref name="messages"/>.Length
    /// of them. The process's async engines (a few threads for every queue) wait on behalf of every
    /// asynchronous waiter; a queue's waiters are served in order. No allocation per wait in steady
    /// state (the wait objects are pooled), unless the token can be cancelled.
    /// </summary>
    /// <returns>How many messages were taken; 0 when the timeout passed.</returns>
    /// <exception cref="OperationCanceledException">The token was cancelled before messages were taken.</exception>
    /// <exception cref="ObjectDisposedException">The queue is or becomes disposed.</exception>
    public ValueTask<int> WaitAsync(Memory<CeqMessage> messages, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        if (timeout < TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "The timeout must be infinite, zero or positive.");
        if (messages.IsEmpty)
            throw new ArgumentException("The buffer must hold at least one message.", nameof(messages));
        if (_singleWaitingThread)
            throw new InvalidOperationException("A queue with a single waiting thread has no asynchronous waits: they are served by another thread.");
        if (cancellationToken.IsCancellationRequested)
            return ValueTask.FromCanceled<int>(cancellationToken);
        // Messages already waiting, or a poll: answered on the calling thread.
        int taken = Wait(messages.Span, TimeSpan.Zero);
        if (taken > 0 || timeout == TimeSpan.Zero)
            return new ValueTask<int>(taken);

        // Chosen (and started, the first time) before the waiter is queued, so a failure to start
        // an engine throws from here with nothing queued.
        AsyncEngine engine = Volatile.Read(ref _asyncEngine) ?? AsyncEngine.Assign();
        AsyncWaiter waiter = RentWaiter();
        // Registers the token before the engine can reach the waiter: whoever completes the wait
        // then finds the registration to remove.
        var wait = new ValueTask<int>(waiter, waiter.Start(messages, Deadline(timeout), cancellationToken));
        waiter.HoldsTakes = _mailbox.HoldsTakesHere;
        bool disposed;
        lock (_asyncLock)
        {
            disposed = IsDisposed;
            if (!disposed)
            {
                waiter.Hold();
                _asyncWaiters.Enqueue(waiter);
                Volatile.Write(ref _asyncCount, _asyncWaiters.Count);
                _asyncEngine ??= engine;
            }
        }
        if (disposed)
        {
            // Unless its token was cancelled first, the wait ends as the queue's other waits do.
            if (Interlocked.CompareExchange(ref waiter.State, AsyncWaiter.Claimed, AsyncWaiter.Pending) == AsyncWaiter.Pending)
                waiter.Fail(new ObjectDisposedException(nameof(EventQueue)));
            return wait;
        }
        AfterAsyncWaiterQueued?.Invoke(wait);
        RequestEngine();
        return wait;
    }

    /// <summary>
    /// Disposes the queue: its taps stop, waiters wake with <see cref="ObjectDisposedException"/>,
    /// and posts return false. Waits for calls in flight to leave before freeing native memory.
    /// </summary>
    public void Dispose()
    {
        int users = Interlocked.Or(ref _hot.Users, DisposedBit);
        if ((users & DisposedBit) != 0)
            return;
        var spin = new SpinWait();
        while ((Volatile.Read(ref _hot.Users) & ~DisposedBit) != 0)
        {
            _backend.Wake();
            WakeParked(all: true);
            WakeMultiSleepers(all: true);
            spin.SpinOnce();
        }
        FailAll(new ObjectDisposedException(nameof(EventQueue)));
        _backend.Dispose();
        _mailbox.Dispose();
        // The engine lets go of the queue at its next serving, which finds it disposed.
        AsyncEngine? engine;
        lock (_asyncLock)
            engine = _asyncEngine;
        engine?.Request(this);
    }

    internal int Tap(in TapRequest request)
    {
        if (!TryEnter())
            return Native.LibC.EBADF;
        try
        {
            return _backend.Apply(request);
        }
        finally
        {
            Exit();
        }
    }

    private static long Deadline(TimeSpan timeout) => timeout == Timeout.InfiniteTimeSpan
        ? long.MaxValue
        : Stopwatch.GetTimestamp() + (long)Math.Min(timeout.TotalSeconds * Stopwatch.Frequency, long.MaxValue / 2);

    // Blocks until the mailbox may hold messages or the deadline passes, waiting in the kernel for
    // the taps if no one else does. False once the deadline has passed and a last look at the taps
    // found nothing: a wait never ends empty on a deadline alone while the taps hold readiness.
    private bool WaitForWork(long deadline)
    {
        if (!_mailbox.IsEmpty)
        {
            // Another consumer is running the recovery scan; it never blocks, so yield.
            Thread.Yield();
            return true;
        }
        bool expired = Remaining(deadline) <= 0;
        // A harvest that posted may have been taken by another waiter before this one looked (the
        // CEQ merges the same id's posts): the caller looks again, and harvests again if it must.
        if (Interlocked.CompareExchange(ref _hot.Driver, 1, 0) == 0)
            return Drive(deadline) || !expired || !_mailbox.IsEmpty;
        // Broadcast queues park their waiters instead: a wake-up through the kernel reaches one.
        if (_backend.AllowsConcurrentWaits && _wakeMode == EventQueueWakeMode.Exclusive)
            return CoDrive(deadline) || !expired || !_mailbox.IsEmpty;
        if (expired)
            return !_mailbox.IsEmpty;
        Sleep(deadline);
        return true;
    }

    // The kernel waiter: waits for the queue's taps until the deadline, a post, or a signal.
    // Returns whether it posted a tap's bits.
    private bool Drive(long deadline)
    {
        try
        {
            return WaitInKernel(deadline);
        }
        finally
        {
            StepDown();
        }
    }

    // A kernel wait beside the driver, where the backend allows several (kernel epoll): every
    // synchronous waiter sleeps in the kernel's own wait, woken one at a time by the kernel as raw
    // epoll's waiters are, with its own signal mask; an expired one makes its last look so. A
    // wake-up this wait consumes has done its work: it followed a post, which this waiter takes
    // next, or a disposal, which this waiter sees. Returns whether it posted a tap's bits.
    private bool CoDrive(long deadline)
    {
        try
        {
            return WaitInKernel(deadline);
        }
        finally
        {
            Interlocked.Decrement(ref _hot.InKernel);
        }
    }

    // One kernel wait for the taps, counted in InKernel (the caller uncounts it), with this
    // thread's harvest limit and signal mask. Returns whether it posted a tap's bits.
    private unsafe bool WaitInKernel(long deadline)
    {
        // Full fence: a poster that missed InKernel is one whose post this check sees.
        Interlocked.Increment(ref _hot.InKernel);
        long remaining = Remaining(deadline);
        int timeoutMs = !_mailbox.IsEmpty || IsDisposed || remaining <= 0 ? 0
            : deadline == long.MaxValue ? -1 : Milliseconds(remaining);
        TapWaitResult result = _backend.WaitAndDispatch(timeoutMs, t_harvestLimit, t_signalMask);
        bool posted = (result & TapWaitResult.Posted) != 0;
        if ((result & TapWaitResult.Interrupted) != 0)
            t_interrupted = true;
        else if (timeoutMs != 0 && posted)
            CountTapWakeup();
        return posted;
    }

    // The kernel waiter gives up its role (Drive, or a thread waiting on several queues).
    private void StepDown()
    {
        Interlocked.Decrement(ref _hot.InKernel);
        // A full fence between giving up the role and reading _sleepers and the multi-queue
        // sleepers (Dekker with Sleep and with WaitAny's registration, which register and then
        // read Driver): one of the two sees the other, so no one sleeps while nobody waits in the kernel.
        Interlocked.Exchange(ref _hot.Driver, 0);
        // Someone must wait in the kernel in our place if others sleep; they re-check. One of each
        // kind: a thread sleeper chosen here that leaves without taking the role hands it on
        // (HandOff), and a parker cannot reach a thread that sleeps on its own helper epoll instance.
        WakeParked(all: false);
        WakeMultiSleepers(all: false);
        if (Volatile.Read(ref _asyncCount) > 0)
            RequestEngine();
    }

    // A kernel wait that blocked ended with tap posts: a tap woke the kernel waiter.
    private static void CountTapWakeup()
    {
        if (EpollGenMetrics.QueueWakeups.Enabled)
            EpollGenMetrics.QueueWakeups.Add(1);
    }

    // Sleeps on this thread's parker until a post, the driver stepping down, the deadline or a
    // signal (which marks the wait interrupted).
    private unsafe void Sleep(long deadline)
    {
        Parker parker = Parker.Current;
        lock (_parkLock)
        {
            parker.Chosen = false;
            _parked.Add(parker);
            Volatile.Write(ref _sleepers, _parked.Count);
        }
        // Store-load fence (a lock's release is not one): registered first, checked second, so a
        // post or a driver leaving after this point sees us in _sleepers and unparks us.
        Interlocked.MemoryBarrier();
        Parker.Outcome outcome = Parker.Outcome.Woken;
        if (_mailbox.IsEmpty && Volatile.Read(ref _hot.Driver) != 0 && !IsDisposed)
            outcome = parker.Park(deadline, t_signalMask);
        lock (_parkLock)
        {
            if (!parker.Chosen)
            {
                _parked.Remove(parker);
                Volatile.Write(ref _sleepers, _parked.Count);
            }
        }
        if (outcome == Parker.Outcome.Interrupted)
            t_interrupted = true;
    }

    // Unparks the oldest sleeper (or all); returns how many. A chosen sleeper leaves the list at
    // once, so each wake-up reaches a different one.
    private int WakeParked(bool all)
    {
        if (Volatile.Read(ref _sleepers) == 0)
            return 0;
        Parker? chosen = null;
        int woken = 0;
        lock (_parkLock)
        {
            while (_parked.Count > 0 && (all || woken == 0))
            {
                chosen = _parked[0];
                _parked.RemoveAt(0);
                chosen.Chosen = true;
                woken++;
                // All: unparked under the lock, one write each (broadcast queues and disposal).
                if (all)
                    chosen.Unpark();
            }
            Volatile.Write(ref _sleepers, _parked.Count);
        }
        if (!all)
            chosen?.Unpark();
        return woken;
    }

    // A waiter leaving without messages (its deadline passed, or a signal) may have been the one a
    // post or a step-down chose: what waits goes to the sleepers, and if no one drives while
    // others sleep, one of them is woken to take the role.
    private void HandOff()
    {
        // Full fence: this waiter's last look is before the reads of the roles below.
        Interlocked.MemoryBarrier();
        if (IsDisposed)
            return;
        if (!_mailbox.IsEmpty)
            PassOn();
        else if (Volatile.Read(ref _hot.Driver) == 0)
            WakeSleepers();
    }

    // After a post: wake the kernel waiter, and sleepers as the wake mode says.
    private void Notify()
    {
        // Store-load fence: the post is visible before the reads of the waiters' registrations,
        // which each waiter writes before its own fence and last check of the mailbox.
        Interlocked.MemoryBarrier();
        int woken = 0;
        if (Volatile.Read(ref _hot.InKernel) != 0)
        {
            _backend.Wake();
            woken++;
        }
        woken += WakeSleepers();
        if (Volatile.Read(ref _asyncCount) > 0)
        {
            RequestEngine();
            woken++;
        }
        if (woken > 0 && EpollGenMetrics.QueueWakeups.Enabled)
            EpollGenMetrics.QueueWakeups.Add(woken);
    }

    // A waiter that took messages (perhaps ones it posted itself from the kernel) leaves the rest
    // to sleepers, as the wake mode says.
    private void PassOn()
    {
        if (_mailbox.IsEmpty)
            return;
        // With no one asleep, a thread in the kernel's wait comes out to take them.
        if (WakeSleepers() == 0 && Volatile.Read(ref _hot.InKernel) != 0)
            _backend.Wake();
        if (Volatile.Read(ref _asyncCount) > 0)
            RequestEngine();
    }

    // Wakes one sleeping thread and one thread waiting on several queues (for a broadcast queue,
    // all of them); returns how many. One of each kind, never all: a thread sleeper and a
    // multi-queue sleeper are woken differently, and either may leave without taking.
    private int WakeSleepers()
    {
        bool all = _wakeMode == EventQueueWakeMode.Broadcast;
        return WakeParked(all) + WakeMultiSleepers(all);
    }

    // Asks the queue's engine to serve its asynchronous waiters; not the engine's own thread while
    // it serves this queue, whose loop goes on until nothing is left to do.
    private void RequestEngine()
    {
        if (AsyncEngine.IsServing(this))
            return;
        AsyncEngine? engine = Volatile.Read(ref _asyncEngine);
        engine?.Request(this);
    }

    /// <summary>
    /// Serves the asynchronous waiters on the engine's thread, oldest first, without blocking: takes
    /// what the mailbox holds for them, looks at the taps once (as the driver, or beside it where
    /// the backend allows), gives 0 to those whose time is up and honours cancellations; then tells
    /// the engine whether waiters remain, their earliest deadline, and whether to watch the queue's
    /// fd (not while another thread drives taps only one may drive: its posts and its step-down
    /// ask for the engine instead).
    /// </summary>
    internal void ServeAsyncWaiters(AsyncEngine engine)
    {
        if (!TryEnter())
        {
            FailAll(new ObjectDisposedException(nameof(EventQueue)));
            engine.Forget(this);
            return;
        }
        AsyncEngine.BeginServing(this);
        try
        {
            bool looked = false, watch = true;
            while (true)
            {
                AsyncWaiter? head = NextAsyncWaiter(out long deadline);
                if (head is null)
                {
                    // A look at the taps may have consumed a wake-up that followed a post for a
                    // synchronous waiter, which then sleeps on: what is left goes on to one.
                    if (looked && !_mailbox.IsEmpty)
                        PassOn();
                    engine.Watch(this, waiting: false, deadline, rearm: false);
                    return;
                }
                if (TryServe(head, mayExpire: looked))
                    continue;
                if (!looked)
                {
                    looked = true;
                    if (Interlocked.CompareExchange(ref _hot.Driver, 1, 0) == 0)
                        Drive(0);
                    else if (_backend.AllowsConcurrentWaits)
                        CoDrive(0);
                    else
                        watch = false;
                    continue;
                }
                engine.Watch(this, waiting: true, deadline, watch);
                return;
            }
        }
        finally
        {
            AsyncEngine.EndServing();
            Exit();
        }
    }

    // The oldest pending waiter (done ones leave), and the earliest deadline of those pending.
    // Waiters behind the head whose time is up get 0 now while the mailbox is empty; they leave the
    // queue when they reach its head. The head is answered by TryServe, which may still find messages.
    private AsyncWaiter? NextAsyncWaiter(out long deadline)
    {
        deadline = long.MaxValue;
        lock (_asyncLock)
        {
            AsyncWaiter? head;
            while (_asyncWaiters.TryPeek(out head) && Volatile.Read(ref head.State) == AsyncWaiter.Done)
                Drop();
            long now = Stopwatch.GetTimestamp();
            foreach (AsyncWaiter waiter in _asyncWaiters)
            {
                if (waiter != head && waiter.Deadline <= now && _mailbox.IsEmpty
                    && Interlocked.CompareExchange(ref waiter.State, AsyncWaiter.Claimed, AsyncWaiter.Pending) == AsyncWaiter.Pending)
                    waiter.Complete(0);
                else if (Volatile.Read(ref waiter.State) == AsyncWaiter.Pending)
                    deadline = Math.Min(deadline, waiter.Deadline);
            }
            Volatile.Write(ref _asyncCount, _asyncWaiters.Count);
            return head;
        }
    }

    // Completes the head waiter if the mailbox holds messages, it was cancelled, or its time is up
    // and the taps have had their last look (mayExpire); false when it still waits.
    private bool TryServe(AsyncWaiter head, bool mayExpire)
    {
        // Claimed before its buffer is filled, so a cancellation cannot win after messages were taken.
        if (Interlocked.CompareExchange(ref head.State, AsyncWaiter.Claimed, AsyncWaiter.Pending) != AsyncWaiter.Pending)
            return true;
        // A held take's hold goes with the messages to the thread that reads the result.
        long hold = head.HoldsTakes ? _mailbox.EnterIdHold() : -1;
        int taken = _mailbox.TryTake(head.Buffer.Span);
        if (hold >= 0 && taken == 0)
            _mailbox.ExitIdHold(hold);
        head.TakeHold = taken > 0 ? hold : -1;
        bool expired = mayExpire && taken == 0 && _mailbox.IsEmpty && Stopwatch.GetTimestamp() >= head.Deadline;
        if (taken > 0 || expired)
        {
            // Dropped before it completes: its consumer's hold, let go once the result is read,
            // keeps the waiter out of the pool until then.
            lock (_asyncLock)
                Drop();
            head.Complete(taken);
            PassOn();
            return true;
        }
        // Unclaimed, unless a cancellation arrived while we held the claim: then it is honoured now.
        if (Interlocked.CompareExchange(ref head.State, AsyncWaiter.Pending, AsyncWaiter.Claimed) == AsyncWaiter.CancelRequested)
        {
            lock (_asyncLock)
                Drop();
            head.Fail(new OperationCanceledException(head.CancellationToken));
            return true;
        }
        return false;
    }

    // Removes the head waiter and lets go of the queue's hold on it; the caller holds _asyncLock.
    private void Drop()
    {
        _asyncWaiters.Dequeue().Release();
        Volatile.Write(ref _asyncCount, _asyncWaiters.Count);
    }

    /// <summary>Fails every asynchronous waiter with <paramref name="error"/> (an engine that could not serve them).</summary>
    internal void FailAsyncWaiters(Exception error) => FailAll(error);

    private void FailAll(Exception error)
    {
        lock (_asyncLock)
        {
            while (_asyncWaiters.TryDequeue(out AsyncWaiter? waiter))
            {
                if (Interlocked.CompareExchange(ref waiter.State, AsyncWaiter.Claimed, AsyncWaiter.Pending) == AsyncWaiter.Pending)
                    waiter.Fail(error);
                waiter.Release();
            }
            Volatile.Write(ref _asyncCount, 0);
        }
    }

    /// <summary>Wait objects this queue has created; the pool keeps it at the most ever in use at once.</summary>
    internal int AsyncWaitersCreated { get; private set; }

    private AsyncWaiter RentWaiter()
    {
        lock (_asyncLock)
        {
            if (_waiterPool.TryPop(out AsyncWaiter? waiter))
                return waiter;
            AsyncWaitersCreated++;
            return new AsyncWaiter(this);
        }
    }

    private void ReturnWaiter(AsyncWaiter waiter)
    {
        lock (_asyncLock)
            _waiterPool.Push(waiter);
    }

    /// <summary>
    /// One asynchronous wait, pooled: it goes back to the pool when nothing can reach it any more.
    /// Its consumer (until it reads the result), the queue (until the engine drops it) and its
    /// token's registration (until the callback has run or is removed) each hold it.
    /// </summary>
    private sealed class AsyncWaiter(EventQueue queue) : IValueTaskSource<int>
    {
        public const int Pending = 0;
        public const int Claimed = 1;
        public const int Done = 2;
        public const int CancelRequested = 3;

        private ManualResetValueTaskSourceCore<int> _core = new() { RunContinuationsAsynchronously = true };
        private CancellationTokenRegistration _registration;
        private int _holds;

        public int State;

        public bool HoldsTakes;

        public long TakeHold = -1;

        public Memory<CeqMessage> Buffer { get; private set; }

        public long Deadline { get; private set; }

        public CancellationToken CancellationToken { get; private set; }

        // Starts a wait held by its consumer, and by its token if it can be cancelled, and returns
        // the wait's version. No one else can reach the waiter yet.
        public short Start(Memory<CeqMessage> buffer, long deadline, CancellationToken cancellationToken)
        {
            Buffer = buffer;
            Deadline = deadline;
            CancellationToken = cancellationToken;
            State = Pending;
            _holds = 1;
            if (cancellationToken.CanBeCanceled)
            {
                // Held before the callback can run (at once, if the token was cancelled meanwhile).
                Interlocked.Increment(ref _holds);
                _registration = cancellationToken.UnsafeRegister(static state => ((AsyncWaiter)state!).Cancel(), this);
            }
            return _core.Version;
        }

        // The queue's hold; the caller holds _asyncLock.
        public void Hold() => Interlocked.Increment(ref _holds);

        // The holders let go from different threads: the last one, whichever it is, pools the waiter.
        public void Release()
        {
            if (Interlocked.Decrement(ref _holds) != 0)
                return;
            Buffer = default;
            CancellationToken = default;
            _registration = default;
            queue.ReturnWaiter(this);
        }

        public void Complete(int taken)
        {
            Volatile.Write(ref State, Done);
            Unregister();
            _core.SetResult(taken);
        }

        public void Fail(Exception error)
        {
            Volatile.Write(ref State, Done);
            Unregister();
            _core.SetException(error);
        }

        // A registration removed before its callback ran gives back the hold the callback would
        // have; a callback that has run or is running lets go of it itself.
        private void Unregister()
        {
            if (_registration.Unregister())
                Release();
        }

        // The token's callback. A pending wait is cancelled at once; one the engine has claimed is
        // cancelled when the engine lets go of it, unless it took messages first (then the messages
        // win). The callback's hold keeps the waiter from being reused until it returns, so it only
        // ever acts on the wait it was registered for.
        private void Cancel()
        {
            // A loop: the engine may claim the wait and let it go again between two reads here
            // (Pending, Claimed, Pending), and a cancellation that saw Claimed and then failed to
            // leave CancelRequested would be lost, leaving the wait pending with its token cancelled.
            while (true)
            {
                int state = Volatile.Read(ref State);
                if (state == Pending && Interlocked.CompareExchange(ref State, Done, Pending) == Pending)
                {
                    _core.SetException(new OperationCanceledException(CancellationToken));
                    // A disposed queue's waiters have all been failed: no engine to ask.
                    if (queue.TryEnter())
                    {
                        queue.RequestEngine();
                        queue.Exit();
                    }
                    break;
                }
                if (state == Claimed)
                {
                    queue.AfterCancelReadClaimed?.Invoke();
                    if (Interlocked.CompareExchange(ref State, CancelRequested, Claimed) == Claimed)
                        break;
                }
                if (state is Done or CancelRequested)
                    break;
            }
            Release();
        }

        public int GetResult(short token)
        {
            // Only a finished wait's own token lets go of the consumer's hold; a misuse throws here.
            if (_core.GetStatus(token) == ValueTaskSourceStatus.Pending)
                throw new InvalidOperationException("The wait has not finished.");
            try
            {
                if (TakeHold >= 0)
                    queue._mailbox.AdoptTakeHold(TakeHold);
                TakeHold = -1;
                return _core.GetResult(token);
            }
            finally
            {
                // A new version at once: a second read with this token throws instead of letting go twice.
                _core.Reset();
                Release();
            }
        }

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);
    }

    // Ticks left until the deadline. A poll's deadline (0: Stopwatch timestamps are positive) has
    // none left and no deadline has them all, without a read of the clock: a set's every wait
    // polls first, and a clock read costs as much as the rest of the poll's way to the kernel.
    private static long Remaining(long deadline) =>
        deadline <= 0 ? 0 : deadline == long.MaxValue ? long.MaxValue : deadline - Stopwatch.GetTimestamp();

    // Rounded up: a kernel wait never ends before the deadline.
    internal static int Milliseconds(long ticks)
    {
        if (ticks <= 0)
            return 0;
        double ms = Math.Ceiling(ticks * 1000.0 / Stopwatch.Frequency);
        return ms >= int.MaxValue ? int.MaxValue : (int)ms;
    }

    private bool IsDisposed => (Volatile.Read(ref _hot.Users) & DisposedBit) != 0;

    // The first wait's thread becomes the one that may wait; any other is refused.
    private void ClaimWaitingThread()
    {
        Thread current = Thread.CurrentThread;
        Thread? owner = Interlocked.CompareExchange(ref _waitingThread, current, null);
        if (owner is not null && owner != current)
            throw new InvalidOperationException($"Only the queue's waiting thread (\"{owner.Name}\", managed id {owner.ManagedThreadId}) may wait on it: it was created with a single waiting thread.");
    }

    /// <summary>Whether the queue was created with a single waiting thread.</summary>
    internal bool SingleWaitingThread => _singleWaitingThread;

    private void ThrowIfDisposed()
    {
        if (IsDisposed)
            throw new ObjectDisposedException(nameof(EventQueue));
    }

    private bool TryEnter()
    {
        if ((Interlocked.Increment(ref _hot.Users) & DisposedBit) == 0)
            return true;
        Interlocked.Decrement(ref _hot.Users);
        return false;
    }

    private void Exit() => Interlocked.Decrement(ref _hot.Users);

    // Whether a thread holds the driver role, how many threads wait in the kernel for the taps
    // (the driver, and beside it, where the backend allows, every other synchronous waiter), and
    // how many calls are in the queue (TryEnter), with DisposedBit. On cache lines of their own:
    // with several waiting threads each of these writes moves the line to the writer's core, and
    // the fields a wait only reads (_mailbox, _backend, the wake mode) then stay in every core's
    // cache instead of moving with it.
    [StructLayout(LayoutKind.Explicit, Size = 3 * 64)]
    private struct HotCounters
    {
        [FieldOffset(64)]
        public int Driver;

        [FieldOffset(68)]
        public int InKernel;

        [FieldOffset(72)]
        public int Users;
    }
}
