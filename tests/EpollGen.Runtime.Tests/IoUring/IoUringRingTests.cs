using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
using EpollGen.Native;
using EpollGen.Native.IoUring;
using Xunit;
using Xunit.Abstractions;
using static EpollGen.Native.IoUring.IoUringConstants;
using static EpollGen.Runtime.Tests.IoUring.RingFixture;
using static EpollGen.Runtime.Tests.Native.TestLibC;

namespace EpollGen.Runtime.Tests.IoUring;

/// <summary>IoUringRing against the running kernel. Every wait is bounded by a kernel timeout or a deadline.</summary>
[Collection(SignalCollection.Name)]
public class IoUringRingTests(ITestOutputHelper output)
{
    [Fact]
    public void IsSupported_IsTrueOnThisMachine()
    {
        Assert.True(IoUringRing.IsSupported, "this machine has io_uring enabled; IsSupported must say so");
    }

    [Fact]
    public void Create_ReportsGrantedSizesAndFeatures()
    {
        using IoUringRing ring = Create(sqEntries: 5, cqEntries: 32);

        Assert.Equal(8u, ring.SqEntries); // rounded up to a power of two
        Assert.Equal(32u, ring.CqEntries);
        Assert.NotEqual(0u, ring.Features & IORING_FEAT_EXT_ARG);
    }

    [Fact]
    public void Create_ReturnsTheErrnoWhenTheKernelRefuses()
    {
        // A CQ smaller than the SQ is invalid without IORING_SETUP_CLAMP.
        IoUringCreateResult result = IoUringRing.Create(sqEntries: 8, cqEntries: 2);

        Assert.False(result.Succeeded);
        Assert.Equal(LibC.EINVAL, result.Errno);
        Assert.Equal("io_uring_setup", result.Operation);
    }

    [Fact]
    public void RingFd_IsCloseOnExec()
    {
        using IoUringRing ring = Create();

        int fdFlags = Check(fcntl(ring.Fd, F_GETFD, 0), "fcntl(F_GETFD)");

        Assert.Equal(FD_CLOEXEC, fdFlags & FD_CLOEXEC);
    }

    [Fact]
    public void Dispose_MakesFurtherUseThrowInsteadOfTouchingUnmappedMemory()
    {
        IoUringRing ring = Create();
        ring.Dispose();
        ring.Dispose();

        Assert.Throws<ObjectDisposedException>(() => ring.TryPrepareNop(1));
        Assert.Throws<ObjectDisposedException>(() => ring.Submit());
        Assert.Throws<ObjectDisposedException>(() => ring.TryPeek(out _));
        Assert.Equal(-1, ring.Fd);
    }

    [Fact]
    public void Nop_RoundTripsUserData()
    {
        using IoUringRing ring = Create();
        Assert.True(ring.TryPrepareNop(0xDEAD_BEEF_CAFE_F00DUL));

        IoUringSubmitResult result = ring.Submit(minComplete: 1, Soon);

        Assert.Equal(new IoUringSubmitResult(1, 0), result);
        Assert.True(ring.TryPeek(out IoUringCompletion completion));
        Assert.Equal(new IoUringCompletion(0xDEAD_BEEF_CAFE_F00DUL, 0, 0), completion);
        ring.Advance();
        Assert.Equal(0u, ring.ReadyCompletions);
    }

    [Fact]
    public void TryGetSqe_ReturnsFalseWhenEverySlotIsUnsubmitted()
    {
        using IoUringRing ring = Create(sqEntries: 4, cqEntries: 16);
        for (ulong i = 0; i < 4; i++)
            Assert.True(ring.TryPrepareNop(i));

        Assert.False(ring.TryPrepareNop(99));
        Assert.Equal(4u, ring.PendingSubmissions);

        Assert.Equal(4, ring.Submit(minComplete: 4, Soon).Submitted);
        for (ulong i = 4; i < 8; i++)
            Assert.True(ring.TryPrepareNop(i)); // the consumed slots are free again
        Assert.Equal(4, ring.Submit(minComplete: 8, Soon).Submitted);
        Span<IoUringCompletion> all = stackalloc IoUringCompletion[16];
        int reaped = ring.Reap(all);
        Assert.Equal(Enumerable.Range(0, 8).Select(i => (ulong)i), all[..reaped].ToArray().Select(c => c.UserData).Order());
    }

