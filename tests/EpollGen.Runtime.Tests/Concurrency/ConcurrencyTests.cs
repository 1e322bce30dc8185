using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Runtime.InteropServices;
using EpollGen.Interop;
using EpollGen.Runtime.Tests.Native;
using Xunit;

namespace EpollGen.Runtime.Tests.Concurrency;

/// <summary>
/// Base of the concurrency test classes: each runs on the kernel's epoll and on EpollGen's two tap
/// backends, through the sealed <c>…_Kernel</c>, <c>…_Epoll</c> and <c>…_IoUring</c> subclasses.
/// It owns the fds and sets a test opens, and releases every waiter still blocked when the test
/// ends (a failed assertion included): each set gets a release eventfd, written at the end.
/// </summary>
[Collection(SignalCollection.Name)]
public abstract unsafe class ConcurrencyTests(EpollUnderTest epoll) : IDisposable
{
    /// <summary>The data of the release eventfd's registration: no test registers it otherwise.</summary>
    protected const ulong ReleaseData = 0xDEAD_0000_0000UL;

    /// <summary>How long anything a test waits for may take, however loaded the machine.</summary>
    protected static readonly TimeSpan Bound = TimeSpan.FromSeconds(2);

    // How long the waiters still blocked at the end get to take the release: short, so a test whose
    // waiters the release cannot reach fails fast; a waiter that returns later does no harm.
    private static readonly TimeSpan ReleaseBound = TimeSpan.FromSeconds(1);

    protected const int EINTR = 4;

    private readonly List<int> _fds = [];
    private readonly List<int> _sets = [];
    private readonly Dictionary<int, int> _releases = [];
    private readonly List<Waiter> _waiters = [];

    protected EpollUnderTest Epoll { get; } = epoll;

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (!disposing)
            return;
        foreach (int release in _releases.Values)
            TestLibC.Signal(release);
        // One bound for all of them: a waiter the release cannot reach (the bug under test) is
        // left on its background thread, and its set's close below may still end it.
        long start = Stopwatch.GetTimestamp();
        foreach (Waiter waiter in _waiters)
            waiter.Join(TimeSpan.FromTicks(Math.Max(0, (ReleaseBound - Stopwatch.GetElapsedTime(start)).Ticks)));
        // A set's fd closed before its registered fds, on each epoll the way its users would.
        foreach (int set in _sets)
            Epoll.Close(set);
        foreach (int fd in _fds)
            Epoll.Close(fd);
    }

    /// <summary>A new set, with a release eventfd registered level-triggered (not ready until the test ends).</summary>
    protected int NewSet()
    {
        int set = Epoll.Create();
        Assert.True(set >= 0, $"epoll_create1 on {Epoll}: errno {Marshal.GetLastPInvokeError()}");
        _sets.Add(set);
        int release = EventFd();
        _releases.Add(set, release);
        Ctl(set, Linux.EPOLL_CTL_ADD, release, EpollEvents.EPOLLIN, ReleaseData);
        return set;
    }

    /// <summary>Makes the set's release eventfd readable: every waiter on it may return, with <see cref="ReleaseData"/>.</summary>
    protected void Release(int set) => TestLibC.Signal(_releases[set]);

    /// <summary>Forgets a set the test closed itself, so its number is not closed again.</summary>
    protected void Forget(int fd)
    {
        _sets.Remove(fd);
        _fds.Remove(fd);
    }

    protected int EventFd() => Own(TestLibC.EventFd());

    protected (int A, int B) SocketPair()
    {
        (int a, int b) = TestLibC.SocketPair();
        Own(a);
        Own(b);
        return (a, b);
    }

    protected int Own(int fd)
    {
        _fds.Add(fd);
        return fd;
    }

    /// <summary>epoll_ctl that must succeed.</summary>
    protected void Ctl(int set, int op, int fd, EpollEvents events, ulong data)
    {
        int result = TryCtl(set, op, fd, events, data);
        Assert.True(result == 0, $"epoll_ctl({op}, fd {fd}, {events}) on {Epoll}: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>epoll_ctl; returns its result, the errno in the last P/Invoke error.</summary>
    protected int TryCtl(int set, int op, int fd, EpollEvents events, ulong data)
    {
        byte* ev = stackalloc byte[EpollEvent.NativeSize];
        EpollEvent.WriteNative(ev, 0, new EpollEvent { Events = events, data = data });
        return Epoll.Ctl(set, op, fd, op == Linux.EPOLL_CTL_DEL ? null : ev);
    }

    /// <summary>Starts a wait on its own thread and returns once it is blocked.</summary>
    protected Waiter StartBlockedWait(string name, int set, int timeout, int maxEvents = 1)
    {
        Waiter waiter = StartWait(name, events => Epoll.Wait(set, events, maxEvents, timeout));
        waiter.UntilBlocked(Bound);
        return waiter;
    }

    /// <summary>Starts <paramref name="call"/> on its own thread; it is released, if still waiting, when the test ends.</summary>
    protected Waiter StartWait(string name, Waiter.WaitCall call)
    {
        var waiter = new Waiter(name, call);
        _waiters.Add(waiter);
        return waiter;
    }

    /// <summary>Asserts that <paramref name="waiter"/> returns within <see cref="Bound"/> with one event carrying <paramref name="data"/>.</summary>
    protected void AssertReturnsEvent(Waiter waiter, ulong data, string what)
    {
        Assert.True(waiter.Join(Bound), $"{what}: the waiter did not return within {Bound}");
        Assert.True(waiter.Result == 1, $"{what}: returned {waiter.Result} (errno {waiter.Errno}) after {waiter.Elapsed.TotalMilliseconds:F0} ms");
        Assert.Equal(data, waiter.Event(0).data);
    }

    /// <summary>
    /// Asserts that <paramref name="waiter"/> goes on waiting: it does not return within a short
    /// grace period (what a wrong wake-up would take), and it is asleep in a wait after it.
    /// </summary>
    protected static void AssertStillWaiting(Waiter waiter, string what)
    {
        Assert.False(waiter.Join(TimeSpan.FromMilliseconds(200)),
            $"{what}: the waiter returned {waiter.Result} (errno {waiter.Errno}) after {waiter.Elapsed.TotalMilliseconds:F0} ms");
        waiter.UntilBlocked(Bound);
    }

    /// <summary>Linux's epoll_ctl operation numbers.</summary>
    protected static class Linux
    {
        public const int EPOLL_CTL_ADD = 1;
        public const int EPOLL_CTL_DEL = 2;
        public const int EPOLL_CTL_MOD = 3;
    }
}
