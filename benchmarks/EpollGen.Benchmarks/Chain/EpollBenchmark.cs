using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Runtime.InteropServices;
using EpollGen.Interop;
using static EpollGen.Benchmarks.Statistics;

namespace EpollGen.Benchmarks.Chain;

/// <summary>
/// <c>epoll</c> mode: EpollGen's libc-shaped epoll against raw epoll from C#, in the same process,
/// interleaved round by round so a slow period hits both: the libevent chain workload (µs per
/// iteration), epoll_ctl ADD+DEL pairs, ADD+close cycles, memory per registration and wait cost
/// against registered fds. Prints markdown tables with medians, ranges and ratios.
/// </summary>
/// <remarks>
/// Options: <c>--pairs 100,1000,9900</c> <c>--active 100,1000</c> <c>--writes 1000,10000</c>
/// <c>--modes lt,et</c> <c>--backends epoll,io_uring,io_uring+trust,raw-io_uring,raw-io_uring+defer</c> <c>--rounds 5</c> <c>--iterations 25</c>
/// <c>--only chain|ctl|memory|waitcost</c>. ADD+DEL pairs, memory and wait cost use the kernel-epoll
/// backend; ADD+close cycles run on each of <c>--backends</c>.
/// </remarks>
internal static unsafe class EpollBenchmark
{
    private static readonly string[] Backends = ["epoll", "io_uring", "io_uring+trust", "raw-io_uring", "raw-io_uring+defer"];

    public static int Run(string[] args)
    {
        ListOption<int> pairs = ModeCommand.Counts("--pairs", "Socket pairs of the chain workload", [100, 1000, 9900]);
        ListOption<int> active = ModeCommand.Counts("--active", "Active pairs", [100, 1000]);
        ListOption<int> writes = ModeCommand.Counts("--writes", "Writes per iteration", [1000, 10000]);
        ListOption<string> modes = ModeCommand.Names("--modes", "Trigger modes", ["lt", "et"], ["lt", "et"]);
        ListOption<string> backends = ModeCommand.Names("--backends", "EpollGen backends beside raw epoll", ["epoll", "io_uring"], Backends);
        Option<int> rounds = ModeCommand.Count("--rounds", "Interleaved rounds; medians reported", 5);
        Option<int> iterations = ModeCommand.Count("--iterations", "Chain iterations per round", 25);
        var only = new Option<string?>("--only") { Description = "Run this section only (default: all)" };
        only.AcceptOnlyFromAmong("chain", "ctl", "memory", "waitcost");
        var command = new Command("epoll",
            "EpollGen's libc-shaped epoll against raw epoll from C#, interleaved round by round. " +
            "(perf-anchors' 9,975 pairs hit EMFILE here: EpollGen's sets and the runtime need some of the 20,000 fds.)")
        {
            pairs, active, writes, modes, backends, rounds, iterations, only,
        };
        return ModeCommand.Invoke(command, args, r => Run(
            pairs.Get(r), active.Get(r), writes.Get(r), modes.Get(r), backends.Get(r),
            r.GetValue(rounds), r.GetValue(iterations), r.GetValue(only)));
    }

    private static int Run(int[] pairs, int[] active, int[] writes, string[] modes, string[] backends, int rounds, int iterations, string? only)
    {
        Console.WriteLine($"# epoll benchmarks ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} CPUs, {RuntimeInformation.OSDescription})");
        if (only is null or "chain")
            Chain(pairs, active, writes, modes, backends, rounds, iterations);
        if (only is null or "ctl")
        {
            Ctl(rounds);
            CloseCycles(rounds, backends);
        }
        if (only is null or "memory")
            Memory();
        if (only is null or "waitcost")
            WaitCost(rounds);
        return 0;
    }