    [Fact]
    public void MultishotPollOnEventfd_OneCompletionPerWriteThenQuietWhenDrained()
    {
        using IoUringRing ring = Create();
        int eventFd = EventFd();
        try
        {
            Assert.True(ring.TryPreparePollAdd(eventFd, POLLIN, multishot: true, userData: 7));
            Assert.Equal(1, ring.Submit().Submitted);
            AssertQuiet(ring); // nothing to read yet

            for (int write = 0; write < 3; write++)
            {
                Signal(eventFd);
                List<IoUringCompletion> got = Collect(ring, 1);
                IoUringCompletion completion = Assert.Single(got);
                Assert.Equal(7UL, completion.UserData);
                Assert.Equal(POLLIN, (uint)completion.Result & POLLIN);
                Assert.True(completion.HasMore);
            }

            Assert.Equal(3UL, Drain(eventFd));
            AssertQuiet(ring);
        }
        finally
        {
            close(eventFd);
        }
    }

    [Fact]
    public void PollOnPipeReadEnd_CompletesOnceWhenWritten()
    {
        using IoUringRing ring = Create();
        (int readEnd, int writeEnd) = Pipe();
        try
        {
            Assert.True(ring.TryPreparePollAdd(readEnd, POLLIN, multishot: false, userData: 3));
            ring.Submit();
            AssertQuiet(ring);

            WriteByte(writeEnd);

            IoUringCompletion completion = Assert.Single(Collect(ring, 1));
            Assert.Equal(3UL, completion.UserData);
            Assert.Equal(POLLIN, (uint)completion.Result & POLLIN);
            Assert.False(completion.HasMore); // single-shot
            WriteByte(writeEnd);
            AssertQuiet(ring);
        }
        finally
        {
            close(readEnd);
            close(writeEnd);
        }
    }

    [Fact]
    public void MultishotPollOnSocketpair_CompletesWhenThePeerWrites()
    {
        using IoUringRing ring = Create();
        (int a, int b) = SocketPair();
        try
        {
            Assert.True(ring.TryPreparePollAdd(a, POLLIN, multishot: true, userData: 4));
            ring.Submit();
            AssertQuiet(ring);

            WriteByte(b);

            IoUringCompletion completion = Assert.Single(Collect(ring, 1));
            Assert.Equal(4UL, completion.UserData);
            Assert.Equal(POLLIN, (uint)completion.Result & POLLIN);
            Assert.True(completion.HasMore);
        }
        finally
        {
            close(a);
            close(b);
        }
    }

    [Fact]
    public void DeferTaskrunRing_PostsPollCompletionsOnlyInsideSubmit()
    {
        // DEFER_TASKRUN rings must be entered by the thread that created them; a test method
        // runs start to end on one thread.
        using IoUringRing ring = Create(flags: IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN);
        int eventFd = EventFd();
        try
        {
            Assert.True(ring.TryPreparePollAdd(eventFd, POLLIN, multishot: true, userData: 9));
            ring.Submit();

            for (int i = 0; i < 3; i++)
                Signal(eventFd);
            Assert.Equal(0u, ring.ReadyCompletions); // deferred until the ring is entered

            List<IoUringCompletion> got = Collect(ring, 1);
            output.WriteLine($"DEFER_TASKRUN: 3 writes, then one Submit: {got.Count} completion(s)");
            // The three wake-ups queued one piece of deferred work for the poll: one completion.
            IoUringCompletion completion = Assert.Single(got);
            Assert.Equal(9UL, completion.UserData);
            Assert.True(completion.HasMore);
            Drain(eventFd);
            AssertQuiet(ring);
        }
        finally
        {
            close(eventFd);
        }
    }

