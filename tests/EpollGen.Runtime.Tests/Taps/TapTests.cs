using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using EpollGen.Events;
using EpollGen.Interop;
using EpollGen.Runtime.Tests.Native;
using EpollGen.Taps;
using Xunit;

namespace EpollGen.Runtime.Tests.Taps;

/// <summary>Taps on real fds, observed by waiting on the queue; on each backend.</summary>
public abstract class TapTests(TapBackendKind backend) : BackendTests(backend)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(100);

    [Fact]
    public void EventFd_Written_PostsReadable()
    {
        using var queue = NewQueue();
        int fd = Fds.EventFd();
        try
        {
            CeqId id = queue.Allocate(userData: 7);
            Submit(new TapRequest(fd, TapCommand.Add, TapFilters.FDTAP_FILT_READABLE, queue, id));
            AssertNothing(queue);

            Fds.Signal(fd);

            CeqMessage message = WaitOne(queue);
            Assert.Equal(id, message.Id);
            Assert.Equal(TapFilters.FDTAP_FILT_READABLE, (TapFilters)message.Bits);
            Assert.Equal(7UL, message.UserData);
        }
        finally
        {
            TestLibC.close(fd);
        }
    }

    [Fact]
    public void Pipe_EachChunkIsAnEdge_AndClosingTheWriterIsAHangUp()
    {
        using var queue = NewQueue();
        (int r, int w) = Fds.Pipe();
        try
        {
            CeqId id = queue.Allocate();
            Submit(new TapRequest(r, TapCommand.Add, TapFilters.FDTAP_FILT_READABLE, queue, id));

            Fds.WriteByte(w);
            Assert.Equal(TapFilters.FDTAP_FILT_READABLE, (TapFilters)WaitOne(queue).Bits);
            // Unread data and a second chunk: a new edge all the same.
            Fds.WriteByte(w);
            Assert.Equal(TapFilters.FDTAP_FILT_READABLE, (TapFilters)WaitOne(queue).Bits);

            TestLibC.close(w);
            w = -1;
            Assert.True(((TapFilters)WaitOne(queue).Bits).HasFlag(TapFilters.FDTAP_FILT_HANGUP));
        }
        finally
        {
            TestLibC.close(r);
            if (w >= 0)
                TestLibC.close(w);
        }
    }

    [Fact]
    public void SocketPair_AddReportsWritableNow_AndPeerShutdownIsRdHup()
    {
        using var queue = NewQueue();
        (int a, int b) = Fds.SocketPair();
        try
        {
            CeqId id = queue.Allocate();
            Submit(new TapRequest(a, TapCommand.Add, TapFilters.FDTAP_FILT_WRITABLE | TapFilters.FDTAP_FILT_RDHUP, queue, id));
            Assert.Equal(TapFilters.FDTAP_FILT_WRITABLE, (TapFilters)WaitOne(queue).Bits);

            Assert.Equal(0, TestLibC.shutdown(b, TestLibC.SHUT_WR));

            Assert.True(((TapFilters)WaitOne(queue).Bits).HasFlag(TapFilters.FDTAP_FILT_RDHUP));
        }
        finally
        {
            TestLibC.close(a);
            TestLibC.close(b);
        }
    }

    [Fact]
    public void ManyTapsOnOneFd_AllFire_AcrossQueuesAndFilters()
    {
        using var first = NewQueue();
        using var second = NewQueue();
        (int a, int b) = Fds.SocketPair();
        try
        {
            CeqId reader = first.Allocate(), writer = first.Allocate(), other = second.Allocate();
            Submit(
                new TapRequest(a, TapCommand.Add, TapFilters.FDTAP_FILT_READABLE, first, reader),
                new TapRequest(a, TapCommand.Add, TapFilters.FDTAP_FILT_WRITABLE, first, writer),
                new TapRequest(a, TapCommand.Add, TapFilters.FDTAP_FILT_READABLE, second, other));
            Assert.Equal(writer, WaitOne(first).Id);

            Fds.WriteByte(b);

            Assert.Equal(reader, WaitOne(first).Id);
            Assert.Equal(other, WaitOne(second).Id);
        }
        finally
        {
            TestLibC.close(a);
            TestLibC.close(b);
        }
    }

    [Fact]
    public void TapsJoiningAndLeavingAnFd_EachFiresOnlyWhileItIsThere()
    {
        using var queue = NewQueue();
        (int a, int b) = Fds.SocketPair();
        try
        {
            CeqId first = queue.Allocate(), second = queue.Allocate(), third = queue.Allocate();
            Submit(new TapRequest(a, TapCommand.Add, TapFilters.FDTAP_FILT_READABLE, queue, first));
            Submit(new TapRequest(a, TapCommand.Add, TapFilters.FDTAP_FILT_READABLE, queue, second));
            Fds.WriteByte(b);
            Assert.Equal(new[] { first, second }.OrderBy(id => id.Value), new[] { WaitOne(queue).Id, WaitOne(queue).Id }.OrderBy(id => id.Value));
            Fds.ReadByte(a);

            Submit(new TapRequest(a, TapCommand.Remove, 0, queue, first));
            AssertNothing(queue);
            Fds.WriteByte(b);
            Assert.Equal(second, WaitOne(queue).Id);
            AssertNothing(queue);
            Fds.ReadByte(a);

            Submit(new TapRequest(a, TapCommand.Modify, TapFilters.FDTAP_FILT_WRITABLE, queue, second));
            CeqMessage writable = WaitOne(queue);
            Assert.Equal(second, writable.Id);
            Assert.Equal(TapFilters.FDTAP_FILT_WRITABLE, (TapFilters)writable.Bits);

            // The fd's last tap goes; a new one starts afresh and sees nothing of the old ones.
            Submit(new TapRequest(a, TapCommand.Remove, 0, queue, second));
            Submit(new TapRequest(a, TapCommand.Add, TapFilters.FDTAP_FILT_READABLE, queue, third));
            AssertNothing(queue);
            Fds.WriteByte(b);
            Assert.Equal(third, WaitOne(queue).Id);
            AssertNothing(queue);
        }
        finally
        {
            TestLibC.close(a);
            TestLibC.close(b);
        }
    }

    [Fact]
    public void Modify_ChangesTheFilter_AndRereadsReadiness()
    {
        using var queue = NewQueue();
        (int a, int b) = Fds.SocketPair();
        try
        {
            CeqId id = queue.Allocate();
            Submit(new TapRequest(a, TapCommand.Add, TapFilters.FDTAP_FILT_READABLE, queue, id));
            AssertNothing(queue);

            Submit(new TapRequest(a, TapCommand.Modify, TapFilters.FDTAP_FILT_WRITABLE, queue, id));

            Assert.Equal(TapFilters.FDTAP_FILT_WRITABLE, (TapFilters)WaitOne(queue).Bits);
        }
        finally
        {
            TestLibC.close(a);
            TestLibC.close(b);
        }
    }

    [Fact]
    public void Modify_WithTheSameFilter_ReportsReadinessAgain()
    {
        using var queue = NewQueue();
        int fd = Fds.EventFd();
        try
        {
            CeqId id = queue.Allocate();
            Fds.Signal(fd);
            Submit(new TapRequest(fd, TapCommand.Add, TapFilters.FDTAP_FILT_READABLE, queue, id));
            Assert.Equal(id, WaitOne(queue).Id);
            AssertNothing(queue); // an edge, reported once: the fd stays readable, silently

            // No kernel-visible change in the mask: MOD must still re-read readiness (an ET re-fire).
            Submit(new TapRequest(fd, TapCommand.Modify, TapFilters.FDTAP_FILT_READABLE, queue, id));

            Assert.Equal(id, WaitOne(queue).Id);
        }
        finally
        {
            TestLibC.close(fd);
        }
    }

    [Fact]
    public void PollFd_IsReadableWhileReadinessAwaitsAWaiter()
    {
        using var queue = NewQueue();
        int fd = Fds.EventFd(), ready = Fds.EventFd();
        try
        {
            CeqId id = queue.Allocate();
            Submit(new TapRequest(fd, TapCommand.Add, TapFilters.FDTAP_FILT_READABLE, queue, id));
            AssertNothing(queue);
            Assert.False(TestLibC.PollsReadable(queue.TapPollFd, 0), "nothing is pending yet");

            Fds.Signal(fd);

            Assert.True(TestLibC.PollsReadable(queue.TapPollFd, (int)Bound.TotalMilliseconds), "readiness waits, but PollFd is not readable");
            Assert.Equal(id, WaitOne(queue).Id);
            Assert.False(TestLibC.PollsReadable(queue.TapPollFd, 0), "everything was dispatched");

            // A tap added while no one waits, on an fd that is ready already: a poller of PollFd
            // must learn of it without anyone waiting on the queue first.
            Fds.Signal(ready);
            CeqId second = queue.Allocate();
            Submit(new TapRequest(ready, TapCommand.Add, TapFilters.FDTAP_FILT_READABLE, queue, second));

            Assert.True(TestLibC.PollsReadable(queue.TapPollFd, (int)Bound.TotalMilliseconds), "a new tap's readiness does not show on PollFd");
            Assert.Equal(second, WaitOne(queue).Id);
        }
        finally
        {
            TestLibC.close(fd);
            TestLibC.close(ready);
        }
    }

    [Fact]
    public void Remove_StopsPosts()
    {
        using var queue = NewQueue();
        int fd = Fds.EventFd();
        try
        {
            CeqId id = queue.Allocate();
            Submit(new TapRequest(fd, TapCommand.Add, TapFilters.FDTAP_FILT_READABLE, queue, id));
            Submit(new TapRequest(fd, TapCommand.Remove, 0, queue, id));

            Fds.Signal(fd);

            AssertNothing(queue);
        }
        finally
        {
            TestLibC.close(fd);
        }
    }

    [Fact]
    public void Batch_StopsAtTheFirstFailure_WithItsErrno()
    {
        using var queue = NewQueue();
        int fd = Fds.EventFd();
        string file = Path.GetTempFileName();
        int regular = Fds.OpenRegularFile(file);
        try
        {
            CeqId a = queue.Allocate(), b = queue.Allocate();
            TapRequest good = new(fd, TapCommand.Add, TapFilters.FDTAP_FILT_READABLE, queue, a);

            Assert.Equal(1, FdTaps.Submit([good, good with { Id = b, Fd = -1 }, good with { Id = b }], out int errno));
            Assert.Equal(9, errno); // EBADF, and the third request did not run:
            Assert.Equal(0, FdTaps.Submit([good with { Id = b, Command = TapCommand.Remove }], out errno));
            Assert.Equal(2, errno); // ENOENT

            Assert.Equal(0, FdTaps.Submit([good], out errno));
            Assert.Equal(17, errno); // EEXIST
            Assert.Equal(0, FdTaps.Submit([good with { Id = b, Filter = TapFilters.FDTAP_FILT_WRITTEN }], out errno));
            Assert.Equal(38, errno); // ENOSYS: no poll(2) bit for file writes
            Assert.Equal(0, FdTaps.Submit([good with { Id = b, Command = (TapCommand)7 }], out errno));
            Assert.Equal(22, errno); // EINVAL
            Assert.Equal(0, FdTaps.Submit([good with { Id = b, Fd = regular }], out errno));
            Assert.Equal(1, errno); // EPERM: the kernel cannot poll a regular file
        }
        finally
        {
            TestLibC.close(fd);
            TestLibC.close(regular);
            File.Delete(file);
        }
    }

    [Fact]
    public void ClosedFd_ItsTapsGoQuiet_AndANewFileOnTheNumberGetsNothing()
    {
        using var queue = NewQueue();
        int fd = Fds.EventFd();
        CeqId id = queue.Allocate();
        Submit(new TapRequest(fd, TapCommand.Add, TapFilters.FDTAP_FILT_READABLE, queue, id));
        TestLibC.close(fd);

        int reused = Fds.EventFd();
        try
        {
            Assert.Equal(fd, reused);
            Fds.Signal(reused);
            AssertNothing(queue);

            // A new tap on the number starts clean: only the new id hears the new file.
            CeqId fresh = queue.Allocate();
            Submit(new TapRequest(reused, TapCommand.Add, TapFilters.FDTAP_FILT_READABLE, queue, fresh));
            Assert.Equal(fresh, WaitOne(queue).Id);
            AssertNothing(queue);
        }
        finally
        {
            TestLibC.close(reused);
        }
    }

    [Fact]
    public void TenThousandFds_AllReported_ThroughOverflowAndRecovery()
    {
        using var queue = NewQueue(ringSize: 64);
        var pipes = Enumerable.Range(0, 5000).Select(_ => Fds.Pipe()).ToArray();
        try
        {
            var ids = new CeqId[pipes.Length];
            var requests = new TapRequest[pipes.Length];
            for (int i = 0; i < pipes.Length; i++)
            {
                ids[i] = queue.Allocate(userData: (ulong)i);
                requests[i] = new TapRequest(pipes[i].Read, TapCommand.Add, TapFilters.FDTAP_FILT_READABLE, queue, ids[i]);
            }
            Submit(requests);
            foreach ((_, int w) in pipes)
                Fds.WriteByte(w);

            var seen = new bool[pipes.Length];
            int count = 0;
            var buffer = new CeqMessage[256];
            var clock = Stopwatch.StartNew();
            while (count < pipes.Length)
            {
                Assert.True(clock.Elapsed < Bound * 4, $"only {count} of {pipes.Length} pipes reported");
                int n = queue.Wait(buffer, Bound);
                for (int i = 0; i < n; i++)
                {
                    int index = (int)buffer[i].UserData;
                    Assert.False(seen[index], $"pipe {index} reported twice");
                    seen[index] = true;
                    count++;
                }
            }
            Assert.True(queue.Mailbox.Overflows > 0, "5000 ids through a 64-entry ring must overflow");
            AssertNothing(queue);
        }
        finally
        {
            foreach ((int r, int w) in pipes)
            {
                TestLibC.close(r);
                TestLibC.close(w);
            }
        }
    }

    /// <summary>
    /// 10,000 eventfds tapped on one queue at once (the open-file limit here is 20,000 and the test
    /// host holds some; the 5,000-pipe test above uses 10,000 fds too, and tests in one class never
    /// run concurrently). A scattered subset fires, more of them than the ring holds: exactly
    /// those are reported, each once, and nothing else.
    /// </summary>
    [Fact]
    public void TenThousandTaps_OnOneQueue_ExactlyTheFiredSubsetIsReported()
    {
        const int Count = 10_000;
        using var queue = new EventQueue();
        var fds = new int[Count];
        Array.Fill(fds, -1);
        try
        {
            var requests = new TapRequest[Count];
            for (int i = 0; i < Count; i++)
            {
                fds[i] = Fds.EventFd();
                requests[i] = new TapRequest(fds[i], TapCommand.Add, TapFilters.FDTAP_FILT_READABLE, queue, queue.Allocate(userData: (ulong)i));
            }
            Submit(requests);
            AssertNothing(queue);

            bool[] fired = new bool[Count];
            int firedCount = 0;
            var random = new Random(20_000);
            for (int i = 0; i < Count; i++)
            {
                // Both ends, and about one in seven in between: 1,400-odd ids against a 1,024-entry ring.
                if (i == 0 || i == Count - 1 || random.Next(7) == 0)
                {
                    fired[i] = true;
                    firedCount++;
                    Fds.Signal(fds[i]);
                }
            }

            var seen = new bool[Count];
            int count = 0;
            var buffer = new CeqMessage[256];
            var clock = Stopwatch.StartNew();
            while (count < firedCount)
            {
                Assert.True(clock.Elapsed < Bound * 4, $"only {count} of {firedCount} fired eventfds reported");
                int n = queue.Wait(buffer, Bound);
                for (int i = 0; i < n; i++)
                {
                    int index = (int)buffer[i].UserData;
                    Assert.True(fired[index], $"eventfd {index} was reported but never written");
                    Assert.False(seen[index], $"eventfd {index} reported twice");
                    Assert.Equal(TapFilters.FDTAP_FILT_READABLE, (TapFilters)buffer[i].Bits);
                    seen[index] = true;
                    count++;
                }
            }
            Assert.True(firedCount > queue.Mailbox.RingSize, $"{firedCount} fired must exceed the ring");
            AssertNothing(queue);
            Assert.Equal(Count, queue.Mailbox.IdsInUse);
        }
        finally
        {
            foreach (int fd in fds)
            {
                if (fd >= 0)
                    TestLibC.close(fd);
            }
        }
    }

    internal static void Submit(params TapRequest[] requests)
    {
        int done = FdTaps.Submit(requests, out int errno);
        Assert.True(done == requests.Length, $"request {done} failed with errno {errno}");
    }

    internal static CeqMessage WaitOne(EventQueue queue)
    {
        var one = new CeqMessage[1];
        Assert.Equal(1, queue.Wait(one, Bound));
        Assert.NotEqual(0u, one[0].Bits);
        return one[0];
    }

    internal static void AssertNothing(EventQueue queue)
    {
        var one = new CeqMessage[1];
        Assert.Equal(0, queue.Wait(one, Quiet));
    }
}

/// <summary><see cref="TapTests"/> on the kernel-epoll backend.</summary>
[Collection(ManyFdsCollection.Name)]
public sealed class TapTests_Epoll() : TapTests(TapBackendKind.Epoll);

/// <summary><see cref="TapTests"/> on the io_uring backend.</summary>
[Collection(ManyFdsCollection.Name)]
public sealed class TapTests_IoUring() : TapTests(TapBackendKind.IoUring);
