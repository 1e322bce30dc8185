using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using EpollGen.Interop;
using EpollGen.Taps;
using Xunit;

namespace EpollGen.Runtime.Tests.Concurrency;

/// <summary>
/// maxevents is honoured in one call up to Linux's maximum: a thousand ready items come back in
/// one call, level-triggered every time, edge-triggered once.
/// </summary>
public abstract unsafe class MaxEventsTests(EpollUnderTest epoll) : ConcurrencyTests(epoll)
{
    private const int Count = 1000;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AThousandWritableEventfds_AllComeBackInOneCall(bool edgeTriggered)
    {
        AssertFdsAvailable(Count + 64);
        int set = NewSet();
        for (int i = 0; i < Count; i++)
            Ctl(set, Linux.EPOLL_CTL_ADD, EventFd(), EpollEvents.EPOLLOUT | (edgeTriggered ? EpollEvents.EPOLLET : 0), (ulong)i);

        byte* events = (byte*)NativeMemory.Alloc((nuint)(Count * EpollEvent.NativeSize));
        try
        {
            var counts = new List<int>();
            for (int call = 0; call < 6; call++)
            {
                int n = Epoll.Wait(set, events, Count, 0);
                Assert.True(n >= 0, $"call {call} failed with errno {Marshal.GetLastPInvokeError()}");
                counts.Add(n);
                var seen = new HashSet<ulong>();
                for (int i = 0; i < n; i++)
                {
                    EpollEvent ev = EpollEvent.ReadNative(events, i);
                    Assert.True(ev.data < Count && seen.Add(ev.data), $"call {call} reported data {ev.data} (twice, or never registered)");
                    Assert.Equal(EpollEvents.EPOLLOUT, ev.Events);
                }
            }
            int[] expected = edgeTriggered ? [Count, 0, 0, 0, 0, 0] : [Count, Count, Count, Count, Count, Count];
            Assert.True(expected.AsSpan().SequenceEqual(counts.ToArray()),
                $"{Epoll} returned {string.Join(", ", counts)} where Linux returns {string.Join(", ", expected)}");
        }
        finally
        {
            NativeMemory.Free(events);
        }
    }

    // The test opens a thousand fds at once; the collection it runs in runs alone, so only this
    // test's own fds count against the limit.
    private static void AssertFdsAvailable(int needed)
    {
        Rlimit limit;
        Assert.Equal(0, getrlimit(RLIMIT_NOFILE, &limit));
        Assert.True(limit.Current >= (ulong)needed, $"RLIMIT_NOFILE is {limit.Current}; this test needs {needed} fds (ulimit -n)");
    }

    private const int RLIMIT_NOFILE = 7;

    [StructLayout(LayoutKind.Sequential)]
    private struct Rlimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [DllImport("libc", SetLastError = true)]
#pragma warning disable IDE1006 // libc's name
    private static extern int getrlimit(int resource, Rlimit* limit);
#pragma warning restore IDE1006
}

/// <summary><see cref="MaxEventsTests"/> on the kernel's epoll.</summary>
public sealed class MaxEventsTests_Kernel() : MaxEventsTests(new KernelEpoll());

/// <summary><see cref="MaxEventsTests"/> on EpollGen sets on the kernel-epoll tap backend.</summary>
public sealed class MaxEventsTests_Epoll() : MaxEventsTests(new EpollGenEpoll(TapBackendKind.Epoll));

/// <summary><see cref="MaxEventsTests"/> on EpollGen sets on the io_uring tap backend.</summary>
public sealed class MaxEventsTests_IoUring() : MaxEventsTests(new EpollGenEpoll(TapBackendKind.IoUring));