    [Fact]
    public void PollRemove_EndsAMultishotPoll()
    {
        using IoUringRing ring = Create();
        int eventFd = EventFd();
        try
        {
            Assert.True(ring.TryPreparePollAdd(eventFd, POLLIN, multishot: true, userData: 1));
            ring.Submit();
            Assert.True(ring.TryPreparePollRemove(targetUserData: 1, userData: 2));

            List<IoUringCompletion> got = Collect(ring, 2);

            Assert.Equal(2, got.Count);
            IoUringCompletion poll = Assert.Single(got, c => c.UserData == 1);
            Assert.Equal(-LibC.ECANCELED, poll.Result);
            Assert.False(poll.HasMore);
            Assert.Equal(0, Assert.Single(got, c => c.UserData == 2).Result);

            Signal(eventFd);
            AssertQuiet(ring);
        }
        finally
        {
            close(eventFd);
        }
    }

    [Fact]
    public void PollUpdate_ChangesTheMaskFromInToOut()
    {
        using IoUringRing ring = Create();
        (int a, int b) = SocketPair();
        try
        {
            // Nothing to read on a, so the POLLIN poll stays silent; a is writable all along.
            Assert.True(ring.TryPreparePollAdd(a, POLLIN, multishot: true, userData: 10));
            ring.Submit();
            AssertQuiet(ring);

            Assert.True(ring.TryPreparePollUpdate(oldUserData: 10, newUserData: 11, newMask: POLLOUT,
                IORING_POLL_UPDATE_EVENTS | IORING_POLL_UPDATE_USER_DATA | IORING_POLL_ADD_MULTI, userData: 12));
            List<IoUringCompletion> got = Collect(ring, 2);

            Assert.Equal(0, Assert.Single(got, c => c.UserData == 12).Result);
            IoUringCompletion writable = Assert.Single(got, c => c.UserData == 11);
            Assert.Equal(POLLOUT, (uint)writable.Result & POLLOUT);
            Assert.True(writable.HasMore);
            Assert.DoesNotContain(got, c => c.UserData == 10);
        }
        finally
        {
            close(a);
            close(b);
        }
    }

    [Fact]
    public void CqOverflow_EndsMultishotAndARearmedPollWorks()
    {
        using IoUringRing ring = Create(sqEntries: 4, cqEntries: 4);
        int eventFd = EventFd();
        try
        {
            Assert.True(ring.TryPreparePollAdd(eventFd, POLLIN, multishot: true, userData: 7));
            ring.Submit();

            // Each write wakes the poll; its CQE is posted by task_work on the way back from the
            // write, so 16 writes overrun the 4-entry CQ before anything is reaped.
            for (int i = 0; i < 16; i++)
                Signal(eventFd);
            Assert.Equal(4u, ring.ReadyCompletions);
            Assert.True(ring.CompletionsOverflowed);

            List<IoUringCompletion> got = Collect(ring, 5);
            Assert.All(got, c => Assert.Equal(7UL, c.UserData));
            Assert.True(got.Count >= 5, $"only {got.Count} completions");
            Assert.All(got.Take(got.Count - 1), c => Assert.True(c.HasMore));
            Assert.False(got[^1].HasMore, "the completion that overflowed must end the multishot poll");
            Assert.False(ring.CompletionsOverflowed);
            output.WriteLine($"16 writes, CQ of 4: {got.Count} completions, the last res {got[^1].Result} flags {got[^1].Flags}");

            Drain(eventFd);
            Signal(eventFd);
            AssertQuiet(ring); // disarmed: a write no longer completes anything

            Drain(eventFd);
            Assert.True(ring.TryPreparePollAdd(eventFd, POLLIN, multishot: true, userData: 8));
            ring.Submit();
            Signal(eventFd);
            IoUringCompletion rearmed = Assert.Single(Collect(ring, 1));
            Assert.Equal(8UL, rearmed.UserData);
            Assert.True(rearmed.HasMore);
        }
        finally
        {
            close(eventFd);
        }
    }

