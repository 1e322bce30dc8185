using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks.Sources;

namespace EpollGen.Events;

public sealed partial class EventQueue
{
    /// <summary>
    /// One asynchronous <see cref="WaitAnyAsync"/>: a pooled wait object with a thread of its own
    /// that runs the synchronous multi-queue wait. The thread alone completes the wait, so a
    /// result and a cancellation never race to complete it: cancelling sets the token and wakes the
    /// thread, which sees the token before it takes anything.
    /// </summary>
    private sealed class AsyncMultiQueueWait : IValueTaskSource<int>
    {
        private static readonly object s_poolLock = new();
        private static readonly Stack<AsyncMultiQueueWait> s_pool = new();
        private static int s_created;

        private readonly SemaphoreSlim _go = new(0);
        private ManualResetValueTaskSourceCore<int> _core = new() { RunContinuationsAsynchronously = true };
        private MultiQueueWaiter? _waiter;
        private ReadOnlyMemory<EventQueue> _queues;
        private Memory<EventQueueMessage> _messages;
        private long _deadline;
        private CancellationToken _cancellationToken;
        private CancellationTokenRegistration _registration;

        private AsyncMultiQueueWait()
        {
            var thread = new Thread(Run) { IsBackground = true, Name = "EpollGen multi-queue wait" };
            Native.LibC.StartWithProgramSignalsBlocked(thread.UnsafeStart);
        }

        // Rented from any thread: counted with Interlocked, read with Volatile.
        public static int Created => Volatile.Read(ref s_created);

        public static AsyncMultiQueueWait Rent()
        {
            lock (s_poolLock)
            {
                if (s_pool.TryPop(out AsyncMultiQueueWait? wait))
                    return wait;
            }
            Interlocked.Increment(ref s_created);
            return new AsyncMultiQueueWait();
        }

        public short Start(ReadOnlyMemory<EventQueue> queues, Memory<EventQueueMessage> messages, long deadline, CancellationToken cancellationToken)
        {
            _queues = queues;
            _messages = messages;
            _deadline = deadline;
            _cancellationToken = cancellationToken;
            short version = _core.Version;
            // The semaphore publishes the fields above to the wait's thread.
            _go.Release();
            return version;
        }

        private void Run()
        {
            _waiter = MultiQueueWaiter.ForCurrentThread();
            while (true)
            {
                _go.Wait();
                if (_cancellationToken.CanBeCanceled)
                    _registration = _cancellationToken.UnsafeRegister(static state => ((MultiQueueWaiter)state!).Wake(), _waiter);
                int taken = 0;
                Exception? error = null;
                try
                {
                    taken = WaitAnyCore(_queues.Span, _messages.Span, _deadline, _waiter, _cancellationToken);
                }
                catch (Exception e)
                {
                    error = e;
                }
                // Disposed before completing: a late cancellation then cannot wake a later wait
                // on this thread (it would only cost a spurious round, but it is not ours to cause).
                _registration.Dispose();
                _registration = default;
                // Nothing of this object is touched after completing: the continuation may
                // return it to the pool and start it again at once.
                if (error is null)
                    _core.SetResult(taken);
                else
                    _core.SetException(error);
            }
        }

        public int GetResult(short token)
        {
            try
            {
                return _core.GetResult(token);
            }
            finally
            {
                _core.Reset();
                _queues = default;
                _messages = default;
                _cancellationToken = default;
                lock (s_poolLock)
                    s_pool.Push(this);
            }
        }

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);
    }
}
