using System;
using EpollGen.Interop;
using EpollGen.Runtime.Tests.Native;
using EpollGen.Taps;
using Xunit;

namespace EpollGen.Runtime.Tests.Lifetime;

/// <summary>
/// Registered fds closed behind a set's back (a plain close, no DEL, no Epoll.close: what
/// Socket.Dispose does to an fd added by number) and their numbers added again: the set keeps
/// the closed ones only while it may not know whether their files live on, a bounded number,
/// as Linux drops a registration with its file. Kernel-epoll sets only: an io_uring set's ring
/// holds the file of every fd it polls, so a close behind its back releases nothing, and the
/// README asks for Epoll.close or the SafeHandle overloads there.
/// In the collection that runs alone: two of its tests need a closed fd's number to stay free
/// until they take it again.
/// </summary>
[Collection(SignalCollection.Name)]
public sealed class OrphanSweepTests
{
    [Fact]
    public void ClosesBehindTheSetsBack_AndAddsOfTheNumber_LeaveABoundedCount()
    {
        using var set = new EpollSet(tapBackend: TapBackendKind.Epoll);
        for (int i = 0; i < 2000; i++)
        {
            int fd = TestLibC.EventFd();
            set.Add(fd, EpollEvents.EPOLLIN, (ulong)i);
            Assert.Equal(0, TestLibC.close(fd));
        }

        Assert.InRange(set.Count, 1, 200);
    }

    // Without the kernel's listing (a chroot, no /proc), kcmp's count of each closed number's
    // registrations finds the dead, and the live orphan still reports and is found again (the
    // dup2 back onto its number closes the holder).
    [Fact]
    public unsafe void WithoutTheKernelsListing_DeadOrphansGo_AndTheLiveOneStays()
    {
        string listing = EpollTapBackend.ListingDirectory;
        EpollTapBackend.ListingDirectory = "/nonexistent/fdinfo";
        try
        {
            using var set = new EpollSet(tapBackend: TapBackendKind.Epoll);
            int fd = TestLibC.EventFd();
            int copy = TestLibC.Check(TestLibC.fcntl(fd, 1030 /* F_DUPFD_CLOEXEC */, 0), "dup");
            set.Add(fd, EpollEvents.EPOLLIN, 7);
            Assert.Equal(0, Epoll.close(fd));
            // Holds the live orphan's number: the count alone cannot tell a live orphan from dead
            // ones under one number, and keeps them all (docs/preload.md).
            int holder = TestLibC.EventFd();
            Assert.Equal(fd, holder);
            for (int i = 0; i < 2000; i++)
            {
                int other = TestLibC.EventFd();
                set.Add(other, EpollEvents.EPOLLIN, 100);
                Assert.Equal(0, Epoll.close(other));
            }

            Assert.InRange(set.Count, 1, 200);
            var events = new EpollEvent[4];
            Assert.Equal(0, set.Wait(events, TimeSpan.Zero));
            TestLibC.Signal(copy);
            Assert.Equal(1, set.Wait(events, TimeSpan.Zero));
            Assert.Equal(7UL, events[0].data);
            Assert.Equal(fd, Epoll.dup2(copy, fd));
            set.Remove(fd);
            Assert.Equal(0, Epoll.close(fd));
            Assert.Equal(0, Epoll.close(copy));
        }
        finally
        {
            EpollTapBackend.ListingDirectory = listing;
        }
    }

    // An edge-triggered entry that did not fit a wait (its copy-out faulted) is handed back to the
    // kernel by a MOD; when its fd was closed behind the set's back meanwhile, the registration
    // follows the refused MOD, so a new file under the number is a new registration (Linux's ADD
    // succeeds), not EEXIST. Found by review; EEXIST on the code before.
    [Fact]
    public unsafe void RefusedReArmAfterAFaultedWait_LeavesTheNumberFreeForANewFile()
    {
        int set = Epoll.epoll_create1(Epoll.EPOLL_CLOEXEC);
        int first = TestLibC.EventFd(), second = TestLibC.EventFd();
        TestLibC.Signal(first);
        TestLibC.Signal(second);
        byte* ev = stackalloc byte[EpollEvent.NativeSize];
        EpollEvent.WriteNative(ev, 0, new EpollEvent { Events = EpollEvents.EPOLLIN | EpollEvents.EPOLLET, data = 1 });
        Assert.Equal(0, Epoll.epoll_ctl(set, Epoll.EPOLL_CTL_ADD, first, ev));
        EpollEvent.WriteNative(ev, 0, new EpollEvent { Events = EpollEvents.EPOLLIN | EpollEvents.EPOLLET, data = 2 });
        Assert.Equal(0, Epoll.epoll_ctl(set, Epoll.EPOLL_CTL_ADD, second, ev));
        int keep = TestLibC.Check(TestLibC.fcntl(second, 1030 /* F_DUPFD_CLOEXEC */, 0), "dup");
        Assert.Equal(0, TestLibC.close(second));   // behind the set's back; the file lives on
        byte* pages = (byte*)EpollGen.Native.LibC.mmap(null, 8192, EpollGen.Native.LibC.PROT_READ | EpollGen.Native.LibC.PROT_WRITE, EpollGen.Native.LibC.MAP_PRIVATE | EpollGen.Native.LibC.MAP_ANONYMOUS, -1, 0);
        Assert.Equal(0, EpollGen.Native.LibC.mprotect(pages + 4096, 4096, EpollGen.Native.LibC.PROT_NONE));
        try
        {
            // Room for one event before the unmapped page: the second entry's copy-out faults.
            Assert.Equal(1, Epoll.epoll_wait(set, pages + 4096 - EpollEvent.NativeSize, 2, 0));
            int next = TestLibC.EventFd();
            Assert.Equal(second, next);
            EpollEvent.WriteNative(ev, 0, new EpollEvent { Events = EpollEvents.EPOLLIN, data = 3 });

            Assert.Equal(0, Epoll.epoll_ctl(set, Epoll.EPOLL_CTL_ADD, next, ev));

            Assert.Equal(0, Epoll.close(next));
        }
        finally
        {
            EpollGen.Native.LibC.munmap(pages, 8192);
            Epoll.close(first);
            TestLibC.close(keep);
            Epoll.close(set);
        }
    }
}
