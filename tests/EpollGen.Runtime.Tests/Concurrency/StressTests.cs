using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
using EpollGen.Interop;
using EpollGen.Runtime.Tests.Native;
using EpollGen.Taps;
using Xunit;

namespace EpollGen.Runtime.Tests.Concurrency;

/// <summary>
/// Threads sharing one set the way servers do, checked by invariants rather than timing: a
/// worker pool over oneshot registrations re-armed by MOD, a pool over edge-triggered ones, and
/// ctl and close racing waits. Each token is one byte, numbered per socket, so a token read twice
/// or skipped shows as a number out of order, and a lost wake-up as a pool that stops making
/// progress while tokens wait.
/// </summary>
public abstract unsafe class StressTests(EpollUnderTest epoll) : ConcurrencyTests(epoll)
{
    private const int Pairs = 64;
    private const int Workers = 4;
    private const int Tokens = 50_000;
    private const int OutstandingPerPair = 8;
    private const int EAGAIN = 11;

    /// <summary>How long the pool may go without consuming a token while some are outstanding.</summary>
    private static readonly TimeSpan Stall = TimeSpan.FromSeconds(2);

    [Fact]
    public void OneshotWorkerPool_ProcessesEveryTokenExactlyOnce() =>
        RunPool(EpollEvents.EPOLLIN | EpollEvents.EPOLLONESHOT);

    [Fact]
    public void EdgeTriggeredWorkerPool_LosesNoEdge() =>
        RunPool(EpollEvents.EPOLLIN | EpollEvents.EPOLLET);

    private void RunPool(EpollEvents mode)
    {
        bool oneshot = (mode & EpollEvents.EPOLLONESHOT) != 0;
        int set = NewSet();
        var pairs = new (int A, int B)[Pairs];
        for (int i = 0; i < Pairs; i++)
        {
            pairs[i] = SocketPair();
            Ctl(set, Linux.EPOLL_CTL_ADD, pairs[i].A, mode, (ulong)i);
        }
        var pool = new Pool(Pairs);
        var threads = new List<Thread>();
        for (int w = 0; w < Workers; w++)
            threads.Add(Start($"worker {w}", pool, () => Work(set, pairs, pool, mode, oneshot)));
        threads.Add(Start("producer", pool, () => Produce(pairs, pool)));

        string progress = pool.WaitUntilConsumed(Tokens, Stall, TimeSpan.FromSeconds(20));

        Release(set);   // the workers' way out: a level-triggered item every one of them sees
        int running = JoinAll(threads, Bound);
        Assert.True(pool.Errors.IsEmpty, $"{Epoll}: {string.Join("; ", pool.Errors.Take(5))}");
        Assert.True(progress.Length == 0, $"{Epoll}: {progress}");
        Assert.True(pool.Consumed == Tokens, $"{Epoll}: {pool.Consumed} tokens consumed of {Tokens}");
        Assert.True(running == 0,
            $"{Epoll}: every token was processed, but the release (one level-triggered item) left {running} of {Workers} blocked workers asleep for {Bound}");
    }

    private void Work(int set, (int A, int B)[] pairs, Pool pool, EpollEvents mode, bool oneshot)
    {
        byte* ev = stackalloc byte[EpollEvent.NativeSize];
        byte* buffer = stackalloc byte[64];
        while (true)
        {
            int n = Epoll.Wait(set, ev, 1, -1);
            if (n != 1)
            {
                pool.Fail($"epoll_wait returned {n} (errno {Marshal.GetLastPInvokeError()})");
                return;
            }
            ulong data = EpollEvent.ReadNative(ev, 0).data;
            if (data == ReleaseData)
                return;
            int i = (int)data;
            if (oneshot)
            {
                if (Interlocked.Exchange(ref pool.InHand[i], 1) != 0)
                    pool.Fail($"pair {i}: two workers hold one oneshot registration");
                if (Drain(pairs[i].A, i, buffer, pool) == 0)
                    pool.Fail($"pair {i}: a oneshot event with nothing to read");
                // Let go before re-arming: the event MOD queues may reach another worker at once.
                Volatile.Write(ref pool.InHand[i], 0);
                if (TryCtl(set, Linux.EPOLL_CTL_MOD, pairs[i].A, mode, data) != 0)
                    pool.Fail($"pair {i}: MOD failed with errno {Marshal.GetLastPInvokeError()}");
            }
            else
            {
                // Edge-triggered: another worker may hold the same pair's previous edge; the lock
                // orders their reads, and the second may find nothing left, which is allowed.
                lock (pool.Locks[i])
                    Drain(pairs[i].A, i, buffer, pool);
            }
        }
    }

