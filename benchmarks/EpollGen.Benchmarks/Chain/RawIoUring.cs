using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using EpollGen.Interop;
using EpollGen.Native.IoUring;

namespace EpollGen.Benchmarks.Chain;

/// <summary>
/// io_uring called from C# with none of epoll's semantics: what the kernel's ring costs on the
/// chain workload, as perf-anchors.md's <c>uring_chain_bench.c</c> measures it in C. ADD arms a
/// multishot POLL_ADD whose user data is the registration's data, DEL removes it, and a wait reaps
/// the CQEs already visible, entering the kernel (no timeout) only when none are. A CQE is one
/// wake-up, possibly stale, never re-validated; a wait returns one entry per CQE.
/// </summary>
/// <remarks>
/// Edge-like and unmerged only on a default ring: the workload's edge-triggered loop, which reads
/// to EAGAIN, is the only one that gives the same bytes on both rings, so the benchmark runs these
/// rows in ET only. One ring at a time, on the thread that creates it.
/// </remarks>
internal readonly unsafe struct RawIoUring : IEpollApi
{
    private const ulong RemoveTag = 1UL << 63;
    private const int ECANCELED = 125;

    private static IoUringRing? s_ring;
    private static readonly Dictionary<int, ulong> s_dataOf = [];
    private static readonly IoUringCompletion[] s_batch = new IoUringCompletion[256];

    /// <summary>Create rings with <c>SINGLE_ISSUER | DEFER_TASKRUN</c> (completions posted inside waits).</summary>
    public static bool DeferTaskRun { get; set; }

    /// <summary>Multishot polls that ended (a full CQ) and were armed again, since the process started.</summary>
    public static long Rearms { get; private set; }

    public static string Name => DeferTaskRun ? "raw io_uring (DEFER_TASKRUN)" : "raw io_uring";

    public static int Create()
    {
        if (s_ring is not null)
            throw new InvalidOperationException("one raw io_uring at a time");
        // CQ room for a whole iteration's removals (two CQEs each) on top of its wake-ups.
        IoUringCreateResult created = IoUringRing.Create(4096, 65536,
            DeferTaskRun ? IoUringConstants.IORING_SETUP_SINGLE_ISSUER | IoUringConstants.IORING_SETUP_DEFER_TASKRUN : 0);
        if (!created.Succeeded)
        {
            Marshal.SetLastPInvokeError(created.Errno);
            return -1;
        }
        s_ring = created.Ring!;
        return s_ring.Fd;
    }

    public static int Ctl(int epfd, int op, int fd, void* ev)
    {
        IoUringRing ring = Ring(epfd);
        if (op == 1)
        {
            EpollEvent e = EpollEvent.ReadNative(ev, 0);
            s_dataOf[fd] = e.data;
            while (!ring.TryPreparePollAdd(fd, e.events & ~(uint)EpollEvents.EPOLLET, multishot: true, e.data))
                ring.Submit();
        }
        else if (op == 2 && s_dataOf.Remove(fd, out ulong data))
        {
            while (!ring.TryPreparePollRemove(data, RemoveTag | data))
                ring.Submit();
        }
        else
        {
            throw new NotSupportedException($"raw io_uring: epoll_ctl op {op} on fd {fd}");
        }
        return 0;
    }

    public static int Wait(int epfd, void* events, int maxEvents, int timeout)
    {
        if (timeout != 0)
            throw new NotSupportedException("raw io_uring: the workload polls with timeout 0");
        IoUringRing ring = Ring(epfd);
        if (ring.PendingSubmissions > 0 || ring.ReadyCompletions == 0)
            ring.Submit();
        int count = 0;
        while (count < maxEvents)
        {
            int reaped = ring.Reap(s_batch.AsSpan(0, Math.Min(s_batch.Length, maxEvents - count)));
            if (reaped == 0)
                break;
            for (int i = 0; i < reaped; i++)
            {
                IoUringCompletion c = s_batch[i];
                // Removals' own completions, and the removed polls' last one, are no events.
                if ((c.UserData & RemoveTag) != 0 || c.Result == -ECANCELED)
                    continue;
                if (c.Result < 0)
                    throw new InvalidOperationException($"raw io_uring: poll of data {c.UserData} failed: errno {-c.Result}");
                if (!c.HasMore)
                    Rearm(ring, c.UserData);
                EpollEvent.WriteNative(events, count++, new EpollEvent { events = (uint)c.Result, data = c.UserData });
            }
        }
        return count;
    }

    public static int Close(int fd)
    {
        Ring(fd).Dispose();
        s_ring = null;
        s_dataOf.Clear();
        return 0;
    }

    private static IoUringRing Ring(int epfd) =>
        s_ring is { } ring && ring.Fd == epfd ? ring : throw new ArgumentException($"fd {epfd} is not the raw io_uring");

    private static void Rearm(IoUringRing ring, ulong data)
    {
        foreach ((int fd, ulong d) in s_dataOf)
        {
            if (d != data)
                continue;
            Rearms++;
            while (!ring.TryPreparePollAdd(fd, (uint)EpollEvents.EPOLLIN, multishot: true, data))
                ring.Submit();
            return;
        }
    }
}