    private static void Chain(int[] pairsList, int[] activeList, int[] writesList, string[] modes, string[] backends, int rounds, int iterations)
    {
        Console.WriteLine();
        Console.WriteLine($"## libevent chain workload: µs per iteration, median of {rounds} rounds × {iterations} iterations (min–max of round medians)");
        Console.WriteLine();
        Console.WriteLine("| mode | pairs | active | writes | raw epoll µs | EpollGen backend | EpollGen µs | ratio (median of per-round ratios) |");
        Console.WriteLine("|---|---:|---:|---:|---:|---|---:|---:|");
        foreach (string mode in modes)
        foreach (int pairs in pairsList)
        foreach (int active in activeList)
        foreach (int writes in writesList)
        {
            if (active > pairs)
                continue;
            using var workload = new ChainWorkload(pairs, active, writes, mode == "et");
            var raw = new List<double>();
            var gen = backends.ToDictionary(b => b, _ => new List<double>());
            var ratios = backends.ToDictionary(b => b, _ => new List<double>());
            WarmUp(() => workload.Run<RawEpoll>(3));
            // The raw io_uring rows read to EAGAIN per CQE, as the ET loop does: they run in ET only.
            string[] rowBackends = mode == "et" ? backends : backends.Where(b => !IsRawIoUring(b)).ToArray();
            foreach (string backend in rowBackends)
                WarmUp(() => RunBackend(workload, backend, 3));
            for (int round = 0; round < rounds; round++)
            {
                // Raw epoll first on even rounds and last on odd ones, so neither always runs warmer.
                double r = round % 2 == 0 ? Median(workload.Run<RawEpoll>(iterations)) : double.NaN;
                foreach (string backend in rowBackends)
                    gen[backend].Add(Median(RunBackend(workload, backend, iterations)));
                if (round % 2 == 1)
                    r = Median(workload.Run<RawEpoll>(iterations));
                raw.Add(r);
                foreach (string backend in rowBackends)
                    ratios[backend].Add(gen[backend][^1] / r);
            }
            foreach (string backend in rowBackends)
                Console.WriteLine($"| {mode.ToUpperInvariant()} | {pairs} | {active} | {writes} | {Cell(raw)} | {backend} | {Cell(gen[backend])} | {Median(ratios[backend]):0.00}× ({ratios[backend].Min():0.00}–{ratios[backend].Max():0.00}) |");
        }
    }

    private static bool IsRawIoUring(string backend) => backend.StartsWith("raw-io_uring", StringComparison.Ordinal);

    // "epoll", "io_uring", "io_uring+trust": EpollGen's libc-shaped API on that backend;
    // "raw-io_uring", "raw-io_uring+defer": the kernel's ring from C#, with no epoll semantics.
    private static double[] RunBackend(ChainWorkload workload, string backend, int iterations)
    {
        if (IsRawIoUring(backend))
        {
            RawIoUring.DeferTaskRun = backend.EndsWith("+defer", StringComparison.Ordinal);
            return workload.Run<RawIoUring>(iterations);
        }
        EpollGenEpoll.Backend = backend;
        return workload.Run<EpollGenEpoll>(iterations);
    }

    private static void Ctl(int rounds)
    {
        EpollGenEpoll.Backend = "epoll";
        const int Pairs = 20_000;
        int* sockets = stackalloc int[2];
        Sys.socketpair(1, 1 | 0x800 | 0x80000, 0, sockets);
        var raw = new List<double>();
        var gen = new List<double>();
        var ratios = new List<double>();
        int fd = sockets[0];
        WarmUp(() => CtlCycles<RawEpoll>(fd, Pairs));
        WarmUp(() => CtlCycles<EpollGenEpoll>(fd, Pairs));
        for (int round = 0; round < rounds; round++)
        {
            double r = CtlCycles<RawEpoll>(sockets[0], Pairs);
            double g = CtlCycles<EpollGenEpoll>(sockets[0], Pairs);
            raw.Add(r);
            gen.Add(g);
            ratios.Add(r / g);
        }
        Sys.close(sockets[0]);
        Sys.close(sockets[1]);
        Console.WriteLine();
        Console.WriteLine($"## epoll_ctl ADD+DEL of one socket: pairs per second, median of {rounds} rounds × {Pairs:N0} pairs");
        Console.WriteLine();
        Console.WriteLine("| raw epoll pairs/s | EpollGen pairs/s | EpollGen ÷ raw (higher is better) |");
        Console.WriteLine("|---:|---:|---:|");
        Console.WriteLine($"| {Median(raw.Select(ns => 1e9 / ns).ToList()):N0} | {Median(gen.Select(ns => 1e9 / ns).ToList()):N0} | {Median(ratios):0.00}× ({ratios.Min():0.00}–{ratios.Max():0.00}) |");
    }

