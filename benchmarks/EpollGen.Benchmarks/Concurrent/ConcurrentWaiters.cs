using System;
using System.Diagnostics;
using System.Threading;
using EpollGen.Benchmarks.Chain;
using EpollGen.Interop;

namespace EpollGen.Benchmarks.Concurrent;

/// <summary>
/// Several threads serving one epoll set, the way worker pools use it: tokens circulate through
/// eventfds, each token in a lane of its own (so tokens never merge into one eventfd and the pool
/// always has as many independent events as tokens), and whichever thread a token's readiness
/// reaches reads it and passes it to the next eventfd of its lane. Counts the moves per second.
/// </summary>
/// <remarks>
/// Two patterns. <see cref="Pattern.OneShot"/>: each eventfd is registered EPOLLIN|EPOLLONESHOT, a
/// thread waits for one event, reads the eventfd, passes the token on and re-arms it with MOD (the
/// worker-pool pattern of servers that hand each connection to one thread at a time).
/// <see cref="Pattern.EdgeTriggered"/>: EPOLLIN|EPOLLET, a thread waits for up to 16 events and
/// reads each eventfd until EAGAIN; an eventfd read is atomic, so a token is taken once whichever
/// thread the edge woke. A round ends when the pool has moved its quota; every token is accounted
/// for, or the run fails.
/// </remarks>
internal static unsafe class ConcurrentWaiters
{
    public enum Pattern
    {
        OneShot,
        EdgeTriggered,
    }

    private const int EPOLL_CTL_ADD = 1, EPOLL_CTL_MOD = 3;
    private const int BatchEdgeTriggered = 16;

    private const string Usage = "usage: concurrent raw|epoll|io_uring oneshot|et [moves 200000] [threads 4]";

