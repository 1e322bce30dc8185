using System;
using System.Runtime.InteropServices;
using System.Threading;
using EpollGen.Runtime.Tests.Native;
using EpollGen.Taps;
using Xunit;

namespace EpollGen.Runtime.Tests.Concurrency;

/// <summary>
/// Every thread that waits on a set is a waiter in its own right: a signal to it interrupts its
/// wait (EINTR), and epoll_pwait's mask is swapped atomically with its own wait, whoever else
/// waits on the set. SIGURG, with a handler that swallows it, stands for the application's signal.
/// </summary>
public abstract unsafe class WaiterSignalTests : ConcurrencyTests
{
    private const int SIGURG = TestLibC.SIGURG;
    private readonly PosixSignalRegistration _handler;

    private protected WaiterSignalTests(EpollUnderTest epoll)
        : base(epoll)
    {
        _handler = PosixSignalRegistration.Create((PosixSignal)SIGURG, context => context.Cancel = true);
    }

    // The second waiter first: it is the one that sleeps behind the first's kernel wait, if the
    // implementation has one thread wait for the others. The first must not notice.
    [Fact]
    public void ASignalToEachOfTwoBlockedWaiters_InterruptsEachAlone()
    {
        int set = NewSet();
        Waiter first = StartBlockedWait("first waiter (no timeout)", set, timeout: -1);
        Waiter second = StartBlockedWait("second waiter (10 s)", set, timeout: 10_000);

        Kill(second);

        AssertInterrupted(second, "the second waiter");
        Assert.False(first.HasReturned, $"the first waiter returned {first.Result} (errno {first.Errno})");
        Kill(first);
        AssertInterrupted(first, "the first waiter");
    }

    // A signal pending and blocked in the thread, unblocked by the mask: the mask and the wait are
    // one step, so the wait sees the signal at once, though another thread is already waiting.
    [Fact]
    public void Pwait_OnTheSecondWaiter_UnblocksAPendingSignalAtOnce_AndRestoresTheMask()
    {
        int set = NewSet();
        Waiter first = StartBlockedWait("first waiter", set, timeout: 10_000);
        bool stillBlockedAfter = false;
        Waiter second = StartWait("second waiter (pwait)", events =>
        {
            byte* urg = stackalloc byte[TestLibC.SigSetSize];
            byte* empty = stackalloc byte[TestLibC.SigSetSize];
            byte* old = stackalloc byte[TestLibC.SigSetSize];
            byte* after = stackalloc byte[TestLibC.SigSetSize];
            TestLibC.sigemptyset(urg);
            TestLibC.sigaddset(urg, SIGURG);
            TestLibC.sigemptyset(empty);
            TestLibC.pthread_sigmask(TestLibC.SIG_BLOCK, urg, old);
            TestLibC.tgkill(TestLibC.getpid(), TestLibC.gettid(), SIGURG);
            int result = Epoll.PWait(set, events, 1, 10_000, empty);
            int errno = Marshal.GetLastPInvokeError();
            TestLibC.pthread_sigmask(TestLibC.SIG_BLOCK, null, after);
            stillBlockedAfter = (after[(SIGURG - 1) / 8] & (1 << ((SIGURG - 1) % 8))) != 0;
            TestLibC.pthread_sigmask(TestLibC.SIG_SETMASK, old, null);
            Marshal.SetLastPInvokeError(errno);
            return result;
        });

        AssertInterrupted(second, "the second waiter's epoll_pwait");
        Assert.True(stillBlockedAfter, "the thread's own mask must be back after epoll_pwait");
        Assert.False(first.HasReturned, $"the first waiter returned {first.Result} (errno {first.Errno})");
    }

    // The other way round: the mask blocks a signal the thread takes otherwise. Sent during the
    // wait, it stays pending and the wait goes on, to the event that ends it.
    [Fact]
    public void Pwait_OnTheSecondWaiter_ASignalItsMaskBlocks_DoesNotInterruptIt()
    {
        int set = NewSet();
        int fd = EventFd();
        Ctl(set, Linux.EPOLL_CTL_ADD, fd, Interop.EpollEvents.EPOLLIN, 5);
        Waiter first = StartBlockedWait("first waiter", set, timeout: 10_000);
        Waiter second = StartWait("second waiter (pwait)", events =>
        {
            byte* urg = stackalloc byte[TestLibC.SigSetSize];
            TestLibC.sigemptyset(urg);
            TestLibC.sigaddset(urg, SIGURG);
            // Blocked in the thread only for the wait; delivered after it returns.
            return Epoll.PWait(set, events, 1, 10_000, urg);
        });
        second.UntilBlocked(Bound);

        Kill(second);

        Assert.False(second.Join(TimeSpan.FromMilliseconds(200)),
            $"the signal the mask blocks ended the wait: {second.Result} (errno {second.Errno})");
        TestLibC.Signal(fd);
        AssertReturnsEvent(second, 5, "the second waiter after the event");
        AssertReturnsEvent(first, 5, "the first waiter after the event");
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
            _handler.Dispose();
    }

    private static void Kill(Waiter waiter) =>
        Assert.Equal(0, TestLibC.tgkill(TestLibC.getpid(), waiter.Tid, SIGURG));

    private static void AssertInterrupted(Waiter waiter, string what)
    {
        Assert.True(waiter.Join(Bound), $"{what} was not interrupted within {Bound}");
        Assert.True(waiter.Result == -1 && waiter.Errno == EINTR,
            $"{what} returned {waiter.Result} (errno {waiter.Errno}) after {waiter.Elapsed.TotalMilliseconds:F0} ms, not -1 EINTR");
    }
}

/// <summary><see cref="WaiterSignalTests"/> on the kernel's epoll.</summary>
public sealed class WaiterSignalTests_Kernel() : WaiterSignalTests(new KernelEpoll());

/// <summary><see cref="WaiterSignalTests"/> on EpollGen sets on the kernel-epoll tap backend.</summary>
public sealed class WaiterSignalTests_Epoll() : WaiterSignalTests(new EpollGenEpoll(TapBackendKind.Epoll));

/// <summary><see cref="WaiterSignalTests"/> on EpollGen sets on the io_uring tap backend.</summary>
public sealed class WaiterSignalTests_IoUring() : WaiterSignalTests(new EpollGenEpoll(TapBackendKind.IoUring));
