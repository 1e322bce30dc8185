using System;
using System.Threading;
using EpollGen.Events;
using EpollGen.Interop;
using EpollGen.Taps;
using Xunit;
using static EpollGen.Runtime.Tests.Native.TestLibC;

namespace EpollGen.Runtime.Tests.Taps;

/// <summary>
/// A tap on a signalfd. A .NET process has threads the test does not own, so a signal cannot be
/// blocked in every thread, and a process-directed signal would be delivered (and, for SIGURG,
/// discarded) by some thread that does not block it, never becoming pending. The test therefore
/// blocks SIGURG in one thread it owns and sends it to that thread alone with tgkill: it stays
/// pending there. A signalfd's readiness is the pending set of the thread that polls it, so that
/// same thread must be the queue's kernel waiter: it waits on the queue (the only waiter, so it
/// waits in the kernel), and the kernel's signalfd wake-up, raised for any signal sent to the
/// process, makes its epoll_wait re-poll the signalfd in its own context and see the signal.
/// </summary>
[Collection(SignalCollection.Name)]
public sealed unsafe class SignalFdTapTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);

    [Fact]
    public void SignalFd_ASignalPendingForTheWaitingThread_PostsReadable()
    {
        using var queue = new EventQueue();
        byte* mask = stackalloc byte[SigSetSize];
        Check(sigemptyset(mask), "sigemptyset");
        Check(sigaddset(mask, SIGURG), "sigaddset");
        int fd = Check(signalfd(-1, mask, SFD_NONBLOCK | SFD_CLOEXEC), "signalfd");
        try
        {
            CeqId id = queue.Allocate(userData: 11);
            TapTests.Submit(new TapRequest(fd, TapCommand.Add, TapFilters.FDTAP_FILT_READABLE, queue, id));
            int tid = 0, taken = -1, maskError = -1;
            uint signalRead = 0;
            CeqMessage message = default;
            var waiter = new Thread(() =>
            {
                byte* blocked = stackalloc byte[SigSetSize];
                byte* previous = stackalloc byte[SigSetSize];
                sigemptyset(blocked);
                sigaddset(blocked, SIGURG);
                maskError = pthread_sigmask(SIG_BLOCK, blocked, previous);
                Volatile.Write(ref tid, gettid());
                try
                {
                    var one = new CeqMessage[1];
                    taken = queue.Wait(one, Bound);
                    message = one[0];
                    // Reading takes the signal off this thread's pending set, so unblocking it
                    // below delivers nothing.
                    byte* info = stackalloc byte[SignalFdSigInfoSize];
                    if (read(fd, info, SignalFdSigInfoSize) == SignalFdSigInfoSize)
                        signalRead = *(uint*)info;
                }
                finally
                {
                    pthread_sigmask(SIG_SETMASK, previous, null);
                }
            }) { IsBackground = true };
            waiter.Start();

            // Asleep in the kernel with nothing to report: the tap did not fire before the signal.
            KernelWaits.UntilBlocked(ref tid, Bound);
            Assert.Equal(0, tgkill(getpid(), Volatile.Read(ref tid), SIGURG));

            Assert.True(waiter.Join(Bound * 2), "the waiter did not return");
            Assert.Equal(0, maskError);
            Assert.Equal(1, taken);
            Assert.Equal(id, message.Id);
            Assert.Equal(TapFilters.FDTAP_FILT_READABLE, (TapFilters)message.Bits);
            Assert.Equal(11UL, message.UserData);
            Assert.Equal((uint)SIGURG, signalRead);
        }
        finally
        {
            close(fd);
        }
    }
}
