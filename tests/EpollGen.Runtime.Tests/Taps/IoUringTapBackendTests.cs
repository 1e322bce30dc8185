using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Linq;
using System.Runtime.InteropServices;
using EpollGen.Diagnostics;
using EpollGen.Events;
using EpollGen.Interop;
using EpollGen.Native.IoUring;
using EpollGen.Runtime.Tests.Native;
using EpollGen.Taps;
using Xunit;

namespace EpollGen.Runtime.Tests.Taps;

/// <summary>
/// What only the io_uring backend has to get right: re-arming polls the kernel ended, dropping
/// stale completions, and files that a ring keeps open. Most tests drive the backend directly, on
/// the test thread, so the polls and their task_work belong to this thread and every completion is
/// posted by the time a write returns.
/// </summary>
[Collection(SignalCollection.Name)]
public sealed unsafe class IoUringTapBackendTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);

    [Fact]
    public void CqOverflow_EndsThePoll_WhichIsRearmed_AndANewWriteStillFires()
    {
        long rearmsMeasured = 0;
        int testThread = Environment.CurrentManagedThreadId;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "epollgen.tap.rearms")
                l.EnableMeasurementEvents(instrument);
        };
        // Only this thread's re-arms: other tests' queues may re-arm concurrently.
        listener.SetMeasurementEventCallback<long>((_, value, _, _) =>
        {
            if (Environment.CurrentManagedThreadId == testThread)
                rearmsMeasured += value;
        });
        listener.Start();

        using var mailbox = new CoalescingEventQueue();
        using var backend = NewBackend(mailbox, sqEntries: 4, cqEntries: 8);
        int fd = Fds.EventFd();
        try
        {
            CeqId id = TapReadableAndArm(backend, mailbox, fd);

            // One CQE per wake-up, posted on the way back from each write: 40 overrun a CQ of 8,
            // and the poll whose completion did not fit is ended by the kernel.
            for (int i = 0; i < 40; i++)
                Fds.Signal(fd);
            TestLibC.Drain(fd);
            backend.WaitAndDispatch(0);

            Assert.True(backend.Rearms >= 1, "the ended poll was not re-armed");
            Assert.True(rearmsMeasured >= 1, "epollgen.tap.rearms did not count the re-arm");
            Assert.Equal(new[] { id }, Take(mailbox)); // 40 wake-ups, one coalesced message
            Fds.Signal(fd);
            Assert.Equal(new[] { id }, WaitFor(backend, mailbox));
        }
        finally
        {
            TestLibC.close(fd);
        }
    }

    // An exclusive poll stops the wake-up that reaches it, and joins the file's wait queue behind
    // the exclusive polls already there; a poll that must change kind is replaced, since an update
    // keeps EPOLLEXCLUSIVE as it was.
    [Fact]
    public void ExclusivePolls_OneWriteReachesOneRing_AndAPollChangingKindIsReplaced()
    {
        using var mailboxA = new CoalescingEventQueue();
        using var mailboxB = new CoalescingEventQueue();
        using var a = NewBackend(mailboxA);
        using var b = NewBackend(mailboxB);
        int fd = Fds.EventFd();
        try
        {
            CeqId idA = mailboxA.Allocate(), idB = mailboxB.Allocate(), plain = mailboxA.Allocate();
            Assert.Equal(0, a.Apply(Request(fd, TapCommand.Add, TapFilters.FDTAP_FILT_READABLE, idA, TapModes.Exclusive)));
            a.WaitAndDispatch(0);
            Assert.Equal(0, b.Apply(Request(fd, TapCommand.Add, TapFilters.FDTAP_FILT_READABLE, idB, TapModes.Exclusive)));
            b.WaitAndDispatch(0);

            Assert.Equal((Sorted(idA), Sorted()), WriteAndCollect(fd, a, mailboxA, b, mailboxB));

            // A plain tap joins A's fd: A's poll is no longer exclusive, and B's is the first exclusive one.
            Assert.Equal(0, a.Apply(Request(fd, TapCommand.Add, TapFilters.FDTAP_FILT_READABLE, plain)));
            a.WaitAndDispatch(0);
            Assert.Equal((Sorted(idA, plain), Sorted(idB)), WriteAndCollect(fd, a, mailboxA, b, mailboxB));

            // It leaves: A's poll is exclusive again, queued behind B's.
            Assert.Equal(0, a.Apply(Request(fd, TapCommand.Remove, 0, plain)));
            a.WaitAndDispatch(0);
            Assert.Equal((Sorted(), Sorted(idB)), WriteAndCollect(fd, a, mailboxA, b, mailboxB));
        }
        finally
        {
            TestLibC.close(fd);
        }
    }

    // One write, then the ids each backend posts for it, in id order; the fd is drained after.
    private static (string A, string B) WriteAndCollect(int fd, IoUringTapBackend a, CoalescingEventQueue mailboxA, IoUringTapBackend b, CoalescingEventQueue mailboxB)
    {
        Fds.Signal(fd);
        a.WaitAndDispatch(0);
        b.WaitAndDispatch(0);
        TestLibC.Drain(fd);
        (string A, string B) ids = (Sorted([.. Take(mailboxA)]), Sorted([.. Take(mailboxB)]));
        a.WaitAndDispatch(0);
        b.WaitAndDispatch(0);
        Take(mailboxA);
        Take(mailboxB);
        return ids;
    }

    // Comparable as a value: a tuple of arrays would compare the arrays by reference.
    private static string Sorted(params CeqId[] ids) => string.Join(", ", ids.OrderBy(id => id.Value));

    [Fact]
    public void StaleCompletions_NeverReachANewRegistrationOnTheSameFd()
    {
        using var mailbox = new CoalescingEventQueue();
        using var backend = NewBackend(mailbox);
        int fd = Fds.EventFd();
        try
        {
            CeqId old = mailbox.Allocate(), fresh = mailbox.Allocate();
            Assert.Equal(0, backend.Apply(Request(fd, TapCommand.Add, TapFilters.FDTAP_FILT_READABLE, old)));
            backend.WaitAndDispatch(0);

            // A completion for the old registration waits, unreaped, in the CQ while the tap is
            // replaced; the fd is drained, so the new poll's arm finds nothing to report.
            Fds.Signal(fd);
            Assert.Equal(0, backend.Apply(Request(fd, TapCommand.Remove, 0, old)));
            Assert.Equal(0, backend.Apply(Request(fd, TapCommand.Add, TapFilters.FDTAP_FILT_READABLE, fresh)));
            TestLibC.Drain(fd);
            backend.WaitAndDispatch(0);
            backend.WaitAndDispatch(0);

            Assert.Empty(Take(mailbox));
            Fds.Signal(fd);
            Assert.Equal(new[] { fresh }, WaitFor(backend, mailbox));
        }
        finally
        {
            TestLibC.close(fd);
        }
    }

    [Fact]
    public void ClosedFdReusedByANewFile_AddFiresOnlyForTheNewFile_AndReleasesTheOldOne()
    {
        using var queue = new EventQueue(tapBackend: TapBackendKind.IoUring);
        (int r, int w) = Fds.Pipe();
        int reused = -1;
        try
        {
            CeqId old = queue.Allocate();
            TapTests.Submit(new TapRequest(r, TapCommand.Add, TapFilters.FDTAP_FILT_READABLE, queue, old));
            TapTests.AssertNothing(queue); // the poll is armed, and holds the read end's file

            TestLibC.close(r);
            // The documented caveat: the ring still holds the closed read end, so the pipe keeps a
            // reader (no EPIPE) until something removes the poll.
            Fds.WriteByte(w);
            reused = Fds.EventFd();
            Assert.Equal(r, reused);

            CeqId fresh = queue.Allocate();
            TapTests.Submit(new TapRequest(reused, TapCommand.Add, TapFilters.FDTAP_FILT_READABLE, queue, fresh));
            Drain(queue); // whatever the old file reported before the ADD noticed the change
            Fds.Signal(reused);

            Assert.Equal(fresh, TapTests.WaitOne(queue).Id);
            TapTests.AssertNothing(queue);
            Assert.True(WriteFailsWithEpipeWithin(queue, w, Bound), "the old poll still holds the closed read end");
        }
        finally
        {
            TestLibC.close(w);
            if (reused >= 0)
                TestLibC.close(reused);
        }
    }

    [Fact]
    public void RemovingTheLastTap_ReleasesTheFile()
    {
        using var queue = new EventQueue(tapBackend: TapBackendKind.IoUring);
        (int r, int w) = Fds.Pipe();
        try
        {
            CeqId id = queue.Allocate();
            TapTests.Submit(new TapRequest(r, TapCommand.Add, TapFilters.FDTAP_FILT_READABLE, queue, id));
            TapTests.AssertNothing(queue);
            TestLibC.close(r);

            TapTests.Submit(new TapRequest(r, TapCommand.Remove, 0, queue, id));

            Assert.True(WriteFailsWithEpipeWithin(queue, w, Bound), "the removed poll still holds the closed read end");
        }
        finally
        {
            TestLibC.close(w);
        }
    }

    [Fact]
    public void Modify_OnAClosedFd_ReturnsEbadf_AndDropsTheTaps()
    {
        using var queue = new EventQueue(tapBackend: TapBackendKind.IoUring);
        (int r, int w) = Fds.Pipe();
        try
        {
            CeqId id = queue.Allocate();
            TapTests.Submit(new TapRequest(r, TapCommand.Add, TapFilters.FDTAP_FILT_READABLE, queue, id));
            TapTests.AssertNothing(queue);
            TestLibC.close(r);

            var modify = new TapRequest(r, TapCommand.Modify, TapFilters.FDTAP_FILT_READABLE, queue, id);
            Assert.Equal(0, FdTaps.Submit([modify], out int errno));
            Assert.Equal(9, errno); // EBADF, as Linux's MOD says for a closed fd
            Assert.Equal(0, FdTaps.Submit([modify with { Command = TapCommand.Remove }], out errno));
            Assert.Equal(2, errno); // ENOENT: the taps went with the file
            Assert.True(WriteFailsWithEpipeWithin(queue, w, Bound), "the dropped poll still holds the closed read end");
        }
        finally
        {
            TestLibC.close(w);
        }
    }

    [Fact]
    public void AnotherThreadDriving_TakesOverTheWakeUpPoll_AndWakesStillArrive()
    {
        using var queue = new EventQueue(tapBackend: TapBackendKind.IoUring);
        CeqId id = queue.Allocate();
        for (int round = 0; round < 3; round++)
        {
            // A new thread each round drives, blocked in io_uring_enter before the post; a post
            // from this thread must wake it through the wake-up poll it took over.
            var messages = new CeqMessage[1];
            int taken = -1, tid = 0;
            var waiter = new System.Threading.Thread(() =>
            {
                System.Threading.Volatile.Write(ref tid, TestLibC.gettid());
                taken = queue.Wait(messages, Bound);
            });
            waiter.Start();
            Assert.True(System.Threading.SpinWait.SpinUntil(() => System.Threading.Volatile.Read(ref tid) != 0, Bound));
            IoUring.RingFixture.WaitUntilInIoUringEnter(tid, Bound);
            var clock = Stopwatch.StartNew();
            Assert.True(queue.Post(id, 1));
            Assert.True(waiter.Join(Bound), "the waiter did not return");
            Assert.Equal(1, taken);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"the wake-up took {clock.Elapsed.TotalMilliseconds} ms");
        }
    }

    [Fact]
    public void AWaitFindingCompletionsInTheRing_TakesThemWithoutEnteringTheKernel_UnlessItMustEnterEveryTime()
    {
        using var mailbox = new CoalescingEventQueue();
        using var backend = NewBackend(mailbox);
        int fd = Fds.EventFd();
        try
        {
            CeqId id = TapReadableAndArm(backend, mailbox, fd);

            // The poll's completion is posted on the way back from this thread's own write.
            Fds.Signal(fd);
            long before = backend.KernelEntries;
            Assert.Equal(TapWaitResult.Posted, backend.WaitAndDispatch(-1));
            Assert.Equal(before, backend.KernelEntries);
            Assert.Equal(new[] { id }, Take(mailbox));

            // As an epoll set's waits do: the wait enters, and returns at once with the completion.
            backend.EntersOnEveryWait = true;
            Fds.Signal(fd);
            before = backend.KernelEntries;
            Assert.Equal(TapWaitResult.Posted, backend.WaitAndDispatch(-1));
            Assert.Equal(before + 1, backend.KernelEntries);
            Assert.Equal(new[] { id }, Take(mailbox));
        }
        finally
        {
            TestLibC.close(fd);
        }
    }

    [Fact]
    public void AnEpollSetOnIoUring_EntersTheKernelOnEveryWait()
    {
        Assert.True(IoUringRing.IsSupported, "io_uring is not usable here: " + IoUringRing.UnsupportedReason);
        using var set = new EpollSet(closeOnExec: true, TapBackendKind.IoUring, trustTaps: false);
        var backend = (IoUringTapBackend)set.Queue.Backend;
        int fd = Fds.EventFd();
        try
        {
            set.Add(fd, EpollEvents.EPOLLIN | EpollEvents.EPOLLET, 7);
            var events = new EpollEvent[4];
            Assert.Equal(0, set.Wait(events, TimeSpan.Zero)); // arms the poll on this thread

            // A completion already waits in the ring; the wait still enters, for the work in flight.
            Fds.Signal(fd);
            long before = backend.KernelEntries;
            Assert.Equal(1, set.Wait(events, TimeSpan.FromSeconds(5)));
            Assert.Equal(7UL, events[0].data);
            Assert.True(backend.KernelEntries > before, "the epoll set's wait took the ring's completion without entering the kernel");
        }
        finally
        {
            TestLibC.close(fd);
        }
    }

    [Fact]
    public void ADefaultRing_DoesNotInterruptTheThreadThatArmedAPoll_WhereTheKernelAllows()
    {
        using var mailbox = new CoalescingEventQueue();
        using var backend = NewBackend(mailbox);
        IoUringCreateResult probe = IoUringRing.Create(2, 0, IoUringConstants.IORING_SETUP_COOP_TASKRUN);
        probe.Ring?.Dispose();
        Assert.Equal(probe.Succeeded, (backend.RingSetupFlags & IoUringConstants.IORING_SETUP_COOP_TASKRUN) != 0);
    }

    [Fact]
    public void AWakeUpForAPollArmedByAThreadBusyInUserSpace_StillReachesAnotherThreadsWait()
    {
        using var queue = new EventQueue(tapBackend: TapBackendKind.IoUring);
        CeqId id = queue.Allocate();
        int fd = Fds.EventFd();
        try
        {
            Assert.Equal(1, FdTaps.Submit([new TapRequest(fd, TapCommand.Add, TapFilters.FDTAP_FILT_READABLE, queue, id)], out _));
            int armed = 0, stop = 0, firstTaken = -1;
            // The arming thread: drives once (its poll, its task_work), then computes without a
            // system call until told to stop, so nothing but an interrupt or the tick enters its kernel.
            var busy = new System.Threading.Thread(() =>
            {
                firstTaken = queue.Wait(new CeqMessage[1], TimeSpan.Zero);
                System.Threading.Volatile.Write(ref armed, 1);
                var clock = Stopwatch.StartNew();
                while (System.Threading.Volatile.Read(ref stop) == 0 && clock.Elapsed < Bound)
                    System.Threading.Thread.SpinWait(20);
            });
            busy.Start();
            Assert.True(System.Threading.SpinWait.SpinUntil(() => System.Threading.Volatile.Read(ref armed) == 1, Bound));

            int taken = -1, tid = 0;
            var messages = new CeqMessage[1];
            var waiter = new System.Threading.Thread(() =>
            {
                System.Threading.Volatile.Write(ref tid, TestLibC.gettid());
                taken = queue.Wait(messages, Bound);
            });
            waiter.Start();
            Assert.True(System.Threading.SpinWait.SpinUntil(() => System.Threading.Volatile.Read(ref tid) != 0, Bound));
            IoUring.RingFixture.WaitUntilInIoUringEnter(tid, Bound);

            Fds.Signal(fd);
            Assert.True(waiter.Join(Bound), "the wake-up never reached the waiting thread");
            bool stillSpinning = busy.IsAlive;
            System.Threading.Volatile.Write(ref stop, 1);
            busy.Join();

            Assert.Equal(0, firstTaken);
            Assert.Equal(1, taken);
            Assert.Equal(id, messages[0].Id);
            // Delivered while the arming thread still computed: an interrupt, or at the latest the
            // scheduler tick, entered its kernel and ran the work (7-31 ms measured on two CPUs,
            // where the woken waiter also waits for a CPU), not its own next system call.
            Assert.True(stillSpinning, "the wake-up arrived only once the arming thread stopped computing");
        }
        finally
        {
            TestLibC.close(fd);
        }
    }

    // A tap of fd's readability, its poll armed by this thread (so its task_work is this thread's).
    private static CeqId TapReadableAndArm(IoUringTapBackend backend, CoalescingEventQueue mailbox, int fd)
    {
        CeqId id = mailbox.Allocate();
        Assert.Equal(0, backend.Apply(Request(fd, TapCommand.Add, TapFilters.FDTAP_FILT_READABLE, id)));
        backend.WaitAndDispatch(0);
        Assert.Empty(Take(mailbox));
        return id;
    }

    private static IoUringTapBackend NewBackend(CoalescingEventQueue mailbox, uint sqEntries = 8, uint cqEntries = 64)
    {
        Assert.True(IoUringRing.IsSupported, "io_uring is not usable here: " + IoUringRing.UnsupportedReason);
        return new IoUringTapBackend(mailbox, sqEntries, cqEntries);
    }

    // The backend ignores the queue of a request: it is the mailbox's owner that routes requests.
    private static TapRequest Request(int fd, TapCommand command, TapFilters filter, CeqId id, TapModes modes = TapModes.None) =>
        new(fd, command, filter, null!, id, modes);

    private static List<CeqId> Take(CoalescingEventQueue mailbox)
    {
        var ids = new List<CeqId>();
        while (mailbox.TryTake(out CeqMessage message))
            ids.Add(message.Id);
        return ids;
    }

    // Drives the backend until something arrives or the bound passes.
    private static List<CeqId> WaitFor(IoUringTapBackend backend, CoalescingEventQueue mailbox)
    {
        var clock = Stopwatch.StartNew();
        while (mailbox.IsEmpty && clock.Elapsed < Bound)
            backend.WaitAndDispatch(100);
        return Take(mailbox);
    }

    private static void Drain(EventQueue queue)
    {
        var buffer = new CeqMessage[16];
        while (queue.Wait(buffer, TimeSpan.Zero) > 0)
        {
        }
    }

    // A pipe's writer gets EPIPE once no file holds the read end; the removal that releases it is
    // submitted by whoever drives the queue, so drive it between tries.
    private static bool WriteFailsWithEpipeWithin(EventQueue queue, int writeFd, TimeSpan bound)
    {
        var clock = Stopwatch.StartNew();
        var buffer = new CeqMessage[4];
        byte b = 1;
        while (clock.Elapsed < bound)
        {
            if (TestLibC.write(writeFd, &b, 1) < 0)
                return Marshal.GetLastPInvokeError() == TestLibC.EPIPE;
            queue.Wait(buffer, TimeSpan.FromMilliseconds(10));
        }
        return false;
    }
}
