using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;
using EpollGen.Interop;
using EpollGen.Runtime.Tests.Native;
using EpollGen.Runtime.Tests.Taps;
using EpollGen.Taps;
using Xunit;
using static EpollGen.Interop.EpollEvents;

namespace EpollGen.Runtime.Tests.EpollSets;

/// <summary>The libc-shaped API: return values, errnos in Linux's order, and the set as a real fd; on each tap backend.</summary>
[Collection(SignalCollection.Name)]
public abstract unsafe class EpollLibcTests : BackendTests, IDisposable
{
    private const int EPERM = 1, ENOENT = 2, EINTR = 4, EBADF = 9, EEXIST = 17, EFAULT = 14, EINVAL = 22, ELOOP = 40;
    private readonly List<int> _fds = [];
    private readonly List<int> _sets = [];
    private readonly List<nint> _events = [];
    private readonly BackendEnvironment _environment;

    protected EpollLibcTests(TapBackendKind backend)
        : base(backend)
    {
        _environment = new BackendEnvironment(backend);
    }

    public void Dispose()
    {
        _environment.Dispose();
        foreach (nint ev in _events)
            NativeMemory.Free((void*)ev);
        foreach (int set in _sets)
            Epoll.close(set);
        foreach (int fd in _fds)
            TestLibC.close(fd);
    }

    [Fact]
    public void Create_ValidatesSizeAndFlags_AndHonoursCloexec()
    {
        AssertFails(EINVAL, Epoll.epoll_create(0));
        AssertFails(EINVAL, Epoll.epoll_create(-1));
        AssertFails(EINVAL, Epoll.epoll_create1(-1));
        AssertFails(EINVAL, Epoll.epoll_create1(0x800));
        AssertFails(EINVAL, Epoll.epoll_create1(Epoll.EPOLL_CLOEXEC + 1));

        int plain = Set(Epoll.epoll_create(int.MaxValue));
        int cloexec = Set(Epoll.epoll_create1(Epoll.EPOLL_CLOEXEC));
        int flagsZero = Set(Epoll.epoll_create1(0));
        Assert.Equal(0, TestLibC.fcntl(plain, TestLibC.F_GETFD, 0));
        Assert.Equal(TestLibC.FD_CLOEXEC, TestLibC.fcntl(cloexec, TestLibC.F_GETFD, 0));
        Assert.Equal(0, TestLibC.fcntl(flagsZero, TestLibC.F_GETFD, 0));
    }

    [Fact]
    public void Ctl_ErrorsComeInLinuxsOrder()
    {
        int set = Set(Epoll.epoll_create1(0));
        int fd = Fd(TestLibC.EventFd());
        int file = Fd(TestLibC.Check(TestLibC.open("/proc/self/exe", TestLibC.O_CLOEXEC), "open"));
        (int pipeRead, _) = Pipe();
        byte* ev = Event(EPOLLIN, 1);

        AssertFails(EFAULT, Epoll.epoll_ctl(-1, Epoll.EPOLL_CTL_ADD, fd, null));     // EFAULT before EBADF
        AssertFails(EBADF, Epoll.epoll_ctl(-1, Epoll.EPOLL_CTL_ADD, fd, ev));
        AssertFails(EBADF, Epoll.epoll_ctl(set, Epoll.EPOLL_CTL_ADD, -1, ev));
        AssertFails(EPERM, Epoll.epoll_ctl(set, Epoll.EPOLL_CTL_ADD, file, ev));
        AssertFails(EPERM, Epoll.epoll_ctl(set, Epoll.EPOLL_CTL_DEL, file, null));
        AssertFails(EPERM, Epoll.epoll_ctl(pipeRead, Epoll.EPOLL_CTL_ADD, file, ev));   // EPERM before "not epoll"
        AssertFails(EINVAL, Epoll.epoll_ctl(pipeRead, Epoll.EPOLL_CTL_ADD, fd, ev));
        AssertFails(EINVAL, Epoll.epoll_ctl(set, Epoll.EPOLL_CTL_ADD, set, ev));
        AssertFails(EINVAL, Epoll.epoll_ctl(set, -1, fd, ev));
        AssertFails(ENOENT, Epoll.epoll_ctl(set, Epoll.EPOLL_CTL_MOD, fd, ev));
        AssertFails(ENOENT, Epoll.epoll_ctl(set, Epoll.EPOLL_CTL_DEL, fd, null));
        Assert.Equal(0, Epoll.epoll_ctl(set, Epoll.EPOLL_CTL_ADD, fd, ev));
        AssertFails(EEXIST, Epoll.epoll_ctl(set, Epoll.EPOLL_CTL_ADD, fd, ev));
        AssertFails(EINVAL, Epoll.epoll_ctl(set, Epoll.EPOLL_CTL_MOD, fd, Event(EPOLLIN | EPOLLEXCLUSIVE, 1)));
        Assert.Equal(0, Epoll.epoll_ctl(set, Epoll.EPOLL_CTL_DEL, fd, null));
    }

    [Fact]
    public void Wait_ValidatesMaxEvents_AndWritesNativeEvents()
    {
        int set = Set(Epoll.epoll_create1(0));
        byte* events = stackalloc byte[4 * EpollEvent.NativeSize];
        AssertFails(EINVAL, Epoll.epoll_wait(set, events, 0, 0));
        AssertFails(EINVAL, Epoll.epoll_wait(set, events, -1, 0));
        AssertFails(EINVAL, Epoll.epoll_wait(set, events, Epoll.MaxEvents + 1, 0));
        AssertFails(EBADF, Epoll.epoll_wait(-1, events, 4, 0));
        (int notEpoll, _) = Pipe();
        AssertFails(EINVAL, Epoll.epoll_wait(notEpoll, events, 4, 0));

        int fd = Fd(TestLibC.EventFd());
        Assert.Equal(0, Epoll.epoll_ctl(set, Epoll.EPOLL_CTL_ADD, fd, Event(EPOLLIN | EPOLLOUT, 0xABCDEF0123)));
        Assert.Equal(1, Epoll.epoll_wait(set, events, 4, -1));
        EpollEvent ev = EpollEvent.ReadNative(events, 0);
        Assert.Equal(EPOLLOUT, ev.Events);
        Assert.Equal(0xABCDEF0123UL, ev.data);
    }

    [Fact]
    public void Wait_WithANullBuffer_TimesOutOrFaultsOnTheFirstEvent_WhichStaysReady()
    {
        int set = Set(Epoll.epoll_create1(0));
        int fd = Fd(TestLibC.EventFd());
        Assert.Equal(0, Epoll.epoll_ctl(set, Epoll.EPOLL_CTL_ADD, fd, Event(EPOLLIN | EPOLLET, 7)));
        var clock = Stopwatch.StartNew();
        Assert.Equal(0, Epoll.epoll_wait(set, null, 4, 20));           // a valid range to Linux: it waits
        Assert.True(clock.ElapsedMilliseconds >= 20, $"returned after {clock.ElapsedMilliseconds} ms");

        ulong one = 1;
        Assert.Equal(8, (int)TestLibC.write(fd, &one, 8));
        AssertFails(EFAULT, Epoll.epoll_wait(set, null, 4, -1));
        byte* events = stackalloc byte[4 * EpollEvent.NativeSize];
        Assert.Equal(1, Epoll.epoll_wait(set, events, 4, 0));           // the edge was not consumed
        Assert.Equal(7UL, EpollEvent.ReadNative(events, 0).data);
    }