    // Reads the pair's socket to EAGAIN, checking each token's number; returns how many it read.
    private static int Drain(int fd, int pair, byte* buffer, Pool pool)
    {
        int total = 0;
        while (true)
        {
            int n = (int)TestLibC.read(fd, buffer, 64);
            if (n < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno != EAGAIN)
                    pool.Fail($"pair {pair}: read failed with errno {errno}");
                return total;
            }
            for (int k = 0; k < n; k++)
            {
                byte expected = (byte)pool.Next[pair]++;
                if (buffer[k] != expected)
                    pool.Fail($"pair {pair}: token {buffer[k]} where {expected} was next (read twice, or lost)");
            }
            total += n;
            pool.Consume(pair, n);
        }
    }

    private static void Produce((int A, int B)[] pairs, Pool pool)
    {
        byte* token = stackalloc byte[1];
        int written = 0;
        var spin = new SpinWait();
        while (written < Tokens && !pool.Stopping)
        {
            bool wrote = false;
            for (int i = 0; i < Pairs && written < Tokens; i++)
            {
                if (pool.Written[i] - Volatile.Read(ref pool.ConsumedPerPair[i]) >= OutstandingPerPair)
                    continue;
                *token = (byte)pool.Written[i];
                if (TestLibC.write(pairs[i].B, token, 1) != 1)
                {
                    pool.Fail($"pair {i}: write failed with errno {Marshal.GetLastPInvokeError()}");
                    return;
                }
                pool.Written[i]++;
                written++;
                wrote = true;
            }
            if (wrote)
                spin.Reset();
            else
                spin.SpinOnce();
        }
    }

    // ctl and close racing waits: threads ADD, MOD, DEL and close always-readable eventfds while
    // others wait on the set. Waits may report a registration a racing DEL or MOD just replaced,
    // but only data that was registered, each at most once per call; at the end the set reports
    // exactly the registrations left.
    [Fact]
    public void CtlAndCloseRacingWaits_ReportOnlyRegisteredData_AndEndConsistent()
    {
        const int SlotsPerThread = 16, Churners = 2, WaitersCount = 2, OpsPerThread = 10_000;
        int set = NewSet();
        var everRegistered = new ConcurrentDictionary<ulong, bool>();
        var pool = new Pool(0);
        var slots = new Slot[Churners * SlotsPerThread];
        long nextData = 0;
        long reported = 0;

        var waiters = new List<Thread>();
        for (int w = 0; w < WaitersCount; w++)
        {
            waiters.Add(Start($"waiter {w}", pool, () =>
            {
                byte* events = stackalloc byte[32 * EpollEvent.NativeSize];
                var seen = new HashSet<ulong>();
                while (!pool.Stopping)
                {
                    int n = Epoll.Wait(set, events, 32, 10);
                    if (n < 0)
                    {
                        pool.Fail($"epoll_wait failed with errno {Marshal.GetLastPInvokeError()}");
                        return;
                    }
                    seen.Clear();
                    for (int k = 0; k < n; k++)
                    {
                        EpollEvent ev = EpollEvent.ReadNative(events, k);
                        if (!everRegistered.ContainsKey(ev.data))
                            pool.Fail($"reported data {ev.data:X}, never registered");
                        else if (!seen.Add(ev.data))
                            pool.Fail($"reported data {ev.data:X} twice in one call");
                        else if (ev.Events != EpollEvents.EPOLLIN)
                            pool.Fail($"reported {ev.Events} for data {ev.data:X}");
                    }
                    Interlocked.Add(ref reported, n);
                }
            }));
        }

        var churners = new List<Thread>();
        for (int c = 0; c < Churners; c++)
        {
            int first = c * SlotsPerThread, seed = c;
            churners.Add(Start($"churner {c}", pool, () =>
            {
                var random = new Random(seed);
                for (int op = 0; op < OpsPerThread && !pool.Stopping; op++)
                {
                    ref Slot slot = ref slots[first + random.Next(SlotsPerThread)];
                    int choice = random.Next(4);
                    if (slot.Fd == 0)
                    {
                        slot.Fd = TestLibC.EventFd();
                        TestLibC.Signal(slot.Fd);
                        Register(ref slot, Linux.EPOLL_CTL_ADD);
                    }
                    else if (choice == 0)
                    {
                        if (Epoll.Close(slot.Fd) != 0)
                            pool.Fail($"close({slot.Fd}) failed with errno {Marshal.GetLastPInvokeError()}");
                        slot = default;
                    }
                    else if (!slot.Registered)
                        Register(ref slot, Linux.EPOLL_CTL_ADD);
                    else if (choice == 1)
                    {
                        if (TryCtl(set, Linux.EPOLL_CTL_DEL, slot.Fd, 0, 0) != 0)
                            pool.Fail($"DEL of fd {slot.Fd} failed with errno {Marshal.GetLastPInvokeError()}");
                        slot.Registered = false;
                    }
                    else
                        Register(ref slot, Linux.EPOLL_CTL_MOD);
                }
            }));
        }

        bool churned = JoinAll(churners, TimeSpan.FromSeconds(20)) == 0;
        pool.Stop();
        bool waited = JoinAll(waiters, Bound) == 0;

        try
        {
            Assert.True(pool.Errors.IsEmpty, $"{Epoll}: {string.Join("; ", pool.Errors.Take(5))}");
            Assert.True(churned, $"{Epoll}: the churners did not finish {OpsPerThread} operations each");
            Assert.True(waited, $"{Epoll}: a waiter with a 10 ms timeout did not stop within {Bound}");
            Assert.True(Interlocked.Read(ref reported) > 0, $"{Epoll}: the waits reported nothing while the set held ready fds");

            var expected = slots.Where(s => s.Registered).Select(s => s.Data).OrderBy(d => d).ToArray();
            byte* events = stackalloc byte[64 * EpollEvent.NativeSize];
            for (int round = 0; round < 2; round++)
            {
                int n = Epoll.Wait(set, events, 64, 0);
                Assert.True(n >= 0, $"the final wait failed with errno {Marshal.GetLastPInvokeError()}");
                var actual = Enumerable.Range(0, n).Select(k => EpollEvent.ReadNative(events, k).data).OrderBy(d => d).ToArray();
                Assert.True(expected.SequenceEqual(actual),
                    $"{Epoll} reports [{string.Join(", ", actual.Select(d => d.ToString("X")))}] "
                    + $"where the registrations left are [{string.Join(", ", expected.Select(d => d.ToString("X")))}]");
            }
        }
        finally
        {
            foreach (Slot slot in slots.Where(s => s.Fd != 0))
                Epoll.Close(slot.Fd);
        }

        void Register(ref Slot slot, int op)
        {
            ulong data = (ulong)Interlocked.Increment(ref nextData);
            everRegistered[data] = true;   // before the ctl: a racing wait may report it at once
            if (TryCtl(set, op, slot.Fd, EpollEvents.EPOLLIN, data) != 0)
                pool.Fail($"{(op == Linux.EPOLL_CTL_ADD ? "ADD" : "MOD")} of fd {slot.Fd} failed with errno {Marshal.GetLastPInvokeError()}");
            slot.Registered = true;
            slot.Data = data;
        }
    }

    // Joins every thread within one shared bound; returns how many still run.
    private static int JoinAll(List<Thread> threads, TimeSpan within)
    {
        long start = Stopwatch.GetTimestamp();
        foreach (Thread thread in threads)
            thread.Join(TimeSpan.FromTicks(Math.Max(0, (within - Stopwatch.GetElapsedTime(start)).Ticks)));
        return threads.Count(t => t.IsAlive);
    }

    private static Thread Start(string name, Pool pool, Action body)
    {
        var thread = new Thread(() =>
        {
            try
            {
                body();
            }
            catch (Exception e)
            {
                pool.Fail($"{name}: {e.GetType().Name}: {e.Message}");
            }
        })
        { IsBackground = true, Name = name };
        thread.Start();
        return thread;
    }

    private struct Slot
    {
        public int Fd;
        public bool Registered;
        public ulong Data;
    }

    /// <summary>What the threads of one stress test share: counts, per-pair state, and the failures they saw.</summary>
    private sealed class Pool(int pairs)
    {
        private readonly ManualResetEventSlim _progress = new();
        private long _consumed;
        private volatile bool _stopping;

        public readonly int[] Written = new int[pairs];
        public readonly int[] ConsumedPerPair = new int[pairs];
        public readonly int[] Next = new int[pairs];
        public readonly int[] InHand = new int[pairs];
        public readonly object[] Locks = [.. Enumerable.Range(0, pairs).Select(_ => new object())];
        public readonly ConcurrentQueue<string> Errors = new();

        public long Consumed => Interlocked.Read(ref _consumed);

        public bool Stopping => _stopping;

        public void Fail(string error)
        {
            Errors.Enqueue(error);
            Stop();
        }

        public void Stop()
        {
            _stopping = true;
            _progress.Set();
        }

        public void Consume(int pair, int count)
        {
            Interlocked.Add(ref ConsumedPerPair[pair], count);
            Interlocked.Add(ref _consumed, count);
            _progress.Set();
        }

        /// <summary>Waits for <paramref name="target"/> tokens; returns "" or why it gave up.</summary>
        public string WaitUntilConsumed(long target, TimeSpan stall, TimeSpan limit)
        {
            long start = Stopwatch.GetTimestamp(), lastProgress = start, last = -1;
            while (true)
            {
                long now = Consumed;
                if (now >= target || _stopping)
                    return "";
                if (now != last)
                {
                    last = now;
                    lastProgress = Stopwatch.GetTimestamp();
                }
                if (Stopwatch.GetElapsedTime(lastProgress) > stall)
                    return $"no token consumed for {stall} with {now} of {target} consumed: a wake-up was lost";
                if (Stopwatch.GetElapsedTime(start) > limit)
                    return $"{now} of {target} tokens consumed within {limit}";
                _progress.Reset();
                if (Consumed == now)
                    _progress.Wait(TimeSpan.FromMilliseconds(100));
            }
        }
    }
}

/// <summary><see cref="StressTests"/> on the kernel's epoll.</summary>
public sealed class StressTests_Kernel() : StressTests(new KernelEpoll());

/// <summary><see cref="StressTests"/> on EpollGen sets on the kernel-epoll tap backend.</summary>
public sealed class StressTests_Epoll() : StressTests(new EpollGenEpoll(TapBackendKind.Epoll));

/// <summary><see cref="StressTests"/> on EpollGen sets on the io_uring tap backend.</summary>
public sealed class StressTests_IoUring() : StressTests(new EpollGenEpoll(TapBackendKind.IoUring));
