using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Threading;
using EpollGen.Interop;
using EpollGen.Runtime.Tests.Native;
using EpollGen.Runtime.Tests.Taps;
using EpollGen.Taps;
using Xunit;
using static EpollGen.Interop.EpollEvents;

namespace EpollGen.Runtime.Tests.EpollSets;

/// <summary>
/// close(epfd) while another thread waits on the set, on the kernel's epoll and on EpollGen's
/// libc-shaped sets on each tap backend: the wait holds the set, as Linux's fdget does, so it goes
/// on and returns what becomes ready, or 0 at its timeout; the closed number is EBADF at once.
/// </summary>
/// <remarks>
/// In the signal collection: the closed number must stay free while the test uses it, and the
/// EpollGen variants set <c>EPOLLGEN_TAP_BACKEND</c>.
/// </remarks>
[Collection(SignalCollection.Name)]
public abstract unsafe class ConcurrentCloseTests : IDisposable
{
    private const int EBADF = 9;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);
    private readonly TapBackendKind? _backend;
    private readonly BackendEnvironment? _environment;
    private readonly List<int> _fds = [];

    /// <param name="backend">EpollGen's sets on this backend, or null for the kernel's epoll.</param>
    protected ConcurrentCloseTests(TapBackendKind? backend)
    {
        _backend = backend;
        if (backend is { } kind)
            _environment = new BackendEnvironment(kind);
    }

    public void Dispose()
    {
        _environment?.Dispose();
        foreach (int fd in _fds)
            TestLibC.close(fd);
    }

    [Fact]
    public void CloseDuringAnUnlimitedWait_TheWaitGoesOn_AndReturnsAnEventMadeReadyAfter()
    {
        int fd = Track(TestLibC.EventFd());
        int set = CreateWith(fd, 0xC105E);
        Waiter waiter = Waiter.Start(this, set, timeout: -1, withBuffer: true);

        CloseUnderTheWaiter(set, fd, waiter);
        TestLibC.Signal(fd);

        Assert.True(waiter.Thread.Join(Bound), "the wait did not return the event");
        Assert.Equal((1, 0), (waiter.Result, waiter.Errno));
        Assert.Equal(EPOLLIN, waiter.Event.Events);
        Assert.Equal(0xC105EUL, waiter.Event.data);
        AssertClosed(set, fd);
    }

    [Fact]
    public void CloseDuringATimedWait_TheWaitGoesOn_AndReturnsZeroAtItsTimeout()
    {
        int fd = Track(TestLibC.EventFd());
        int set = CreateWith(fd, 1);
        Waiter waiter = Waiter.Start(this, set, timeout: 1000, withBuffer: true);

        CloseUnderTheWaiter(set, fd, waiter);

        Assert.True(waiter.Thread.Join(Bound), "the wait did not end at its timeout");
        Assert.Equal((0, 0), (waiter.Result, waiter.Errno));
        Assert.True(waiter.Elapsed >= TimeSpan.FromMilliseconds(1000), $"returned after {waiter.Elapsed}");
        AssertClosed(set, fd);
    }

    // A null buffer is a valid range to Linux: the wait blocks like any other (EpollGen polls the
    // set's own fd for it), and a close does not end it either.
    [Fact]
    public void CloseDuringATimedWaitWithoutABuffer_TheWaitGoesOn_AndReturnsZeroAtItsTimeout()
    {
        int fd = Track(TestLibC.EventFd());
        int set = CreateWith(fd, 1);
        Waiter waiter = Waiter.Start(this, set, timeout: 1000, withBuffer: false);

        CloseUnderTheWaiter(set, fd, waiter);

        Assert.True(waiter.Thread.Join(Bound), "the wait did not end at its timeout");
        Assert.Equal((0, 0), (waiter.Result, waiter.Errno));
        Assert.True(waiter.Elapsed >= TimeSpan.FromMilliseconds(1000), $"returned after {waiter.Elapsed}");
        AssertClosed(set, fd);
    }

    // Closes the set's only fd once the waiter sleeps in the kernel, and checks that it sleeps on
    // and that the number is gone for new calls meanwhile (nothing opens an fd that could take it).
    private void CloseUnderTheWaiter(int set, int fd, Waiter waiter)
    {
        KernelWaits.UntilBlocked(ref waiter.Tid, Bound);
        Assert.Equal(0, Close(set));
        Assert.False(waiter.Thread.Join(TimeSpan.FromMilliseconds(100)), $"the close ended the wait: {waiter.Result}, errno {waiter.Errno}");
        KernelWaits.UntilBlocked(ref waiter.Tid, Bound);
        AssertClosed(set, fd);
    }

    private void AssertClosed(int set, int fd)
    {
        EpollEvent ev = new() { Events = EPOLLIN, data = 2 };
        byte* native = stackalloc byte[EpollEvent.NativeSize];
        EpollEvent.WriteNative(native, 0, ev);
        Assert.Equal((-1, EBADF), (Ctl(set, Epoll.EPOLL_CTL_ADD, fd, native), Marshal.GetLastPInvokeError()));
        Assert.Equal((-1, EBADF), (Wait(set, native, 1, 0), Marshal.GetLastPInvokeError()));
    }

    private int CreateWith(int fd, ulong data)
    {
        int set = _backend is null ? TestLibC.epoll_create1(0) : Epoll.epoll_create1(0);
        Assert.True(set >= 0, $"epoll_create1: errno {Marshal.GetLastPInvokeError()}");
        byte* native = stackalloc byte[EpollEvent.NativeSize];
        EpollEvent.WriteNative(native, 0, new EpollEvent { Events = EPOLLIN, data = data });
        Assert.Equal(0, Ctl(set, Epoll.EPOLL_CTL_ADD, fd, native));
        return set;
    }

    private int Ctl(int set, int op, int fd, void* ev) =>
        _backend is null ? TestLibC.epoll_ctl(set, op, fd, ev) : Epoll.epoll_ctl(set, op, fd, ev);

    private int Wait(int set, void* events, int maxEvents, int timeout) =>
        _backend is null ? TestLibC.epoll_wait(set, events, maxEvents, timeout) : Epoll.epoll_wait(set, events, maxEvents, timeout);

    private int Close(int set) => _backend is null ? TestLibC.close(set) : Epoll.close(set);

    private int Track(int fd)
    {
        _fds.Add(fd);
        return fd;
    }

    // A thread in one epoll_wait; background, so a wait that never returns cannot hold the run.
    private sealed class Waiter
    {
        public int Tid;
        public int Result = int.MinValue;
        public int Errno;
        public EpollEvent Event;
        public TimeSpan Elapsed;
        public Thread Thread = null!;

        public static Waiter Start(ConcurrentCloseTests test, int set, int timeout, bool withBuffer)
        {
            var waiter = new Waiter();
            waiter.Thread = new Thread(() =>
            {
                byte* events = stackalloc byte[EpollEvent.NativeSize];
                Volatile.Write(ref waiter.Tid, TestLibC.gettid());
                long start = Stopwatch.GetTimestamp();
                int result = test.Wait(set, withBuffer ? events : null, 1, timeout);
                waiter.Errno = result < 0 ? Marshal.GetLastPInvokeError() : 0;
                waiter.Elapsed = Stopwatch.GetElapsedTime(start);
                if (result > 0)
                    waiter.Event = EpollEvent.ReadNative(events, 0);
                Volatile.Write(ref waiter.Result, result);
            })
            { IsBackground = true };
            waiter.Thread.Start();
            return waiter;
        }
    }
}

[Collection(SignalCollection.Name)]
public sealed class ConcurrentCloseTests_Kernel() : ConcurrentCloseTests(null);

[Collection(SignalCollection.Name)]
public sealed class ConcurrentCloseTests_Epoll() : ConcurrentCloseTests(TapBackendKind.Epoll);

[Collection(SignalCollection.Name)]
public sealed class ConcurrentCloseTests_IoUring() : ConcurrentCloseTests(TapBackendKind.IoUring);