    /// <summary>
    /// <c>concurrent raw|epoll|io_uring oneshot|et [moves]</c>: one run of one implementation, 4
    /// threads by default, 64 fds, 16 tokens, so a profiler sees nothing else.
    /// </summary>
    public static int RunOne(string[] args)
    {
        if (args.Length < 2 || args[1] is not ("oneshot" or "et") || args[0] is not ("raw" or "epoll" or "io_uring"))
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }
        Pattern pattern = args[1] == "oneshot" ? Pattern.OneShot : Pattern.EdgeTriggered;
        int moves = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 200_000;
        int threads = args.Length > 3 ? int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 4;
        EpollGenEpoll.Backend = args[0];
        double rate = args[0] == "raw"
            ? MovesPerSecond<RawEpoll>(pattern, threads, 64, 16, moves)
            : MovesPerSecond<EpollGenEpoll>(pattern, threads, 64, 16, moves);
        Console.WriteLine(System.FormattableString.Invariant($"{args[0]} {args[1]}: {rate:N0} moves/s"));
        return 0;
    }

    /// <summary>Moves <paramref name="moves"/> tokens with <paramref name="threads"/> threads; returns moves per second.</summary>
    public static double MovesPerSecond<TApi>(Pattern pattern, int threads, int fds, int tokens, int moves)
        where TApi : IEpollApi
    {
        int set = TApi.Create();
        if (set < 0)
            throw new InvalidOperationException($"{TApi.Name}: epoll_create1 failed");
        int[] ring = new int[fds];
        try
        {
            EpollEvents mode = pattern == Pattern.OneShot ? EpollEvents.EPOLLONESHOT : EpollEvents.EPOLLET;
            for (int i = 0; i < fds; i++)
            {
                ring[i] = Sys.eventfd(0, 0x80800);
                if (ring[i] < 0)
                    throw new InvalidOperationException("eventfd failed");
                Control<TApi>(set, EPOLL_CTL_ADD, ring[i], EpollEvents.EPOLLIN | mode, (ulong)i);
            }
            if (fds % tokens != 0 || fds / tokens < 2)
                throw new ArgumentException($"{fds} fds do not make lanes of at least 2 for {tokens} tokens", nameof(tokens));
            var run = new Run(ring, fds / tokens, moves);
            for (int t = 0; t < tokens; t++)
                Pass(ring[t * run.Lane], 1);
            var workers = new Thread[threads];
            long start = Stopwatch.GetTimestamp();
            for (int t = 0; t < threads; t++)
            {
                workers[t] = pattern == Pattern.OneShot
                    ? new Thread(() => OneShotWorker<TApi>(set, run))
                    : new Thread(() => EdgeWorker<TApi>(set, run));
                workers[t].IsBackground = true;
                workers[t].Start();
            }
            foreach (Thread worker in workers)
            {
                if (!worker.Join(TimeSpan.FromSeconds(60)))
                    throw new TimeoutException($"{TApi.Name} {pattern}: a worker did not finish within 60 s ({Volatile.Read(ref run.Moved)} of {moves} moves)");
            }
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            long inFlight = 0;
            foreach (int fd in ring)
                inFlight += Drain(fd);
            // Tokens are conserved: those a worker took at the end count as moved but were not passed on.
            if (inFlight + run.Kept != tokens)
                throw new InvalidOperationException($"{TApi.Name} {pattern}: {tokens} tokens went in, {inFlight + run.Kept} came out");
            return run.Moved / seconds;
        }
        finally
        {
            foreach (int fd in ring)
            {
                if (fd > 0)
                    Sys.close(fd);
            }
            TApi.Close(set);
        }
    }

    private static void OneShotWorker<TApi>(int set, Run run)
        where TApi : IEpollApi
    {
        byte* events = stackalloc byte[EpollEvent.NativeSize];
        while (!run.Done)
        {
            if (TApi.Wait(set, events, 1, 10) != 1)
                continue;
            int index = (int)EpollEvent.ReadNative(events, 0).data;
            long taken = Drain(run.Ring[index]);
            Move(run, taken, index);
            Control<TApi>(set, EPOLL_CTL_MOD, run.Ring[index], EpollEvents.EPOLLIN | EpollEvents.EPOLLONESHOT, (ulong)index);
        }
    }

    private static void EdgeWorker<TApi>(int set, Run run)
        where TApi : IEpollApi
    {
        byte* events = stackalloc byte[BatchEdgeTriggered * EpollEvent.NativeSize];
        while (!run.Done)
        {
            int count = TApi.Wait(set, events, BatchEdgeTriggered, 10);
            for (int i = 0; i < count; i++)
            {
                int index = (int)EpollEvent.ReadNative(events, i).data;
                Move(run, Drain(run.Ring[index]), index);
            }
        }
    }

    // Counts the token taken and passes it to the next eventfd of its lane, unless the quota is reached.
    private static void Move(Run run, long taken, int index)
    {
        if (taken == 0)
            return;
        if (taken != 1)
            throw new InvalidOperationException($"eventfd {index} held {taken} tokens: lanes hold one each");
        if (Interlocked.Increment(ref run.Moved) >= run.Quota)
        {
            Interlocked.Increment(ref run.Kept);
            run.Done = true;
            return;
        }
        int lane = index - index % run.Lane;
        Pass(run.Ring[lane + (index - lane + 1) % run.Lane], 1);
    }

    private static void Pass(int fd, ulong tokens)
    {
        if (Sys.write(fd, &tokens, sizeof(ulong)) != sizeof(ulong))
            throw new InvalidOperationException("eventfd write failed");
    }

    // Reads the eventfd's count (nonblocking): the tokens waiting in it, or 0.
    private static long Drain(int fd)
    {
        ulong count;
        return Sys.read(fd, &count, sizeof(ulong)) == sizeof(ulong) ? (long)count : 0;
    }

    private static void Control<TApi>(int set, int op, int fd, EpollEvents events, ulong data)
        where TApi : IEpollApi
    {
        byte* native = stackalloc byte[EpollEvent.NativeSize];
        EpollEvent.WriteNative(native, 0, new EpollEvent { Events = events, data = data });
        if (TApi.Ctl(set, op, fd, native) != 0)
            throw new InvalidOperationException($"{TApi.Name}: epoll_ctl({op}) of fd {fd} failed");
    }

    private sealed class Run(int[] ring, int lane, long quota)
    {
        public readonly int[] Ring = ring;
        public readonly int Lane = lane;
        public readonly long Quota = quota;
        public long Moved;
        public long Kept;
        public volatile bool Done;
    }
}