    [Fact]
    public void Ctl_ReadsAnEventOnTheCallersStack()
    {
        int set = Set(Epoll.epoll_create1(0));
        int fd = Fd(TestLibC.EventFd());
        byte* ev = stackalloc byte[EpollEvent.NativeSize];
        EpollEvent.WriteNative(ev, 0, new EpollEvent { Events = EPOLLOUT, data = 0x1234_5678_9ABC });
        Assert.Equal(0, Epoll.epoll_ctl(set, Epoll.EPOLL_CTL_ADD, fd, ev));
        byte* events = stackalloc byte[4 * EpollEvent.NativeSize];
        Assert.Equal(1, Epoll.epoll_wait(set, events, 4, 0));
        Assert.Equal(0x1234_5678_9ABCUL, EpollEvent.ReadNative(events, 0).data);
        Assert.Equal(EPOLLOUT, EpollEvent.ReadNative(events, 0).Events);
    }

    [Fact]
    public void BadUserPointers_AreEfault_AsTheKernelsCopiesReport_AndAReadyEventIsKept()
    {
        int set = Set(Epoll.epoll_create1(0));
        int fd = Fd(TestLibC.EventFd());
        void* kernelAddress = (void*)-4096L;
        AssertFails(EFAULT, Epoll.epoll_ctl(set, Epoll.EPOLL_CTL_ADD, fd, kernelAddress));
        AssertFails(EFAULT, Epoll.epoll_wait(set, kernelAddress, 4, -1));   // at once: not a user range

        // A mapped page the caller cannot read: the copy-in faults.
        void* noAccess = TestLibC.mmap(null, 4096, 0 /* PROT_NONE */, TestLibC.MAP_PRIVATE | TestLibC.MAP_ANONYMOUS, -1, 0);
        Assert.NotEqual(-1, (nint)noAccess);
        AssertFails(EFAULT, Epoll.epoll_ctl(set, Epoll.EPOLL_CTL_ADD, fd, noAccess));
        TestLibC.munmap(noAccess, 4096);

        // A mapped page the caller cannot write: the wait runs, and the copy-out faults.
        byte* readOnly = (byte*)TestLibC.mmap(null, 4096, TestLibC.PROT_READ, TestLibC.MAP_PRIVATE | TestLibC.MAP_ANONYMOUS, -1, 0);
        Assert.NotEqual(-1, (nint)readOnly);
        try
        {
            Assert.Equal(0, Epoll.epoll_ctl(set, Epoll.EPOLL_CTL_ADD, fd, Event(EPOLLIN | EPOLLET, 9)));
            Assert.Equal(0, Epoll.epoll_wait(set, readOnly, 4, 0));
            ulong one = 1;
            Assert.Equal(8, (int)TestLibC.write(fd, &one, 8));
            AssertFails(EFAULT, Epoll.epoll_wait(set, readOnly, 4, 5000));
            byte* events = stackalloc byte[4 * EpollEvent.NativeSize];
            Assert.Equal(1, Epoll.epoll_wait(set, events, 4, 0));
            Assert.Equal(9UL, EpollEvent.ReadNative(events, 0).data);
        }
        finally
        {
            TestLibC.munmap(readOnly, 4096);
        }
    }

    [Fact]
    public void Pwait2_ValidatesTheTimespec_AndWaitsNoLessThanIt()
    {
        int set = Set(Epoll.epoll_create1(0));
        byte* events = stackalloc byte[4 * EpollEvent.NativeSize];
        var negative = new Timespec { tv_sec = -1 };
        var badNanos = new Timespec { tv_nsec = 1_000_000_000 };
        AssertFails(EINVAL, Epoll.epoll_pwait2(set, events, 4, &negative, null));
        AssertFails(EINVAL, Epoll.epoll_pwait2(set, events, 4, &badNanos, null));
        AssertFails(EINVAL, Epoll.epoll_pwait2(-1, events, 4, &badNanos, null));   // the timespec first

        var zero = new Timespec();
        int polled = Epoll.epoll_pwait2(set, events, 4, &zero, null);
        Assert.True(polled == 0, $"returned {polled}, errno {Marshal.GetLastPInvokeError()}");
        var shortWait = new Timespec { tv_nsec = 20_000_000 };
        long start = Stopwatch.GetTimestamp();
        // EINTR is a legal outcome and is retried: a thread that drove io_uring rings (the io_uring
        // variant runs on this thread too) can be interrupted once by their late task_work.
        int waited;
        while ((waited = Epoll.epoll_pwait2(set, events, 4, &shortWait, null)) < 0 && Marshal.GetLastPInvokeError() == EINTR)
            start = Stopwatch.GetTimestamp();
        Assert.True(waited == 0, $"returned {waited}, errno {Marshal.GetLastPInvokeError()}");
        Assert.True(Stopwatch.GetElapsedTime(start) >= TimeSpan.FromMilliseconds(20));
    }

    [Fact]
    public void Dup_NamesTheSameSet_AndTheSetLivesUntilItsLastName()
    {
        int set = Epoll.epoll_create1(0);
        int copy = Set(Epoll.dup(set));
        int fd = Fd(TestLibC.EventFd());
        Assert.Equal(0, Epoll.epoll_ctl(set, Epoll.EPOLL_CTL_ADD, fd, Event(EPOLLIN, 3)));
        AssertFails(EEXIST, Epoll.epoll_ctl(copy, Epoll.EPOLL_CTL_ADD, fd, Event(EPOLLIN, 3)));
        Assert.Equal(0, Epoll.close(set));

        TestLibC.Signal(fd);
        byte* events = stackalloc byte[EpollEvent.NativeSize];
        Assert.Equal(1, Epoll.epoll_wait(copy, events, 1, 5000));
        Assert.Equal(3UL, EpollEvent.ReadNative(events, 0).data);

        int third = Set(Epoll.epoll_create1(0));
        Assert.Equal(third, Epoll.dup2(copy, third));
        Assert.Equal(0, Epoll.epoll_ctl(third, Epoll.EPOLL_CTL_DEL, fd, null));
    }

