using System;
using System.Buffers;
using System.IO.Pipelines;
using System.Reflection;
using System.Threading;
using System.Threading.Tasks;
using EpollGen.Runtime.Tests.Native;
using EpollGen.Taps;
using Microsoft.Win32.SafeHandles;
using Xunit;

namespace EpollGen.Runtime.Tests.AsyncFds.Review;

/// <summary>Review findings: each test asserts the intended behaviour and fails on HEAD.</summary>
public sealed class ReviewFindingsTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private readonly System.Collections.Generic.List<int> _fds = [];

    public void Dispose()
    {
        foreach (int fd in _fds)
            TestLibC.close(fd);
    }

    private static AsyncFd Wrap(int fd, AsyncFdInterest interest, bool owns = false) =>
        new(new SafeFileHandle(fd, ownsHandle: owns), interest, ownsHandle: true, AsyncFdEngine.For(TapBackendKind.Epoll, fd));

    private static bool IsOpen(int fd) => TestLibC.fcntl(fd, 3 /* F_GETFL */, 0) >= 0;

    // Finding: a cancellation callback of an earlier await, already popped by CancellationTokenSource
    // (so TryClaim's Unregister() neither removes nor waits for it), runs after the await it was
    // registered for completed with readiness and a new await armed: it cancels the new await.
    // The interleaving is reproduced by invoking the waiter's callback body (Cancel) at that moment.
    [Fact]
    public async Task StaleCancellationCallback_MustNotCancelALaterAwait()
    {
        (int read, int write) = TestLibC.Pipe();
        _fds.Add(write);
        using AsyncFd reader = Wrap(read, AsyncFdInterest.Readable, owns: true);
        using var first = new CancellationTokenSource();

        ValueTask<AsyncFdReadyGuard> wait1 = reader.ReadableAsync(first.Token);
        TestLibC.WriteByte(write);
        AsyncFdReadyGuard guard = await wait1.AsTask().WaitAsync(Bound);   // the engine won the race
        byte[] buffer = new byte[8];
        Assert.True(reader.TryRead(buffer, out _));
        Assert.False(reader.TryRead(buffer, out _));                         // drained, readiness cleared

        ValueTask<AsyncFdReadyGuard> wait2 = reader.ReadableAsync();         // no token at all
        Assert.False(wait2.IsCompleted);

        // Await 1's callback, which first.Cancel() had popped before the engine's TryClaim, runs now.
        object waiter = typeof(AsyncFd).GetField("_reader", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(reader)!;
        first.Cancel();   // (its registration is gone: nothing happens here)
        waiter.GetType().GetMethod("Cancel", BindingFlags.NonPublic | BindingFlags.Instance)!.Invoke(waiter, [first.Token]);

        TestLibC.WriteByte(write);
        // Expected: await 2, which has no token, completes with readiness.
        AsyncFdReadyGuard second = await wait2.AsTask().WaitAsync(Bound);
        Assert.NotEqual(0u, (uint)second.Ready);
    }

    // Finding: TryIo hands the raw fd number to the delegate without a reference on the handle, so
    // a Dispose on another thread closes the number (and lets it be reused) under the call.
    [Fact]
    public void TryIo_MustHoldTheHandle_LikeTryRead()
    {
        (int read, int write) = TestLibC.Pipe();
        _fds.Add(write);
        AsyncFd reader = Wrap(read, AsyncFdInterest.Readable, owns: true);
        TestLibC.WriteByte(write);
        Assert.True(reader.ReadyIn(AsyncFdInterest.Readable, out _) || SpinUntilReady(reader));
        reader.ReadyIn(AsyncFdInterest.Readable, out AsyncFdReadyGuard guard);

        bool openDuringCall = false;
        guard.TryIo((fd, fdObject) =>
        {
            fdObject.Dispose();              // another thread's Dispose, mid-call
            openDuringCall = IsOpen(fd);     // the fd the delegate is still using
            return 0;
        }, reader, out _);

        Assert.True(openDuringCall, "Dispose closed the fd while TryIo's system call still used its number");
    }

    private static bool SpinUntilReady(AsyncFd fd) =>
        SpinWait.SpinUntil(() => fd.ReadyIn(AsyncFdInterest.Readable, out _), Bound);

    // Finding: PipeWriter.Complete(exception) is an abort, but the writer pump waits for
    // writability with no way to be woken, so against a peer that stopped reading the fd is never
    // released and CompleteAsync(exception) never returns.
    [Fact]
    public async Task PipeWriter_CompleteWithError_MustNotWaitForAStalledPeer()
    {
        (int read, int write) = TestLibC.Pipe();
        _fds.Add(read);
        PipeWriter writer = AsyncFdPipe.CreateWriter(Wrap(write, AsyncFdInterest.Writable, owns: true),
            new PipeOptions(pauseWriterThreshold: 0));
        // More than the pipe's 64 KiB: the pump is left waiting for writability.
        writer.Write(new byte[256 * 1024].AsSpan());
        await writer.FlushAsync();
        await Task.Delay(200);

        Task complete = writer.CompleteAsync(new InvalidOperationException("abort")).AsTask();
        Task first = await Task.WhenAny(complete, Task.Delay(TimeSpan.FromSeconds(3)));
        Assert.True(first == complete, "CompleteAsync(exception) still waits for a peer that never reads");
        Assert.False(IsOpen(write), "the fd was not released");
    }

    // Finding: nothing ever releases an undisposed AsyncFd: the engine's slot roots it and the
    // set's reference keeps its SafeHandle from being finalized, so a dropped TimerFdPeriodicTimer
    // (System.Threading.PeriodicTimer has a finalizer) keeps its timerfd and its ticks forever.
    [Fact]
    public void DroppedTimer_IsNeverReclaimed()
    {
        int fd = MakeAndDropTimer();
        for (int i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        Assert.False(IsOpen(fd), $"timerfd {fd} of an unreachable timer is still open");
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static int MakeAndDropTimer()
    {
        var timer = new TimerFdPeriodicTimer(TimeSpan.FromMilliseconds(1));
        return timer.AsyncFd.Fd;
    }
}
