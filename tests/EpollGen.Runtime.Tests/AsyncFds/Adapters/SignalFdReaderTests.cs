using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Threading.Tasks;
using EpollGen.Interop;
using EpollGen.Taps;
using Xunit;
using static EpollGen.Runtime.Tests.Native.TestLibC;

namespace EpollGen.Runtime.Tests.AsyncFds.Adapters;

/// <summary>
/// SignalFdReader in the test process, on each tap backend's engines. The test host's threads do
/// not block the signals used here, so a signal sent to the process could be taken by any of them
/// before the signalfd saw it. These tests send each signal to their own thread instead (tgkill),
/// with the signal blocked there: it stays pending for that thread alone, and the reader's first
/// read, made on that thread, takes it. Process-directed signals reaching a waiting read are
/// tested in a child whose every thread blocks the signal (<see cref="SignalFdReaderProcessTests"/>).
/// </summary>
[Collection(SignalCollection.Name)]
public abstract partial class SignalFdReaderTests(TapBackendKind backend) : AdapterTests(backend)
{
    private const int SIGKILL = 9;
    private const int SIGWINCH = 28;
    private const int SI_TKILL = -6;

    private SignalFdReader Open(params int[] signals) => new(signals, Engine);

    [LibraryImport("libc")]
    private static partial uint getuid();

    [Fact]
    public void ASignalSentToThisThread_IsReadAtOnce_WithItsSender()
    {
        using SignalFdReader reader = Open(SIGURG);
        SignalFdSigInfo signal = default;
        bool completed = false;

        WithBlocked(() =>
        {
            Check(tgkill(getpid(), gettid(), SIGURG), "tgkill");
            ValueTask<SignalFdSigInfo> read = reader.ReadAsync();
            completed = read.IsCompletedSuccessfully;
            signal = completed ? read.Result : default;
        }, SIGURG);

        Assert.True(completed, "the pending signal was not read at once");
        Assert.Equal((uint)SIGURG, signal.ssi_signo);
        Assert.Equal(SI_TKILL, signal.ssi_code);
        Assert.Equal((uint)getpid(), signal.ssi_pid);
        Assert.Equal(getuid(), signal.ssi_uid);
    }

    [Fact]
    public void SignalsPendingTogether_AreReadOneAtATime_LowestNumberFirst()
    {
        using SignalFdReader reader = Open(SIGWINCH, SIGURG);
        var read = new List<uint>();

        WithBlocked(() =>
        {
            Check(tgkill(getpid(), gettid(), SIGWINCH), "tgkill");
            Check(tgkill(getpid(), gettid(), SIGURG), "tgkill");
            while (reader.TryRead(out SignalFdSigInfo signal))
                read.Add(signal.ssi_signo);
        }, SIGURG, SIGWINCH);

        Assert.Equal([(uint)SIGURG, (uint)SIGWINCH], read);
    }

    [Fact]
    public async Task Dispose_EndsAPendingRead_WithObjectDisposedException_AndAnEnumeration()
    {
        var reader = Open(SIGURG);
        var enumerated = Open(SIGWINCH);
        ValueTask<SignalFdSigInfo> pending = reader.ReadAsync();
        await using IAsyncEnumerator<SignalFdSigInfo> signals = enumerated.GetAsyncEnumerator();
        ValueTask<bool> next = signals.MoveNextAsync();
        Assert.False(pending.IsCompleted);
        Assert.False(next.IsCompleted);

        reader.Dispose();
        enumerated.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await pending.AsTask().WaitAsync(Bound));
        Assert.False(await next.AsTask().WaitAsync(Bound));
    }

    [Fact]
    public void SignalsNoOneCanCatch_OrNone_AreRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Open(SIGKILL));
        Assert.Throws<ArgumentOutOfRangeException>(() => Open(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Open(65));
        Assert.Throws<ArgumentException>(() => Open());
    }

    [Fact]
    public void IsBlockedInEveryThread_IsFalse_WhereTheRuntimesThreadsDoNotBlockIt()
    {
        bool blockedHereOnly = false;
        WithBlocked(() => blockedHereOnly = !SignalFdReader.IsBlockedInEveryThread(SIGURG), SIGURG);

        Assert.True(blockedHereOnly);
        Assert.Throws<ArgumentOutOfRangeException>(() => SignalFdReader.IsBlockedInEveryThread(0));
    }

    [Fact]
    public void SteadyState_ReadsOfPendingSignals_AllocateNothing()
    {
        using SignalFdReader reader = Open(SIGURG);
        int failed = 0;
        long allocated = -1;

        WithBlocked(() =>
        {
            int self = gettid(), process = getpid();
            for (int i = 0; i < 20; i++)
                failed += SendAndRead(reader, process, self) ? 0 : 1;
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 500; i++)
                failed += SendAndRead(reader, process, self) ? 0 : 1;
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        }, SIGURG);

        Assert.Equal(0, failed);
        Assert.Equal(0, allocated);
    }

    // No asserts here: a failing one would allocate its message inside the measured loop.
    private static bool SendAndRead(SignalFdReader reader, int process, int self)
    {
        if (tgkill(process, self, SIGURG) != 0)
            return false;
        ValueTask<SignalFdSigInfo> read = reader.ReadAsync();
        return read.IsCompletedSuccessfully && read.Result.ssi_signo == SIGURG;
    }

    /// <summary>
    /// Runs <paramref name="body"/> with <paramref name="signals"/> blocked in this thread, then
    /// restores its mask. Signals the body sent itself and did not read are delivered then: the
    /// ones used here are ignored by default.
    /// </summary>
    internal static unsafe void WithBlocked(Action body, params int[] signals)
    {
        byte* blocked = stackalloc byte[SigSetSize];
        byte* previous = stackalloc byte[SigSetSize];
        sigemptyset(blocked);
        foreach (int signal in signals)
            sigaddset(blocked, signal);
        Assert.Equal(0, pthread_sigmask(SIG_BLOCK, blocked, previous));
        try
        {
            body();
        }
        finally
        {
            pthread_sigmask(SIG_SETMASK, previous, null);
        }
    }
}

[Collection(SignalCollection.Name)]
public sealed class SignalFdReaderTests_Epoll() : SignalFdReaderTests(TapBackendKind.Epoll);

[Collection(SignalCollection.Name)]
public sealed class SignalFdReaderTests_IoUring() : SignalFdReaderTests(TapBackendKind.IoUring);
