using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using EpollGen.Native;
using EpollGen.Native.IoUring;
using Xunit;

namespace EpollGen.Runtime.Tests.IoUring;

/// <summary>Ring creation and bounded completion collection shared by the io_uring tests.</summary>
internal static class RingFixture
{
    /// <summary>Generous bound for something that should happen at once.</summary>
    public static readonly TimeSpan Soon = TimeSpan.FromSeconds(2);

    /// <summary>How long "nothing more arrives" is watched for, with the ring's own kernel timeout.</summary>
    public static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// A new ring, or a loud failure: this machine has io_uring enabled, so a refusal is a bug or a
    /// broken environment, never a reason to skip.
    /// </summary>
    public static IoUringRing Create(uint sqEntries = 8, uint cqEntries = 0, uint flags = 0)
    {
        Assert.True(IoUringRing.IsSupported, "io_uring is not usable here (io_uring_disabled = " + DisabledSetting() + "); these tests need it");
        IoUringCreateResult result = IoUringRing.Create(sqEntries, cqEntries, flags);
        Assert.True(result.Succeeded, "IoUringRing.Create: " + result);
        return result.Ring!;
    }

    /// <summary>Submits, then reaps until <paramref name="count"/> completions arrived or <see cref="Soon"/> passed.</summary>
    public static List<IoUringCompletion> Collect(IoUringRing ring, int count)
    {
        var got = new List<IoUringCompletion>();
        long start = Stopwatch.GetTimestamp();
        Span<IoUringCompletion> batch = stackalloc IoUringCompletion[16];
        while (got.Count < count)
        {
            TimeSpan left = Soon - Stopwatch.GetElapsedTime(start);
            if (left <= TimeSpan.Zero)
                break;
            IoUringSubmitResult result = ring.Submit(minComplete: 1, left);
            Assert.True(result.Errno is 0 or LibC.ETIME, "Submit failed with errno " + result.Errno);
            int reaped = ring.Reap(batch);
            for (int i = 0; i < reaped; i++)
                got.Add(batch[i]);
        }
        return got;
    }

    /// <summary>Asserts no completion arrives within <see cref="Quiet"/>, measured by the kernel.</summary>
    public static void AssertQuiet(IoUringRing ring)
    {
        IoUringSubmitResult result = ring.Submit(minComplete: 1, Quiet);
        Assert.True(ring.TryPeek(out IoUringCompletion unexpected) is false, "unexpected completion " + unexpected);
        Assert.Equal(LibC.ETIME, result.Errno);
    }

    /// <summary>Waits (bounded) until thread <paramref name="tid"/> of this process is inside io_uring_enter(2).</summary>
    public static void WaitUntilInIoUringEnter(int tid, TimeSpan within)
    {
        // /proc/<pid>/task/<tid>/syscall starts with the number of the system call the thread is
        // blocked in: proof that the waiter is parked in the kernel, not still on its way there.
        string path = $"/proc/self/task/{tid}/syscall";
        string expected = IoUringSyscalls.SYS_io_uring_enter + " ";
        long start = Stopwatch.GetTimestamp();
        string last = "";
        while (Stopwatch.GetElapsedTime(start) < within)
        {
            last = File.ReadAllText(path);
            if (last.StartsWith(expected, StringComparison.Ordinal))
                return;
            System.Threading.Thread.Sleep(1);
        }
        Assert.Fail($"thread {tid} was not blocked in io_uring_enter within {within}; {path}: {last}");
    }

    private static string DisabledSetting()
    {
        try
        {
            return File.ReadAllText("/proc/sys/kernel/io_uring_disabled").Trim();
        }
        catch (IOException e)
        {
            return e.Message;
        }
    }
}