    // Returns ns per cycle: an ADD and a DEL of fd or, with fd -1, a fresh eventfd added and closed
    // without a DEL (the close releases the file, and Linux drops the registration with it).
    private static double CtlCycles<TApi>(int fd, int cycles)
        where TApi : IEpollApi
    {
        int epfd = TApi.Create();
        byte* ev = stackalloc byte[16];
        EpollEvent.WriteNative(ev, 0, new EpollEvent { Events = EpollEvents.EPOLLIN | EpollEvents.EPOLLET, data = 1 });
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < cycles; i++)
        {
            if (fd >= 0)
            {
                TApi.Ctl(epfd, 1, fd, ev);
                TApi.Ctl(epfd, 2, fd, null);
            }
            else
            {
                int fresh = Sys.eventfd(0, 0x80000);
                TApi.Ctl(epfd, 1, fresh, ev);
                TApi.Close(fresh);
            }
        }
        double ns = Stopwatch.GetElapsedTime(start).TotalNanoseconds / cycles;
        TApi.Close(epfd);
        return ns;
    }

    private static void CloseCycles(int rounds, string[] backends)
    {
        const int Cycles = 20_000;
        // A close without a DEL is epoll semantics; the raw rings have none.
        backends = backends.Where(b => !IsRawIoUring(b)).ToArray();
        var raw = new List<double>();
        var gen = backends.ToDictionary(b => b, _ => new List<double>());
        var ratios = backends.ToDictionary(b => b, _ => new List<double>());
        WarmUp(() => CtlCycles<RawEpoll>(-1, Cycles));
        foreach (string backend in backends)
        {
            EpollGenEpoll.Backend = backend;
            WarmUp(() => CtlCycles<EpollGenEpoll>(-1, Cycles));
        }
        for (int round = 0; round < rounds; round++)
        {
            raw.Add(CtlCycles<RawEpoll>(-1, Cycles) / 1000);
            foreach (string backend in backends)
            {
                EpollGenEpoll.Backend = backend;
                gen[backend].Add(CtlCycles<EpollGenEpoll>(-1, Cycles) / 1000);
                ratios[backend].Add(gen[backend][^1] / raw[^1]);
            }
        }
        Console.WriteLine();
        Console.WriteLine($"## eventfd + epoll_ctl ADD + close, no DEL: µs per cycle, median of {rounds} rounds × {Cycles:N0} cycles");
        Console.WriteLine();
        Console.WriteLine("| raw epoll µs | EpollGen backend | EpollGen µs | ratio (median of per-round ratios) |");
        Console.WriteLine("|---:|---|---:|---:|");
        foreach (string backend in backends)
            Console.WriteLine($"| {Cell(raw, "0.0")} | {backend} | {Cell(gen[backend], "0.0")} | {Median(ratios[backend]):0.00}× ({ratios[backend].Min():0.00}–{ratios[backend].Max():0.00}) |");
    }

    private static void Memory()
    {
        const int Count = 10_000;
        var fds = new int[Count];
        for (int i = 0; i < Count; i++)
            fds[i] = eventfd(0, 0x80800);
        using var set = new EpollSet(tapBackend: EpollGen.Taps.TapBackendKind.Epoll);
        // Warm: the set's first registration grows its tables once; count the steady state.
        set.Add(fds[0], EpollEvents.EPOLLIN | EpollEvents.EPOLLET, 0);
        set.Remove(fds[0]);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long managedBefore = GC.GetTotalMemory(forceFullCollection: true);
        long nativeBefore = set.Queue.Mailbox.CommittedBytes;
        for (int i = 0; i < Count; i++)
            set.Add(fds[i], EpollEvents.EPOLLIN | EpollEvents.EPOLLET, (ulong)i);
        long managed = GC.GetTotalMemory(forceFullCollection: true) - managedBefore;
        long native = set.Queue.Mailbox.CommittedBytes - nativeBefore;
        GC.KeepAlive(set);
        Console.WriteLine();
        Console.WriteLine($"## Memory per registration ({Count:N0} eventfds in one set; the kernel's own epitem not counted)");
        Console.WriteLine();
        Console.WriteLine("| managed bytes | native (CEQ) bytes | total bytes per registration |");
        Console.WriteLine("|---:|---:|---:|");
        Console.WriteLine($"| {managed / (double)Count:0.0} | {native / (double)Count:0.0} | {(managed + native) / (double)Count:0.0} |");
        foreach (int fd in fds)
            Sys.close(fd);
    }

    private static void WaitCost(int rounds)
    {
        EpollGenEpoll.Backend = "epoll";
        const int Active = 100, Idle = 19_000, Waits = 2_000;
        var activeFds = new int[Active];
        var idleFds = new int[Idle];
        for (int i = 0; i < Active; i++)
        {
            activeFds[i] = eventfd(1, 0x80800);   // always readable
        }
        for (int i = 0; i < Idle; i++)
            idleFds[i] = eventfd(0, 0x80800);
        var small = new List<double>();
        var large = new List<double>();
        var rawSmall = new List<double>();
        var rawLarge = new List<double>();
        WarmUp(() => WaitNs<EpollGenEpoll>(activeFds, [], Waits));
        WarmUp(() => WaitNs<RawEpoll>(activeFds, [], Waits));
        for (int round = 0; round < rounds; round++)
        {
            small.Add(WaitNs<EpollGenEpoll>(activeFds, [], Waits));
            large.Add(WaitNs<EpollGenEpoll>(activeFds, idleFds, Waits));
            rawSmall.Add(WaitNs<RawEpoll>(activeFds, [], Waits));
            rawLarge.Add(WaitNs<RawEpoll>(activeFds, idleFds, Waits));
        }
        foreach (int fd in activeFds.Concat(idleFds))
            Sys.close(fd);
        Console.WriteLine();
        Console.WriteLine($"## Wait cost: epoll_wait(timeout 0) returning {Active} ready level-triggered events, ns per wait, median of {rounds} rounds × {Waits:N0} waits");
        Console.WriteLine();
        Console.WriteLine($"| implementation | {Active} registered | {Active + Idle:N0} registered | ratio |");
        Console.WriteLine("|---|---:|---:|---:|");
        Console.WriteLine($"| raw epoll | {Median(rawSmall):N0} | {Median(rawLarge):N0} | {Median(rawLarge) / Median(rawSmall):0.00}× |");
        Console.WriteLine($"| EpollGen | {Median(small):N0} | {Median(large):N0} | {Median(large) / Median(small):0.00}× |");
    }

    /// <summary>ns per zero-timeout wait on a fresh set holding <paramref name="idle"/> and <paramref name="active"/> (level-triggered).</summary>
    internal static double WaitNs<TApi>(int[] active, int[] idle, int waits)
        where TApi : IEpollApi
    {
        int epfd = TApi.Create();
        byte* ev = stackalloc byte[16];
        foreach (int fd in idle.Concat(active))
        {
            EpollEvent.WriteNative(ev, 0, new EpollEvent { Events = EpollEvents.EPOLLIN, data = (ulong)fd });
            TApi.Ctl(epfd, 1, fd, ev);
        }
        byte* events = (byte*)NativeMemory.Alloc((nuint)(256 * EpollEvent.NativeSize));
        for (int i = 0; i < 100; i++)
            TApi.Wait(epfd, events, 256, 0);
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < waits; i++)
        {
            if (TApi.Wait(epfd, events, 256, 0) != active.Length)
                throw new InvalidOperationException($"{TApi.Name}: a wait did not report every ready fd");
        }
        double ns = Stopwatch.GetElapsedTime(start).TotalNanoseconds / waits;
        NativeMemory.Free(events);
        TApi.Close(epfd);
        return ns;
    }

    [DllImport("libc", SetLastError = true)]
    internal static extern int eventfd(uint initval, int flags);

    // Runs a path for a while (a second unless told) before it is timed, so the JIT has promoted every method on it to
    // optimized code (tiered compilation starts methods unoptimized).
    internal static void WarmUp(Action run) => WarmUp(run, TimeSpan.FromSeconds(1));

    internal static void WarmUp(Action run, TimeSpan length)
    {
        long start = Stopwatch.GetTimestamp();
        do
            run();
        while (Stopwatch.GetElapsedTime(start) < length);
    }

    private static string Cell(List<double> values, string format = "N0") =>
        $"{Median(values).ToString(format, CultureInfo.InvariantCulture)} ({values.Min().ToString(format, CultureInfo.InvariantCulture)}–{values.Max().ToString(format, CultureInfo.InvariantCulture)})";
}
