using System;
using System.Diagnostics;
using System.IO;
using System.Threading;
using Xunit;

namespace EpollGen.Runtime.Tests.Taps;

/// <summary>Observes from outside that a thread is blocked in a kernel wait, so a test can act on a sleeping waiter rather than hope it sleeps.</summary>
internal static class KernelWaits
{
    /// <summary>
    /// Waits until the thread whose id <paramref name="tid"/> will hold is blocked in a kernel wait
    /// (read from /proc/self/task/&lt;tid&gt;/syscall, which names the system call a thread is blocked
    /// in, or says "running"); fails the test after <paramref name="within"/>.
    /// </summary>
    public static void UntilBlocked(ref int tid, TimeSpan within)
    {
        long start = Stopwatch.GetTimestamp();
        string last = "";
        while (Stopwatch.GetElapsedTime(start) < within)
        {
            int id = Volatile.Read(ref tid);
            if (id != 0)
            {
                last = File.ReadAllText($"/proc/self/task/{id}/syscall");
                // epoll_wait (x86_64: 232) or epoll_pwait (281; arm64 has only epoll_pwait, 22),
                // io_uring_enter (426 on both), or ppoll (271; arm64 73), where a libc-shaped wait
                // without a buffer sleeps.
                if (last.StartsWith("232 ", StringComparison.Ordinal) || last.StartsWith("281 ", StringComparison.Ordinal)
                    || last.StartsWith("22 ", StringComparison.Ordinal) || last.StartsWith("426 ", StringComparison.Ordinal)
                    || last.StartsWith("271 ", StringComparison.Ordinal) || last.StartsWith("73 ", StringComparison.Ordinal))
                    return;
            }
            Thread.Sleep(1);
        }
        Assert.Fail($"the waiter was not blocked in a kernel wait within {within}: {last}");
    }
}
