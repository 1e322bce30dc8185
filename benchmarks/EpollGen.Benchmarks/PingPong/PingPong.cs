using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
using EpollGen.Events;
using EpollGen.Interop;
using EpollGen.Native.IoUring;
using EpollGen.Taps;
using static EpollGen.Benchmarks.Statistics;

namespace EpollGen.Benchmarks.PingPong;

/// <summary>
/// Wake-up round trips between two threads through eventfds: each thread writes its peer's
/// eventfd, waits for its own, and reads it. The baseline waits with raw epoll_wait called from
/// C# (level-triggered, one epoll instance per thread); EpollGen waits on an event queue whose tap
/// watches the eventfd, on the kernel-epoll tap backend, the io_uring one, or both
/// (<c>--backend epoll|io_uring|both</c>, default both); io_uring runs twice, with a default ring
/// and with the queue's single waiting thread owning a deferred-task-run ring. Both threads pinned
/// to one core, then to two. Rounds interleave the modes so a slow period of this shared VM hits
/// all alike; medians are reported.
/// </summary>
internal static unsafe class PingPongBenchmark
{
    private delegate void Waiter(int ownFd);

    public static int Run(string[] args)
    {
        Option<int> roundTrips = ModeCommand.Count("--round-trips", "Round trips per run", 20_000);
        Option<int> repeats = ModeCommand.Count("--repeats", "Interleaved rounds; medians reported", 7);
        var backend = new Option<string>("--backend") { Description = "The event queues' tap backend", DefaultValueFactory = _ => "both" };
        backend.AcceptOnlyFromAmong("epoll", "io_uring", "both");
        var command = new Command("pingpong", "Wake-up round trips between two threads: raw epoll against EpollGen's event queues.")
        {
            roundTrips, repeats, backend,
        };
        return ModeCommand.Invoke(command, args, r => Run(r.GetValue(roundTrips), r.GetValue(repeats), r.GetValue(backend)!));
    }

    private static int Run(int roundTrips, int repeats, string backend)
    {
        (string Name, int[] Cpus)[] placements = Placements;
        string[] modes = [RawMode, .. QueueModes(backend)];
        var results = new Dictionary<(string, string), List<double>>();
        Console.WriteLine($"ping-pong: {roundTrips} round trips per run, {repeats} interleaved rounds");
        for (int r = 0; r < repeats; r++)
        {
            foreach ((string placement, int[] cpus) in placements)
            {
                // Rotate which mode goes first each round.
                foreach (string mode in r % 2 == 0 ? modes : modes.Reverse())
                {
                    double microseconds = Measure(mode, cpus, roundTrips);
                    if (!results.TryGetValue((placement, mode), out List<double>? list))
                        results[(placement, mode)] = list = [];
                    list.Add(microseconds);
                }
            }
        }

        Console.WriteLine();
        Console.WriteLine("| placement | mode | µs per round trip, median (min–max) | round trips/s, median | ratio to raw epoll |");
        Console.WriteLine("|---|---|---:|---:|---:|");
        foreach ((string placement, _) in placements)
        {
            double baseline = Median(results[(placement, RawMode)]);
            foreach (string mode in modes)
            {
                List<double> times = results[(placement, mode)];
                double median = Median(times);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {placement} | {mode} | {median:F2} ({times.Min():F2}–{times.Max():F2}) | {1e6 / median:F0} | {median / baseline:F3} |"));
            }
        }
        return 0;
    }

    private static string[] QueueModes(string backend) => backend switch
    {
        "epoll" => [EpollMode],
        "io_uring" => [IoUringMode, IoUringSingleMode, RawIoUringMode],
        "both" => [EpollMode, IoUringMode, IoUringSingleMode, RawIoUringMode],
        _ => throw new ArgumentOutOfRangeException(nameof(backend), backend, "the command line lets only epoll, io_uring or both through"),
    };

    internal const string RawMode = "raw epoll";
    internal const string EpollMode = "EpollGen, epoll taps";
    internal const string IoUringMode = "EpollGen, io_uring taps";
    internal const string IoUringSingleMode = Suite.Implementations.IoUringSingleThread;
    internal const string RawIoUringMode = Suite.Implementations.RawIoUring;

    /// <summary>The two placements every mode runs in: both threads on CPU 1, then on CPUs 0 and 1.</summary>
    internal static readonly (string Name, int[] Cpus)[] Placements = [("same core", [1, 1]), ("two cores", [0, 1])];

    private static EventQueue? QueueFor(string mode) => mode switch
    {
        EpollMode => new EventQueue(tapBackend: TapBackendKind.Epoll),
        IoUringMode => new EventQueue(tapBackend: TapBackendKind.IoUring),
        IoUringSingleMode => new EventQueue(tapBackend: TapBackendKind.IoUring, singleWaitingThread: true),
        _ => null,
    };

