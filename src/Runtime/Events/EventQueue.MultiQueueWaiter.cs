using System;
using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Threading;
using EpollGen.Diagnostics;
using EpollGen.Interop;
using EpollGen.Native;
using EpollGen.Taps;

namespace EpollGen.Events;

public sealed partial class EventQueue
{
    /// <summary>
    /// One thread's state for <see cref="WaitAny"/>: a helper epoll instance holding the backend epoll
    /// fds of the queues it drives in the current round and its own wake eventfd. One per thread,
    /// made on first use and kept, so a wait allocates nothing and opens no fd once warm; a finalizer
    /// closes the fds after the thread is gone (nothing references the waiter once it has left
    /// every queue's sleepers).
    /// </summary>
    private sealed unsafe class MultiQueueWaiter
    {
        private const ulong WakeToken = ulong.MaxValue;
        private const int EventCapacity = MaxWaitAnyQueues + 1;

        [ThreadStatic]
        private static MultiQueueWaiter? t_current;
        private static long s_interruptedWaits;

        private readonly int _epfd;
        private readonly int _wakeFd;
        private readonly byte* _events;
        private readonly bool[] _driving = new bool[MaxWaitAnyQueues];
        private CeqMessage[] _scratch = new CeqMessage[16];
        private int _wakePending;
        private uint _start;

        private MultiQueueWaiter()
        {
            _epfd = PrivateFds.CreateEpoll();
            if (_epfd < 0)
                throw new Win32Exception(Marshal.GetLastPInvokeError(), "epoll_create1 failed");
            _wakeFd = PrivateFds.CreateEventFd();
            int error = _wakeFd < 0 ? Marshal.GetLastPInvokeError() : Control(LibC.EPOLL_CTL_ADD, _wakeFd, WakeToken);
            if (error != 0)
            {
                if (_wakeFd >= 0)
                    LibC.close(_wakeFd);
                LibC.close(_epfd);
                GC.SuppressFinalize(this);
                throw new Win32Exception(error, "the wake eventfd of a multi-queue waiter failed");
            }
            _events = (byte*)NativeMemory.Alloc((nuint)(EventCapacity * EpollEvent.NativeSize));
        }

        ~MultiQueueWaiter()
        {
            LibC.close(_wakeFd);
            LibC.close(_epfd);
            NativeMemory.Free(_events);
        }

        // Several waiters' threads may be interrupted at once: counted with Interlocked.
        public static long InterruptedWaits => Interlocked.Read(ref s_interruptedWaits);

        public static MultiQueueWaiter ForCurrentThread() => t_current ??= new MultiQueueWaiter();

        // Called by posters and by kernel waiters stepping down, on any thread. The flag spares
        // the write when a wake is already on its way; it is cleared at the start of each round,
        // before the waiter registers anywhere, so a waker that sees the registration sees it clear.
        public void Wake()
        {
            if (Interlocked.Exchange(ref _wakePending, 1) != 0)
                return;
            ulong one = 1;
            LibC.write(_wakeFd, &one, sizeof(ulong));
        }

        public int Wait(ReadOnlySpan<EventQueue> queues, Span<EventQueueMessage> messages, long deadline, CancellationToken cancellationToken)
        {
            bool lastRound = false;
            try
            {
                while (true)
                {
                    foreach (EventQueue queue in queues)
                        queue.ThrowIfDisposed();
                    // Before taking: a cancelled wait leaves the messages to others. The canceller
                    // wakes this waiter (Wake) to get here.
                    cancellationToken.ThrowIfCancellationRequested();
                    int taken = Take(queues, messages);
                    if (taken > 0)
                        return taken;
                    // Zero only after a round that began at or past the deadline: never early, and
                    // what the taps hold at the deadline is still dispatched and taken.
                    if (lastRound)
                        return 0;
                    long remaining = deadline - Stopwatch.GetTimestamp();
                    WaitRound(queues, remaining, deadline == long.MaxValue);
                    lastRound = remaining <= 0;
                }
            }
            finally
            {
                // A wake-up that chose this waiter (a post, a step-down) must not end with it;
                // HandOff fences after this waiter left every queue's sleepers.
                foreach (EventQueue queue in queues)
                    queue.HandOff();
            }
        }

        // Takes from every queue, starting one further along each time.
        private int Take(ReadOnlySpan<EventQueue> queues, Span<EventQueueMessage> messages)
        {
            if (_scratch.Length < messages.Length)
                _scratch = new CeqMessage[Math.Max(messages.Length, _scratch.Length * 2)];
            uint start = _start++;
            int taken = 0;
            for (int k = 0; k < queues.Length && taken < messages.Length; k++)
            {
                int index = (int)((start + (uint)k) % (uint)queues.Length);
                int got = queues[index]._mailbox.TryTake(_scratch.AsSpan(0, messages.Length - taken));
                for (int j = 0; j < got; j++)
                    messages[taken++] = new EventQueueMessage(index, _scratch[j]);
            }
            return taken;
        }