    [Fact]
    public void FcntlDupFd_NamesTheSameSet_AtOrAboveTheMinimum_AndOtherCommandsPassThrough()
    {
        int set = Set(Epoll.epoll_create1(0));
        int copy = Set(Epoll.fcntl(set, TestLibC.F_DUPFD_CLOEXEC, 200));
        Assert.True(copy >= 200, $"got fd {copy}");
        Assert.Equal(TestLibC.FD_CLOEXEC, Epoll.fcntl(copy, TestLibC.F_GETFD, 0));
        int fd = Fd(TestLibC.EventFd());
        Assert.Equal(0, Epoll.epoll_ctl(set, Epoll.EPOLL_CTL_ADD, fd, Event(EPOLLIN, 5)));
        AssertFails(EEXIST, Epoll.epoll_ctl(copy, Epoll.EPOLL_CTL_ADD, fd, Event(EPOLLIN, 5)));

        int plain = Set(Epoll.fcntl(copy, 0 /* F_DUPFD */, 0));
        Assert.Equal(0, Epoll.fcntl(plain, TestLibC.F_GETFD, 0));
        Assert.Equal(0, Epoll.epoll_ctl(plain, Epoll.EPOLL_CTL_DEL, fd, null));
        AssertFails(EBADF, Epoll.fcntl(-1, TestLibC.F_DUPFD_CLOEXEC, 0));
    }

    [Fact]
    public void Close_OfARegisteredFd_LeavesEverySet_SoItsNumberCanBeRegisteredAgain()
    {
        int set = Set(Epoll.epoll_create1(0));
        (int read, int write) = TestLibC.Pipe();
        Assert.Equal(0, Epoll.epoll_ctl(set, Epoll.EPOLL_CTL_ADD, read, Event(EPOLLIN, 1)));
        Assert.Equal(0, Epoll.close(read));
        TestLibC.close(write);

        int reused = Fd(TestLibC.EventFd());
        Assert.Equal(read, reused);
        Assert.Equal(0, Epoll.epoll_ctl(set, Epoll.EPOLL_CTL_ADD, reused, Event(EPOLLIN, 2)));
        byte* events = stackalloc byte[4 * EpollEvent.NativeSize];
        Assert.Equal(0, Epoll.epoll_wait(set, events, 4, 0));
    }

    [Fact]
    public void Close_WhileADupKeepsTheFile_KeepsTheRegistrationReporting_UntilTheFileIsReleased()
    {
        int set = Set(Epoll.epoll_create1(0));
        (int read, int write) = TestLibC.Pipe();
        _fds.Add(write);
        int copy = TestLibC.Check(TestLibC.fcntl(read, 1030 /* F_DUPFD_CLOEXEC */, 0), "dup");
        Assert.Equal(0, Epoll.epoll_ctl(set, Epoll.EPOLL_CTL_ADD, read, Event(EPOLLIN, 2)));
        Assert.Equal(0, Epoll.close(read));
        byte one = 1;
        Assert.Equal(1, (int)TestLibC.write(write, &one, 1));
        byte* events = stackalloc byte[4 * EpollEvent.NativeSize];
        // Linux keys the registration by (fd, file): the file is open through the copy, so it reports.
        Assert.Equal(1, Epoll.epoll_wait(set, events, 4, 0));
        Assert.Equal(2UL, EpollEvent.ReadNative(events, 0).data);
        AssertFails(EBADF, Epoll.epoll_ctl(set, Epoll.EPOLL_CTL_DEL, read, null));   // the number is closed
        AssertFails(ENOENT, Epoll.epoll_ctl(set, Epoll.EPOLL_CTL_DEL, copy, null));  // the copy is another key

        // The number is free: a new file there is a new registration beside the orphan.
        int reused = Fd(TestLibC.EventFd());
        Assert.Equal(read, reused);
        Assert.Equal(0, Epoll.epoll_ctl(set, Epoll.EPOLL_CTL_ADD, reused, Event(EPOLLOUT, 3)));
        Assert.Equal(2, Epoll.epoll_wait(set, events, 4, 0));

        // The last fd of the file goes: so does the registration.
        Assert.Equal(0, Epoll.close(copy));
        Assert.Equal(1, Epoll.epoll_wait(set, events, 4, 0));
        Assert.Equal(3UL, EpollEvent.ReadNative(events, 0).data);
    }

    // A close is no edge: an edge-triggered registration whose edge was reported stays quiet when its
    // fd is closed while a copy keeps the file (io_uring sets move it to a proxy then, whose ready
    // fd must not pass for a new edge), and reports the next edge once.
    [Fact]
    public void Close_OfAnEdgeTriggeredRegistrationAlreadyReported_ReportsOnlyTheNextEdge()
    {
        byte* events = stackalloc byte[4 * EpollEvent.NativeSize];
        (int set, int fd, int copy) = EdgeTriggeredEventFdWithACopy();
        TestLibC.Signal(fd);
        Assert.Equal(1, Epoll.epoll_wait(set, events, 4, 0));

        Assert.Equal(0, Epoll.close(fd));
        Assert.Equal(0, Epoll.epoll_wait(set, events, 4, 0));

        TestLibC.Signal(copy);
        Assert.Equal(1, Epoll.epoll_wait(set, events, 4, 0));
        Assert.Equal(1UL, EpollEvent.ReadNative(events, 0).data);
        Assert.Equal(0, Epoll.epoll_wait(set, events, 4, 0));
    }

    // An edge that came before the close and was not yet reported survives it. Also when the
    // registration was made on a thread that has exited since: on io_uring sets its poll's
    // completions are posted by that thread's task_work, which a kernel worker runs for it about a
    // tick later (or the thread's exit cancelled the poll), after the close has moved the
    // registration to its proxy.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Close_OfAnEdgeTriggeredRegistrationWithAnEdgeUnreported_ReportsTheEdge(bool registeredOnAnotherThread)
    {
        byte* events = stackalloc byte[4 * EpollEvent.NativeSize];
        (int set, int fd, int copy) = EdgeTriggeredEventFdWithACopy(registeredOnAnotherThread);
        TestLibC.Signal(copy);

        Assert.Equal(0, Epoll.close(fd));

        Assert.Equal(1, Epoll.epoll_wait(set, events, 4, 5000));
        Assert.Equal(1UL, EpollEvent.ReadNative(events, 0).data);
        Assert.Equal(0, Epoll.epoll_wait(set, events, 4, 0));
    }