    /// <summary>
    /// One run: µs per round trip over <paramref name="roundTrips"/> timed round trips. With
    /// <paramref name="roundTripTicks"/> (at least that long), each round trip's own Stopwatch ticks
    /// are stored there too, for a latency distribution; reading the clock per round trip costs
    /// tens of nanoseconds, so the mean mode leaves it out.
    /// </summary>
    internal static double Measure(string mode, int[] cpus, int roundTrips, long[]? roundTripTicks = null)
    {
        int pingFd = EventFd(), pongFd = EventFd();
        var pingQueue = QueueFor(mode);
        var pongQueue = QueueFor(mode);
        var owned = new List<IDisposable>();
        try
        {
            Waiter pingWait = pingQueue is not null ? QueueWaiter(pingQueue, pingFd) : RawWaiter(mode, pingFd, owned);
            Waiter pongWait = pongQueue is not null ? QueueWaiter(pongQueue, pongFd) : RawWaiter(mode, pongFd, owned);
            int warmUp = roundTrips / 10;
            long elapsed = 0;
            var ready = new Barrier(2);
            var pong = new Thread(() =>
            {
                Pin(cpus[1]);
                ready.SignalAndWait();
                for (int i = 0; i < warmUp + roundTrips; i++)
                {
                    pongWait(pongFd);
                    Signal(pingFd);
                }
            });
            var ping = new Thread(() =>
            {
                Pin(cpus[0]);
                ready.SignalAndWait();
                long start = 0;
                for (int i = 0; i < warmUp + roundTrips; i++)
                {
                    if (i == warmUp)
                        start = Stopwatch.GetTimestamp();
                    long sent = roundTripTicks is null ? 0 : Stopwatch.GetTimestamp();
                    Signal(pongFd);
                    pingWait(pingFd);
                    if (roundTripTicks is not null && i >= warmUp)
                        roundTripTicks[i - warmUp] = Stopwatch.GetTimestamp() - sent;
                }
                elapsed = Stopwatch.GetTimestamp() - start;
            });
            pong.Start();
            ping.Start();
            ping.Join();
            pong.Join();
            return elapsed * 1e6 / Stopwatch.Frequency / roundTrips;
        }
        finally
        {
            pingQueue?.Dispose();
            pongQueue?.Dispose();
            foreach (IDisposable d in owned)
                d.Dispose();
            close(pingFd);
            close(pongFd);
        }
    }

    private static Waiter RawWaiter(string mode, int fd, List<IDisposable> owned) =>
        mode == RawIoUringMode ? RawIoUringWaiter(fd, owned) : RawEpollWaiter(fd, owned);

    private static Waiter RawEpollWaiter(int fd, List<IDisposable> owned)
    {
        int epfd = epoll_create1(0x80000);
        owned.Add(new FdCloser(epfd));
        EpollEvent ev = default;
        ev.Events = EpollEvents.EPOLLIN;
        ev.fd = fd;
        byte* native = stackalloc byte[EpollEvent.Size];
        EpollEvent.WriteNative(native, 0, ev);
        if (epoll_ctl(epfd, 1, fd, native) != 0)
            throw new InvalidOperationException("epoll_ctl failed");
        return own =>
        {
            byte* events = stackalloc byte[EpollEvent.Size];
            while (epoll_wait(epfd, events, 1, -1) != 1)
            {
            }
            Drain(own);
        };
    }

    // The kernel's floor for the io_uring backend: a default ring of the waiting thread's own, one
    // multishot POLL_ADD of its eventfd (armed by that thread, so its completions are posted by that
    // thread's task_work), and a hop waits in io_uring_enter for one CQE, as uring_pingpong.c does in
    // perf-anchors.md. No CEQ, no re-validation: what EpollGen's io_uring queue adds is the difference.
    private static Waiter RawIoUringWaiter(int fd, List<IDisposable> owned)
    {
        IoUringRing ring = IoUringRing.Create(8, 64) is { Succeeded: true, Ring: { } created } ? created
            : throw new InvalidOperationException("io_uring_setup failed");
        owned.Add(ring);
        bool armed = false;
        var batch = new IoUringCompletion[8];
        return own =>
        {
            if (!armed)
            {
                ring.TryPreparePollAdd(fd, (uint)EpollEvents.EPOLLIN, multishot: true, userData: 1);
                armed = true;
            }
            int reaped;
            while ((reaped = ring.Reap(batch)) == 0)
                ring.Submit(minComplete: 1);
            for (int i = 0; i < reaped; i++)
            {
                if (!batch[i].HasMore)
                    throw new InvalidOperationException($"the multishot poll ended: result {batch[i].Result}");
            }
            Drain(own);
        };
    }

    private sealed class FdCloser(int fd) : IDisposable
    {
        public void Dispose() => close(fd);
    }

    private static Waiter QueueWaiter(EventQueue queue, int fd)
    {
        CeqId id = queue.Allocate();
        if (FdTaps.Submit([new TapRequest(fd, TapCommand.Add, TapFilters.FDTAP_FILT_READABLE, queue, id)], out int errno) != 1)
            throw new InvalidOperationException($"tap failed with errno {errno}");
        var buffer = new CeqMessage[4];
        return own =>
        {
            queue.Wait(buffer, Timeout.InfiniteTimeSpan);
            Drain(own);
        };
    }

    private static void Pin(int cpu)
    {
        ulong mask = 1UL << cpu;
        sched_setaffinity(0, sizeof(ulong), &mask);
    }

    private static int EventFd() => eventfd(0, 0x80000 | 0x800);

    private static void Signal(int fd)
    {
        ulong one = 1;
        write(fd, &one, 8);
    }

    private static void Drain(int fd)
    {
        ulong value;
        read(fd, &value, 8);
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int eventfd(uint initval, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int epoll_create1(int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int epoll_ctl(int epfd, int op, int fd, void* ev);

    [DllImport("libc", SetLastError = true)]
    private static extern int epoll_wait(int epfd, void* events, int maxevents, int timeout);

    [DllImport("libc", SetLastError = true)]
    private static extern nint write(int fd, void* buffer, nuint count);

    [DllImport("libc", SetLastError = true)]
    private static extern nint read(int fd, void* buffer, nuint count);

    [DllImport("libc", SetLastError = true)]
    private static extern int close(int fd);

    [DllImport("libc", SetLastError = true)]
    private static extern int sched_setaffinity(int pid, nuint size, ulong* mask);
}