    [Fact]
    public void MsgRing_WakesAWaiterBlockedInSubmitOnAnotherRing()
    {
        using IoUringRing waiterRing = Create();
        using IoUringRing senderRing = Create();
        int waiterTid = 0;
        IoUringSubmitResult waited = default;
        var waiter = new Thread(() =>
        {
            Volatile.Write(ref waiterTid, gettid());
            waited = waiterRing.Submit(minComplete: 1, TimeSpan.FromSeconds(10));
        });
        waiter.Start();
        try
        {
            long start = Stopwatch.GetTimestamp();
            while (Volatile.Read(ref waiterTid) == 0 && Stopwatch.GetElapsedTime(start) < Soon)
                Thread.Yield();
            WaitUntilInIoUringEnter(Volatile.Read(ref waiterTid), Soon);

            Assert.True(senderRing.TryPrepareMsgRing(waiterRing.Fd, value: 0xABCDEF, userData: 5));
            IoUringCompletion sent = Assert.Single(Collect(senderRing, 1));
            Assert.Equal(new IoUringCompletion(5, 0, 0), sent);
        }
        finally
        {
            Assert.True(waiter.Join(TimeSpan.FromSeconds(5)), "the waiter was not woken");
        }

        Assert.Equal(0, waited.Errno);
        Assert.True(waiterRing.TryPeek(out IoUringCompletion message));
        Assert.Equal(0xABCDEFUL, message.UserData);
        Assert.Equal(0, message.Result);
    }

    [Fact]
    public void Submit_ReturnsEtimeNoEarlierThanTheTimeout()
    {
        using IoUringRing ring = Create();
        var clock = Stopwatch.StartNew();

        IoUringSubmitResult result = ring.Submit(minComplete: 1, TimeSpan.FromMilliseconds(50));

        clock.Stop();
        output.WriteLine($"50 ms timeout returned errno {result.Errno} after {clock.Elapsed.TotalMilliseconds:F2} ms");
        Assert.True(result.TimedOut, "errno " + result.Errno);
        Assert.Equal(0, result.Submitted);
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(2));
    }

    [Fact]
    public void Submit_ResumesAfterASignalWithTheTimeLeft()
    {
        // SIGURG: ignored by default, so a stray one is harmless; registering a handler makes the
        // kernel deliver it (an ignored signal would never interrupt the wait).
        int delivered = 0;
        using PosixSignalRegistration registration = PosixSignalRegistration.Create((PosixSignal)SIGURG, context =>
        {
            context.Cancel = true;
            Interlocked.Increment(ref delivered);
        });
        using IoUringRing ring = Create();
        TimeSpan timeout = TimeSpan.FromMilliseconds(1000);
        int waiterTid = 0;
        IoUringSubmitResult waited = default;
        TimeSpan elapsed = default;
        long started = 0;
        var waiter = new Thread(() =>
        {
            Volatile.Write(ref waiterTid, gettid());
            Volatile.Write(ref started, Stopwatch.GetTimestamp());
            waited = ring.Submit(minComplete: 1, timeout);
            elapsed = Stopwatch.GetElapsedTime(started);
        });
        waiter.Start();
        try
        {
            long start = Stopwatch.GetTimestamp();
            while (Volatile.Read(ref waiterTid) == 0 && Stopwatch.GetElapsedTime(start) < Soon)
                Thread.Yield();
            WaitUntilInIoUringEnter(Volatile.Read(ref waiterTid), Soon);
            // Interrupt half-way: restarting the full timeout would then take 1.5 s in all.
            TimeSpan sinceStart = Stopwatch.GetElapsedTime(Volatile.Read(ref started));
            if (sinceStart < timeout / 2)
                Thread.Sleep(timeout / 2 - sinceStart);
            Check(tgkill(getpid(), Volatile.Read(ref waiterTid), SIGURG), "tgkill");
        }
        finally
        {
            Assert.True(waiter.Join(TimeSpan.FromSeconds(5)), "the waiter did not return");
        }

        output.WriteLine($"1 s timeout, SIGURG at ~500 ms: errno {waited.Errno} after {elapsed.TotalMilliseconds:F2} ms, {ring.InterruptedWaits} interrupted waits, {Volatile.Read(ref delivered)} handler runs");
        Assert.True(waited.TimedOut, "errno " + waited.Errno);
        Assert.True(ring.InterruptedWaits >= 1, "io_uring_enter was never interrupted");
        Assert.InRange(elapsed, timeout, timeout + TimeSpan.FromMilliseconds(400));
    }
}