    // Registrations made, fired and closed (a copy keeps each file) on one thread while another
    // waits: whichever thread's poll the edge was on, and whether the close's collection reaped it
    // or the waiter did, every edge is reported (perhaps twice), none lost.
    [Fact]
    public void Close_WhileAnotherThreadWaits_LosesNoEdge()
    {
        const int Registrations = 400;
        int set = Set(Epoll.epoll_create1(0));
        var seen = new bool[Registrations];
        int seenCount = 0;
        using var stop = new CancellationTokenSource();
        var waiter = new Thread(() =>
        {
            byte* events = stackalloc byte[64 * EpollEvent.NativeSize];
            while (!stop.IsCancellationRequested)
            {
                int n = Epoll.epoll_wait(set, events, 64, 50);
                for (int i = 0; i < n; i++)
                {
                    int data = (int)EpollEvent.ReadNative(events, i).data;
                    if (!seen[data])
                    {
                        seen[data] = true;
                        Interlocked.Increment(ref seenCount);
                    }
                }
            }
        });
        waiter.Start();
        var copies = new List<int>();
        try
        {
            for (int i = 0; i < Registrations; i++)
            {
                int fd = TestLibC.EventFd();
                copies.Add(TestLibC.Check(TestLibC.fcntl(fd, 1030 /* F_DUPFD_CLOEXEC */, 0), "dup"));
                Assert.Equal(0, Epoll.epoll_ctl(set, Epoll.EPOLL_CTL_ADD, fd, Event(EPOLLIN | EPOLLET, (ulong)i)));
                TestLibC.Signal(copies[^1]);
                Assert.Equal(0, Epoll.close(fd));
            }
            Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref seenCount) == Registrations, TimeSpan.FromSeconds(20)),
                $"{Registrations - Volatile.Read(ref seenCount)} edges never reported, the first data {Array.IndexOf(seen, false)}");
        }
        finally
        {
            stop.Cancel();
            Assert.True(waiter.Join(TimeSpan.FromSeconds(5)));
            foreach (int copy in copies)
                Epoll.close(copy);
        }
    }

    // A set holding an eventfd edge-triggered (EPOLLIN, data 1), registered on this thread or on
    // one that then exits, and a copy of the eventfd that keeps its file open when the registered
    // fd is closed (the test closes fd itself).
    private (int Set, int Fd, int Copy) EdgeTriggeredEventFdWithACopy(bool registeredOnAnotherThread = false)
    {
        int set = Set(Epoll.epoll_create1(0));
        int fd = TestLibC.EventFd();
        int copy = Fd(TestLibC.Check(TestLibC.fcntl(fd, 1030 /* F_DUPFD_CLOEXEC */, 0), "dup"));
        int added = -1;
        void Register() => added = Epoll.epoll_ctl(set, Epoll.EPOLL_CTL_ADD, fd, Event(EPOLLIN | EPOLLET, 1));
        if (registeredOnAnotherThread)
        {
            var thread = new Thread(Register);
            thread.Start();
            Assert.True(thread.Join(TimeSpan.FromSeconds(5)));
        }
        else
        {
            Register();
        }
        Assert.Equal(0, added);
        return (set, fd, copy);
    }

    // An orphan's wake-up reaches the sets holding its set at once in Linux, so it still counts
    // when the orphan's file is released right after: a set holding that set edge-triggered
    // reports it (ready through its other, level-triggered entry).
    [Fact]
    public void OrphanWokenThenReleased_StillWokeTheSetsHoldingItsSet()
    {
        int outer = Set(Epoll.epoll_create1(0)), inner = Set(Epoll.epoll_create1(0));
        byte* events = stackalloc byte[4 * EpollEvent.NativeSize];
        int fd = TestLibC.EventFd();
        int copy = TestLibC.Check(TestLibC.fcntl(fd, 1030 /* F_DUPFD_CLOEXEC */, 0), "dup");
        int writable = Fd(TestLibC.EventFd());
        Assert.Equal(0, Epoll.epoll_ctl(inner, Epoll.EPOLL_CTL_ADD, fd, Event(EPOLLIN, 1)));
        Assert.Equal(0, Epoll.close(fd));
        Assert.Equal(0, Epoll.epoll_ctl(inner, Epoll.EPOLL_CTL_ADD, writable, Event(EPOLLOUT, 2)));
        Assert.Equal(0, Epoll.epoll_ctl(outer, Epoll.EPOLL_CTL_ADD, inner, Event(EPOLLIN | EPOLLET, 3)));
        Assert.Equal(1, Epoll.epoll_wait(outer, events, 4, 0));
        Assert.Equal(0, Epoll.epoll_wait(outer, events, 4, 0));

        TestLibC.Signal(copy);
        Assert.Equal(0, Epoll.close(copy));   // the orphan's file is released

        Assert.Equal(1, Epoll.epoll_wait(outer, events, 4, 0));
        Assert.Equal(3UL, EpollEvent.ReadNative(events, 0).data);
    }

    // A close wakes no one in Linux: a set holding the closed fd's set edge-triggered hears nothing,
    // though the orphan, level-triggered and ready, goes on reporting in its own set.
    [Fact]
    public void Close_OfARegisteredFd_DoesNotWakeThePollersOfItsSet()
    {
        int outer = Set(Epoll.epoll_create1(0)), inner = Set(Epoll.epoll_create1(0));
        byte* events = stackalloc byte[4 * EpollEvent.NativeSize];
        int fd = TestLibC.EventFd();
        int copy = Fd(TestLibC.Check(TestLibC.fcntl(fd, 1030 /* F_DUPFD_CLOEXEC */, 0), "dup"));
        Assert.Equal(0, Epoll.epoll_ctl(inner, Epoll.EPOLL_CTL_ADD, fd, Event(EPOLLOUT, 1)));
        Assert.Equal(0, Epoll.epoll_ctl(outer, Epoll.EPOLL_CTL_ADD, inner, Event(EPOLLIN | EPOLLET, 2)));
        Assert.Equal(1, Epoll.epoll_wait(outer, events, 4, 0));
        Assert.Equal(0, Epoll.epoll_wait(outer, events, 4, 0));

        Assert.Equal(0, Epoll.close(fd));

        Assert.Equal(0, Epoll.epoll_wait(outer, events, 4, 0));
        Assert.Equal(1, Epoll.epoll_wait(inner, events, 4, 0));
        Assert.Equal(1UL, EpollEvent.ReadNative(events, 0).data);
        Assert.Equal(0, Epoll.close(copy));
        _fds.Remove(copy);
        Assert.Equal(0, Epoll.epoll_wait(inner, events, 4, 0));
    }

    // Two orphans under one number: the kernel says how many registrations the number still has,
    // not whose. When the newer file is released, the older orphan must go on reporting.
    [Fact]
    public void TwoOrphansUnderOneNumber_TheOneWhoseFileIsReleasedGoes_TheOtherReports()
    {
        int set = Set(Epoll.epoll_create1(0));
        byte* events = stackalloc byte[4 * EpollEvent.NativeSize];
        int first = Fd(TestLibC.EventFd()), second = TestLibC.EventFd();
        TwoOrphansUnderOneNumber(set, first, second);
        TestLibC.Signal(second);
        Assert.Equal(1, Epoll.epoll_wait(set, events, 4, 0));
        Assert.Equal(2UL, EpollEvent.ReadNative(events, 0).data);

        Assert.Equal(0, Epoll.close(second));
        TestLibC.Signal(first);

        Assert.Equal(1, Epoll.epoll_wait(set, events, 4, 0));
        Assert.Equal(1UL, EpollEvent.ReadNative(events, 0).data);
    }

    // Two orphans under one number, and the number made to name one of their files again: Linux's
    // (fd, file) lookup finds that file's registration, not the other's.
    [Fact]
    public void TwoOrphansUnderOneNumber_Dup2BackOntoTheNumber_FindsTheRightOne()
    {
        int set = Set(Epoll.epoll_create1(0));
        byte* events = stackalloc byte[4 * EpollEvent.NativeSize];
        int first = Fd(TestLibC.EventFd()), second = Fd(TestLibC.EventFd());
        int number = TwoOrphansUnderOneNumber(set, first, second);
        // The number names the second file again: a MOD reaches that file's registration.
        Assert.Equal(number, Epoll.dup2(second, number));
        AssertFails(EEXIST, Epoll.epoll_ctl(set, Epoll.EPOLL_CTL_ADD, number, Event(EPOLLIN, 9)));
        Assert.Equal(0, Epoll.epoll_ctl(set, Epoll.EPOLL_CTL_MOD, number, Event(EPOLLIN, 3)));
        TestLibC.Signal(second);
        Assert.Equal(1, Epoll.epoll_wait(set, events, 4, 0));
        Assert.Equal(3UL, EpollEvent.ReadNative(events, 0).data);

        // The first file's registration is still the orphan it was.
        TestLibC.Signal(first);
        Assert.Equal(2, Epoll.epoll_wait(set, events, 4, 0));
        var data = new[] { EpollEvent.ReadNative(events, 0).data, EpollEvent.ReadNative(events, 1).data };
        Array.Sort(data);
        Assert.Equal([1UL, 3UL], data);
    }

    // Thousands of registered fds closed without a DEL, whose files go with the close: their
    // registrations are dropped in the end (kernel epoll sets find out in batches, from the
    // kernel's listing of the instance), while an orphan whose file lives on keeps reporting
    // through every batch, and a dup2 of its file back onto its number still finds it.
    [Fact]
    public void ThousandsOfClosesWithoutDel_ReleaseTheirRegistrations_AndKeepTheLiveOrphan()
    {
        int set = Set(Epoll.epoll_create1(0));
        byte* events = stackalloc byte[4 * EpollEvent.NativeSize];
        int fd = TestLibC.EventFd();
        int copy = Fd(TestLibC.Check(TestLibC.fcntl(fd, 1030 /* F_DUPFD_CLOEXEC */, 0), "dup"));
        Assert.Equal(0, Epoll.epoll_ctl(set, Epoll.EPOLL_CTL_ADD, fd, Event(EPOLLIN, 7)));
        Assert.Equal(0, Epoll.close(fd));

        for (int i = 0; i < 5000; i++)
        {
            (int read, int write) = TestLibC.Pipe();
            Assert.Equal(0, Epoll.epoll_ctl(set, Epoll.EPOLL_CTL_ADD, read, Event(EPOLLIN | EPOLLET, 100)));
            Assert.Equal(0, Epoll.close(write));
            Assert.Equal(0, Epoll.close(read));
        }

        // The orphan and at most a batch's worth of the closed pipes' registrations.
        Assert.InRange(EpollNames.Find(set)!.Count, 1, 200);
        Assert.Equal(0, Epoll.epoll_wait(set, events, 4, 0));
        TestLibC.Signal(copy);
        Assert.Equal(1, Epoll.epoll_wait(set, events, 4, 0));
        Assert.Equal(7UL, EpollEvent.ReadNative(events, 0).data);
        Assert.Equal(fd, Epoll.dup2(copy, fd));
        _fds.Add(fd);
        Assert.Equal(0, Epoll.epoll_ctl(set, Epoll.EPOLL_CTL_DEL, fd, null));
        Assert.Equal(0, Epoll.epoll_wait(set, events, 4, 0));
    }

    // A set's registration orphaned (its number dup2'd over while the set stays open), the set then
    // closed, and the number's next file's registration orphaned by a close while a copy keeps the
    // file: the set's orphan went with the set, and must not be counted as the number's live one.
    [Fact]
    public void OrphanOfAClosedSet_DoesNotHideTheNextOrphanUnderItsNumber()
    {
        int set = Set(Epoll.epoll_create1(0));
        byte* events = stackalloc byte[4 * EpollEvent.NativeSize];
        int child = TestLibC.Check(Epoll.epoll_create1(0), "epoll_create1");
        int file = Fd(TestLibC.EventFd());
        int number = TestLibC.Check(Epoll.dup(child), "dup");
        Assert.Equal(0, Epoll.epoll_ctl(set, Epoll.EPOLL_CTL_ADD, number, Event(EPOLLIN, 1)));
        Assert.Equal(number, Epoll.dup2(file, number));
        Assert.Equal(0, Epoll.epoll_ctl(set, Epoll.EPOLL_CTL_ADD, number, Event(EPOLLIN, 2)));
        Assert.Equal(0, Epoll.close(child));
        int copy = Fd(TestLibC.Check(TestLibC.fcntl(number, 1030 /* F_DUPFD_CLOEXEC */, 0), "dup"));
        Assert.Equal(0, Epoll.close(number));

        TestLibC.Signal(copy);
        Assert.Equal(1, Epoll.epoll_wait(set, events, 4, 0));
        Assert.Equal(2UL, EpollEvent.ReadNative(events, 0).data);
    }

    // An orphan under a number, a second file registered there, and that file released by a dup2
    // of the orphan's file back onto the number: the released file's registration went with it,
    // and forgetting it must not take the orphan's (a DEL by number would reach the orphan's file).
    [Fact]
    public void RegistrationReleasedByDup2_LeavesTheOrphanTheNumberNamesAgain()
    {
        int set = Set(Epoll.epoll_create1(0));
        byte* events = stackalloc byte[4 * EpollEvent.NativeSize];
        int first = Fd(TestLibC.EventFd()), second = TestLibC.EventFd();
        int number = OrphanAndRegistrationUnderOneNumber(set, first, second);
        Assert.Equal(0, Epoll.close(second));
        Assert.Equal(number, Epoll.dup2(first, number));   // the second file's last fd goes
        AssertFails(EEXIST, Epoll.epoll_ctl(set, Epoll.EPOLL_CTL_ADD, number, Event(EPOLLIN, 3)));
        TestLibC.Signal(first);
        Assert.Equal(1, Epoll.epoll_wait(set, events, 4, 0));
        Assert.Equal(1UL, EpollEvent.ReadNative(events, 0).data);
    }

    // A dup of first, registered in set with data 1, then dup2'd over by second, registered with
    // data 2: on kernel epoll sets, an orphan and a registration under the number it returns.
    // dup2 replaces the number at once, so it is never free for another thread's fd.
    private int OrphanAndRegistrationUnderOneNumber(int set, int first, int second)
    {
        int number = Fd(TestLibC.Check(TestLibC.fcntl(first, 1030 /* F_DUPFD_CLOEXEC */, 0), "dup"));
        Assert.Equal(0, Epoll.epoll_ctl(set, Epoll.EPOLL_CTL_ADD, number, Event(EPOLLIN, 1)));
        Assert.Equal(number, Epoll.dup2(second, number));
        Assert.Equal(0, Epoll.epoll_ctl(set, Epoll.EPOLL_CTL_ADD, number, Event(EPOLLIN, 2)));
        return number;
    }

    // The same, then dup2'd over by a third file: two orphans under the number.
    private int TwoOrphansUnderOneNumber(int set, int first, int second)
    {
        int third = Fd(TestLibC.EventFd());
        int number = OrphanAndRegistrationUnderOneNumber(set, first, second);
        Assert.Equal(number, Epoll.dup2(third, number));
        return number;
    }

    [Fact]
    public void Del_OfAnFdClosedOrReusedBehindEpollGensBack_FailsAsTheKernelsDoes()
    {
        int set = Set(Epoll.epoll_create1(0));
        int kernel = Fd(TestLibC.Check(TestLibC.epoll_create1(0), "epoll_create1"));
        (int read, int write) = TestLibC.Pipe();
        _fds.Add(write);
        int copy = Fd(TestLibC.Check(TestLibC.fcntl(read, 1030 /* F_DUPFD_CLOEXEC */, 0), "dup"));
        Assert.Equal(0, Epoll.epoll_ctl(set, Epoll.EPOLL_CTL_ADD, read, Event(EPOLLIN, 1)));
        Assert.Equal(0, TestLibC.epoll_ctl(kernel, Epoll.EPOLL_CTL_ADD, read, Event(EPOLLIN, 1)));
        TestLibC.close(read);   // not through Epoll.close: EpollGen is not told

        AssertFails(EBADF, TestLibC.epoll_ctl(kernel, Epoll.EPOLL_CTL_DEL, read, null));
        AssertFails(EBADF, Epoll.epoll_ctl(set, Epoll.EPOLL_CTL_DEL, read, null));
        if (Backend == TapBackendKind.IoUring)
            return;   // its removal asks the kernel nothing, so it cannot tell a reused number

        int reused = Fd(TestLibC.EventFd());
        Assert.Equal(read, reused);
        AssertFails(ENOENT, TestLibC.epoll_ctl(kernel, Epoll.EPOLL_CTL_DEL, reused, null));
        AssertFails(ENOENT, Epoll.epoll_ctl(set, Epoll.EPOLL_CTL_DEL, reused, null));

        // The copy keeps the file, so both keep its registration, reporting.
        byte one = 1;
        Assert.Equal(1, (int)TestLibC.write(write, &one, 1));
        byte* events = stackalloc byte[4 * EpollEvent.NativeSize];
        Assert.Equal(1, TestLibC.epoll_wait(kernel, events, 4, 0));
        Assert.Equal(1, Epoll.epoll_wait(set, events, 4, 0));
        Assert.Equal(1UL, EpollEvent.ReadNative(events, 0).data);
        Assert.Equal(0, Epoll.epoll_ctl(set, Epoll.EPOLL_CTL_ADD, reused, Event(EPOLLOUT, 2)));
        Assert.Equal(0, Epoll.epoll_ctl(set, Epoll.EPOLL_CTL_DEL, reused, null));
        Assert.Equal(1, Epoll.epoll_wait(set, events, 4, 0));
        Assert.Equal(1UL, EpollEvent.ReadNative(events, 0).data);
    }

    [Fact]
    public void Set_NestsInTheKernelsEpoll_AndTheKernelSeesItsReadiness()
    {
        int set = Set(Epoll.epoll_create1(0));
        int fd = Fd(TestLibC.EventFd());
        Assert.Equal(0, Epoll.epoll_ctl(set, Epoll.EPOLL_CTL_ADD, fd, Event(EPOLLIN | EPOLLET, 1)));
        int kernel = Fd(TestLibC.Check(TestLibC.epoll_create1(0), "epoll_create1"));
        Assert.Equal(0, TestLibC.epoll_ctl(kernel, Epoll.EPOLL_CTL_ADD, set, Event(EPOLLIN, 9)));
        byte* events = stackalloc byte[4 * EpollEvent.NativeSize];
        Assert.Equal(0, TestLibC.epoll_wait(kernel, events, 4, 0));

        TestLibC.Signal(fd);

        Assert.Equal(1, TestLibC.epoll_wait(kernel, events, 4, 5000));
        Assert.Equal(9UL, EpollEvent.ReadNative(events, 0).data);
        Assert.Equal(1, Epoll.epoll_wait(set, events, 4, 0));
        Assert.Equal(1UL, EpollEvent.ReadNative(events, 0).data);
    }

    // An epoll instance wakes its pollers with EPOLLIN alone, so a set registered without EPOLLIN
    // is never queued by a wake-up: it reports only when ADD or MOD finds it ready. On io_uring
    // taps the inner set's own completions end the outer poll's multishot (the kernel's
    // EPOLL_URING_WAKE loop guard), and its re-arm must not pass for a wake-up.
    [Fact]
    public void NestedSet_RegisteredWithoutEPOLLIN_ReportsOnlyWhenCtlFindsItReady()
    {
        int outer = Set(Epoll.epoll_create1(0)), inner = Set(Epoll.epoll_create1(0));
        int kernelOuter = Fd(TestLibC.Check(TestLibC.epoll_create1(0), "epoll_create1"));
        int kernelInner = Fd(TestLibC.Check(TestLibC.epoll_create1(0), "epoll_create1"));
        int fd = Fd(TestLibC.EventFd());
        byte* events = stackalloc byte[4 * EpollEvent.NativeSize];

        Assert.Equal(0, Epoll.epoll_ctl(outer, Epoll.EPOLL_CTL_ADD, inner, Event(EPOLLRDNORM | EPOLLPRI, 7)));
        Assert.Equal(0, TestLibC.epoll_ctl(kernelOuter, Epoll.EPOLL_CTL_ADD, kernelInner, Event(EPOLLRDNORM | EPOLLPRI, 7)));
        Assert.Equal(0, Epoll.epoll_ctl(inner, Epoll.EPOLL_CTL_ADD, fd, Event(EPOLLOUT, 1)));
        Assert.Equal(0, TestLibC.epoll_ctl(kernelInner, Epoll.EPOLL_CTL_ADD, fd, Event(EPOLLOUT, 1)));

        // Both inner sets are ready (an eventfd is writable); neither outer set was woken for it.
        Assert.Equal(1, TestLibC.epoll_wait(kernelInner, events, 4, 0));
        Assert.Equal(1, Epoll.epoll_wait(inner, events, 4, 0));
        Assert.Equal(0, TestLibC.epoll_wait(kernelOuter, events, 4, 0));
        Assert.Equal(0, Epoll.epoll_wait(outer, events, 4, 0));

        // MOD re-reads readiness: now both report, and keep reporting while the inner set is ready.
        Assert.Equal(0, TestLibC.epoll_ctl(kernelOuter, Epoll.EPOLL_CTL_MOD, kernelInner, Event(EPOLLRDNORM | EPOLLPRI, 8)));
        Assert.Equal(0, Epoll.epoll_ctl(outer, Epoll.EPOLL_CTL_MOD, inner, Event(EPOLLRDNORM | EPOLLPRI, 8)));
        for (int round = 0; round < 2; round++)
        {
            Assert.Equal(1, TestLibC.epoll_wait(kernelOuter, events, 4, 0));
            Assert.Equal(EPOLLRDNORM, EpollEvent.ReadNative(events, 0).Events);
            Assert.Equal(1, Epoll.epoll_wait(outer, events, 4, 0));
            Assert.Equal(EPOLLRDNORM, EpollEvent.ReadNative(events, 0).Events);
            Assert.Equal(8UL, EpollEvent.ReadNative(events, 0).data);
        }
    }

    // reverse_path_check: at most 10 wake-up paths of five sets may lead up from one file. A file
    // in a chain of four sets, the last of them registered in ten more, has ten; an eleventh ADD
    // is refused with EINVAL, in the kernel's epoll and here, and changes nothing. Each world has
    // its own file: paths through the other world's sets would count too.
    [Fact]
    public void NestedSets_TooManyWakeupPathsFromAFile_AddFailsWithEINVAL()
    {
        int fd = Fd(TestLibC.EventFd()), kernelFd = Fd(TestLibC.EventFd());
        (int[] Chain, int[] Tops) ours = (new int[4], new int[11]), kernels = (new int[4], new int[11]);
        for (int i = 0; i < 4; i++)
        {
            ours.Chain[i] = Set(Epoll.epoll_create1(0));
            kernels.Chain[i] = Fd(TestLibC.Check(TestLibC.epoll_create1(0), "epoll_create1"));
        }
        for (int i = 0; i < 11; i++)
        {
            ours.Tops[i] = Set(Epoll.epoll_create1(0));
            kernels.Tops[i] = Fd(TestLibC.Check(TestLibC.epoll_create1(0), "epoll_create1"));
        }
        Assert.Equal(0, Epoll.epoll_ctl(ours.Chain[0], Epoll.EPOLL_CTL_ADD, fd, Event(EPOLLIN, 1)));
        Assert.Equal(0, TestLibC.epoll_ctl(kernels.Chain[0], Epoll.EPOLL_CTL_ADD, kernelFd, Event(EPOLLIN, 1)));
        for (int i = 1; i < 4; i++)
        {
            Assert.Equal(0, Epoll.epoll_ctl(ours.Chain[i], Epoll.EPOLL_CTL_ADD, ours.Chain[i - 1], Event(EPOLLIN, 1)));
            Assert.Equal(0, TestLibC.epoll_ctl(kernels.Chain[i], Epoll.EPOLL_CTL_ADD, kernels.Chain[i - 1], Event(EPOLLIN, 1)));
        }
        for (int i = 0; i < 10; i++)
        {
            Assert.Equal(0, Epoll.epoll_ctl(ours.Tops[i], Epoll.EPOLL_CTL_ADD, ours.Chain[3], Event(EPOLLIN, 1)));
            Assert.Equal(0, TestLibC.epoll_ctl(kernels.Tops[i], Epoll.EPOLL_CTL_ADD, kernels.Chain[3], Event(EPOLLIN, 1)));
        }

        AssertFails(EINVAL, TestLibC.epoll_ctl(kernels.Tops[10], Epoll.EPOLL_CTL_ADD, kernels.Chain[3], Event(EPOLLIN, 1)));
        AssertFails(EINVAL, Epoll.epoll_ctl(ours.Tops[10], Epoll.EPOLL_CTL_ADD, ours.Chain[3], Event(EPOLLIN, 1)));

        // Nothing changed: the refused set holds nothing, and a path freed makes room again.
        AssertFails(ENOENT, Epoll.epoll_ctl(ours.Tops[10], Epoll.EPOLL_CTL_DEL, ours.Chain[3], null));
        Assert.Equal(0, Epoll.epoll_ctl(ours.Tops[0], Epoll.EPOLL_CTL_DEL, ours.Chain[3], null));
        Assert.Equal(0, Epoll.epoll_ctl(ours.Tops[10], Epoll.EPOLL_CTL_ADD, ours.Chain[3], Event(EPOLLIN, 1)));
        TestLibC.Signal(fd);
        byte* events = stackalloc byte[4 * EpollEvent.NativeSize];
        Assert.Equal(1, Epoll.epoll_wait(ours.Tops[10], events, 4, 5000));
    }

    // The same nesting with no file at the bottom: Linux has no file to count paths for and allows
    // an eleventh top. Every EpollGen set's kernel-visible epoll holds files of its own (a kernel-
    // epoll set's wake-up eventfd; an io_uring set's ring and indicator eventfd, in the name fd its
    // parents' shadows hold), which the kernel counts: a documented divergence (README), EINVAL.
    [Fact]
    public void NestedSets_ElevenPathsDownToNoFile_LinuxAllowsThem_EpollGenRefuses()
    {
        (int[] Chain, int[] Tops) ours = (new int[4], new int[11]), kernels = (new int[4], new int[11]);
        for (int i = 0; i < 4; i++)
        {
            ours.Chain[i] = Set(Epoll.epoll_create1(0));
            kernels.Chain[i] = Fd(TestLibC.Check(TestLibC.epoll_create1(0), "epoll_create1"));
        }
        for (int i = 0; i < 11; i++)
        {
            ours.Tops[i] = Set(Epoll.epoll_create1(0));
            kernels.Tops[i] = Fd(TestLibC.Check(TestLibC.epoll_create1(0), "epoll_create1"));
        }
        for (int i = 1; i < 4; i++)
        {
            Assert.Equal(0, Epoll.epoll_ctl(ours.Chain[i], Epoll.EPOLL_CTL_ADD, ours.Chain[i - 1], Event(EPOLLIN, 1)));
            Assert.Equal(0, TestLibC.epoll_ctl(kernels.Chain[i], Epoll.EPOLL_CTL_ADD, kernels.Chain[i - 1], Event(EPOLLIN, 1)));
        }
        for (int i = 0; i < 10; i++)
        {
            Assert.Equal(0, Epoll.epoll_ctl(ours.Tops[i], Epoll.EPOLL_CTL_ADD, ours.Chain[3], Event(EPOLLIN, 1)));
            Assert.Equal(0, TestLibC.epoll_ctl(kernels.Tops[i], Epoll.EPOLL_CTL_ADD, kernels.Chain[3], Event(EPOLLIN, 1)));
        }

        Assert.Equal(0, TestLibC.epoll_ctl(kernels.Tops[10], Epoll.EPOLL_CTL_ADD, kernels.Chain[3], Event(EPOLLIN, 1)));
        AssertFails(EINVAL, Epoll.epoll_ctl(ours.Tops[10], Epoll.EPOLL_CTL_ADD, ours.Chain[3], Event(EPOLLIN, 1)));
        AssertFails(ENOENT, Epoll.epoll_ctl(ours.Tops[10], Epoll.EPOLL_CTL_DEL, ours.Chain[3], null));
    }

    [Fact]
    public void Nesting_FiveLevelsWork_ASixthAndCyclesAreELOOP()
    {
        int fd = Fd(TestLibC.EventFd());
        var chain = new int[6];
        for (int i = 0; i < chain.Length; i++)
            chain[i] = Set(Epoll.epoll_create1(0));
        Assert.Equal(0, Epoll.epoll_ctl(chain[0], Epoll.EPOLL_CTL_ADD, fd, Event(EPOLLIN, 100)));
        for (int i = 1; i < 5; i++)
            Assert.Equal(0, Epoll.epoll_ctl(chain[i], Epoll.EPOLL_CTL_ADD, chain[i - 1], Event(EPOLLIN, (ulong)i)));
        AssertFails(ELOOP, Epoll.epoll_ctl(chain[5], Epoll.EPOLL_CTL_ADD, chain[4], Event(EPOLLIN, 5)));
        AssertFails(ELOOP, Epoll.epoll_ctl(chain[0], Epoll.EPOLL_CTL_ADD, chain[2], Event(EPOLLIN, 6)));

        TestLibC.Signal(fd);
        byte* events = stackalloc byte[4 * EpollEvent.NativeSize];
        for (int i = 4; i >= 0; i--)
        {
            Assert.Equal(1, Epoll.epoll_wait(chain[i], events, 4, 5000));
            Assert.Equal(i == 0 ? 100UL : (ulong)i, EpollEvent.ReadNative(events, 0).data);
        }
    }

    // A closed set leaves the chains it was in: five sets nested to the limit, the bottom one
    // closed, and the top one nested once more is four links again. (io_uring sets' shadows mirror
    // the chain for the kernel's own checks, and must let go of the closed set's shadow too.)
    [Fact]
    public void Nesting_AClosedSetNoLongerCountsTowardsTheDepthLimit()
    {
        var chain = new int[5];
        for (int i = 0; i < chain.Length; i++)
            chain[i] = Set(Epoll.epoll_create1(0));
        for (int i = 1; i < chain.Length; i++)
            Assert.Equal(0, Epoll.epoll_ctl(chain[i], Epoll.EPOLL_CTL_ADD, chain[i - 1], Event(EPOLLIN, (ulong)i)));
        int top = Set(Epoll.epoll_create1(0));
        AssertFails(ELOOP, Epoll.epoll_ctl(top, Epoll.EPOLL_CTL_ADD, chain[4], Event(EPOLLIN, 5)));

        Assert.Equal(0, Epoll.close(chain[0]));
        _sets.Remove(chain[0]);

        Assert.Equal(0, Epoll.epoll_ctl(top, Epoll.EPOLL_CTL_ADD, chain[4], Event(EPOLLIN, 5)));
    }

    [Fact]
    public void Wait_InterruptedByASignal_FailsWithEINTR()
    {
        const int SIGURG = 23;
        using PosixSignalRegistration registration = PosixSignalRegistration.Create((PosixSignal)SIGURG, context => context.Cancel = true);
        int set = Set(Epoll.epoll_create1(0));
        int tid = 0, result = 0, errno = 0;
        var waiter = new Thread(() =>
        {
            byte* events = stackalloc byte[EpollEvent.NativeSize];
            Volatile.Write(ref tid, TestLibC.gettid());
            result = Epoll.epoll_wait(set, events, 1, 10_000);
            errno = Marshal.GetLastPInvokeError();
        });
        waiter.Start();
        KernelWaits.UntilBlocked(ref tid, TimeSpan.FromSeconds(5));
        Assert.Equal(0, TestLibC.tgkill(TestLibC.getpid(), Volatile.Read(ref tid), SIGURG));
        Assert.True(waiter.Join(TimeSpan.FromSeconds(5)), "the wait was not interrupted");
        Assert.Equal(-1, result);
        Assert.Equal(EINTR, errno);
    }

    [Fact]
    public void Pwait_MaskUnblockingAPendingSignal_FailsWithEINTRAtOnce_AndRestoresTheOldMask()
    {
        const int SIGURG = 23, SIG_BLOCK = 0, SIG_SETMASK = 2;
        using PosixSignalRegistration registration = PosixSignalRegistration.Create((PosixSignal)SIGURG, context => context.Cancel = true);
        int set = Set(Epoll.epoll_create1(0));
        int result = 0, errno = 0;
        bool stillBlocked = false;
        TimeSpan elapsed = default;
        var waiter = new Thread(() =>
        {
            ulong* urg = stackalloc ulong[16];
            ulong* empty = stackalloc ulong[16];
            ulong* old = stackalloc ulong[16];
            ulong* after = stackalloc ulong[16];
            urg[0] = 1UL << (SIGURG - 1);
            TestLibC.pthread_sigmask(SIG_BLOCK, urg, old);
            TestLibC.tgkill(TestLibC.getpid(), TestLibC.gettid(), SIGURG);   // pending, blocked
            byte* events = stackalloc byte[EpollEvent.NativeSize];
            long start = Stopwatch.GetTimestamp();
            result = Epoll.epoll_pwait(set, events, 1, 5000, empty);
            errno = Marshal.GetLastPInvokeError();
            elapsed = Stopwatch.GetElapsedTime(start);
            TestLibC.pthread_sigmask(SIG_BLOCK, null, after);
            stillBlocked = (after[0] & urg[0]) != 0;
            TestLibC.pthread_sigmask(SIG_SETMASK, old, null);
        });
        waiter.Start();
        Assert.True(waiter.Join(TimeSpan.FromSeconds(10)), "epoll_pwait did not return");
        Assert.Equal(-1, result);
        Assert.Equal(EINTR, errno);
        Assert.True(elapsed < TimeSpan.FromSeconds(2), $"took {elapsed}");
        Assert.True(stillBlocked, "the old mask must be back after the call");
    }

    private static void AssertFails(int errno, int result)
    {
        int actual = Marshal.GetLastPInvokeError();
        Assert.Equal(-1, result);
        Assert.Equal(errno, actual);
    }

    private byte* Event(EpollEvents events, ulong data)
    {
        byte* native = (byte*)NativeMemory.Alloc(16);
        _events.Add((nint)native);
        EpollEvent.WriteNative(native, 0, new EpollEvent { Events = events, data = data });
        return native;
    }

    private int Set(int fd)
    {
        Assert.True(fd >= 0, $"errno {Marshal.GetLastPInvokeError()}");
        _sets.Add(fd);
        return fd;
    }

    private int Fd(int fd)
    {
        _fds.Add(fd);
        return fd;
    }

    private (int Read, int Write) Pipe()
    {
        (int read, int write) = TestLibC.Pipe();
        Fd(read);
        Fd(write);
        return (read, write);
    }
}

/// <summary><see cref="EpollLibcTests"/> on the kernel-epoll backend.</summary>
[Collection(SignalCollection.Name)]
public sealed class EpollLibcTests_Epoll() : EpollLibcTests(TapBackendKind.Epoll);

/// <summary><see cref="EpollLibcTests"/> on the io_uring backend.</summary>
[Collection(SignalCollection.Name)]
public sealed class EpollLibcTests_IoUring() : EpollLibcTests(TapBackendKind.IoUring);