        // One round: take roles, look once more, sleep in the helper instance, dispatch, give the
        // roles up. The caller takes what the round brought.
        private void WaitRound(ReadOnlySpan<EventQueue> queues, long remaining, bool infinite)
        {
            // Cleared before any registration below: see Wake.
            Volatile.Write(ref _wakePending, 0);
            int joined = 0;
            try
            {
                for (; joined < queues.Length; joined++)
                    Join(queues[joined], joined);
                // Store-load fence: the roles taken above (InKernel, the sleeper registrations)
                // are visible before the mailboxes and the kernel waiters are read below, as a
                // poster's post is before its read of InKernel and the sleepers (Notify), and a
                // kernel waiter's step-down before its read of the sleepers (StepDown).
                Interlocked.MemoryBarrier();
                bool busy = false;
                for (int i = 0; i < queues.Length && !busy; i++)
                {
                    EventQueue queue = queues[i];
                    busy = !queue._mailbox.IsEmpty || queue.IsDisposed || (!_driving[i] && Volatile.Read(ref queue._hot.Driver) == 0);
                }
                if (busy)
                {
                    // Work waits, a recovery scan is under way, or a kernel waiter left: the next
                    // round takes or takes over. Still dispatch the taps of the queues driven now.
                    Thread.Yield();
                }
                int timeoutMs = busy || remaining <= 0 ? 0 : infinite ? -1 : Milliseconds(remaining);
                int ready = LibC.epoll_wait(_epfd, _events, EventCapacity, timeoutMs);
                if (ready < 0)
                {
                    int error = Marshal.GetLastPInvokeError();
                    if (error != LibC.EINTR)
                        throw new Win32Exception(error, "epoll_wait of a multi-queue waiter failed");
                    // The caller recomputes the time left from the deadline: never restarted.
                    Interlocked.Increment(ref s_interruptedWaits);
                    return;
                }
                for (int i = 0; i < ready; i++)
                {
                    ulong token = EpollEvent.ReadNative(_events, i).data;
                    if (token == WakeToken)
                    {
                        ulong drained;
                        LibC.read(_wakeFd, &drained, sizeof(ulong));
                        continue;
                    }
                    // Only the fds of queues this waiter drives are in the helper instance, so it
                    // is the one kernel waiter allowed to dispatch them.
                    EventQueue queue = queues[(int)token];
                    TapWaitResult result = queue._backend.WaitAndDispatch(0);
                    if ((result & (TapWaitResult.Posted | TapWaitResult.Interrupted)) == TapWaitResult.Posted && timeoutMs != 0)
                        CountTapWakeup();
                }
            }
            finally
            {
                for (int i = 0; i < joined; i++)
                    Leave(queues[i], i);
            }
        }

        // Becomes the queue's kernel waiter if the role is free, else one of its sleepers.
        private void Join(EventQueue queue, int index)
        {
            // The CAS makes this thread the one kernel waiter (as in WaitForWork).
            if (Interlocked.CompareExchange(ref queue._hot.Driver, 1, 0) == 0)
            {
                // Set before the round's fence: a poster that misses it is one whose post the
                // round's last look sees.
                Interlocked.Increment(ref queue._hot.InKernel);
                int error = Control(LibC.EPOLL_CTL_ADD, queue._backend.PollFd, (ulong)index);
                if (error != 0)
                {
                    queue.StepDown();
                    throw new Win32Exception(error, "nesting a queue's epoll fd in a multi-queue waiter failed");
                }
                _driving[index] = true;
            }
            else
            {
                queue.AddMultiSleeper(this);
                _driving[index] = false;
            }
        }

        private void Leave(EventQueue queue, int index)
        {
            if (_driving[index])
            {
                // Out of the helper instance before the role is given up: from the step-down on,
                // another thread may wait on the queue's epoll fd, and only one may.
                Control(LibC.EPOLL_CTL_DEL, queue._backend.PollFd, 0);
                _driving[index] = false;
                queue.StepDown();
            }
            else
            {
                queue.RemoveMultiSleeper(this);
            }
        }

        // Level-triggered: a queue's epoll fd stays readable while taps wait in it, so taps left
        // over (more than a batch) are reported again rather than lost to an edge.
        private int Control(int op, int fd, ulong data)
        {
            EpollEvent ev = default;
            ev.events = (uint)EpollEvents.EPOLLIN;
            ev.data = data;
            byte* native = stackalloc byte[EpollEvent.Size];
            EpollEvent.WriteNative(native, 0, ev);
            return LibC.epoll_ctl(_epfd, op, fd, native) == 0 ? 0 : Marshal.GetLastPInvokeError();
        }
    }
}
