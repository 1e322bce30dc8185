using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using EpollGen.Interop;
using EpollGen.Runtime.Tests.Native;
using EpollGen.Runtime.Tests.Taps;
using EpollGen.Taps;
using Microsoft.Win32.SafeHandles;
using Xunit;

namespace EpollGen.Runtime.Tests.AsyncFds;

/// <summary>AsyncFd on real fds, on each tap backend's engines.</summary>
public abstract class AsyncFdTests(TapBackendKind backend) : BackendTests(backend), IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private readonly List<int> _fds = [];

    public void Dispose()
    {
        foreach (int fd in _fds)
            TestLibC.close(fd);
    }

    private int Track(int fd)
    {
        _fds.Add(fd);
        return fd;
    }

    /// <summary>An AsyncFd on this variant's engines, checked to be on its backend.</summary>
    private AsyncFd Wrap(int fd, AsyncFdInterest interest = AsyncFdInterest.ReadWrite)
    {
        AsyncFdEngine engine = AsyncFdEngine.For(Backend, fd);
        Assert.Equal(Backend, engine.TapBackend);
        return new AsyncFd(new SafeFileHandle(fd, ownsHandle: false), interest, ownsHandle: true, engine);
    }

    [Fact]
    public async Task ReadableAsync_WaitsForData_ThenReadsIt()
    {
        (int read, int write) = TestLibC.Pipe();
        Track(read);
        Track(write);
        using AsyncFd reader = Wrap(read, AsyncFdInterest.Readable);
        byte[] buffer = new byte[16];

        ValueTask<AsyncFdReadyGuard> wait = reader.ReadableAsync();
        Assert.False(wait.IsCompleted);
        TestLibC.WriteByte(write);
        AsyncFdReadyGuard guard = await wait.AsTask().WaitAsync(Bound);

        Assert.True((guard.Ready & EpollEvents.EPOLLIN) != 0);
        Assert.True(reader.TryRead(buffer, out int bytes));
        Assert.Equal(1, bytes);
        Assert.Equal(42, buffer[0]);
    }

    [Fact]
    public async Task FdReadyWhenWrapped_CompletesItsFirstAwait_WithoutANewEdge()
    {
        (int read, int write) = TestLibC.Pipe();
        Track(read);
        Track(write);
        TestLibC.WriteByte(write);
        using AsyncFd reader = Wrap(read, AsyncFdInterest.Readable);
        using AsyncFd writer = Wrap(write, AsyncFdInterest.Writable);

        Assert.True((await reader.ReadableAsync().AsTask().WaitAsync(Bound)).Ready.HasFlag(EpollEvents.EPOLLIN));
        Assert.True((await writer.WritableAsync().AsTask().WaitAsync(Bound)).Ready.HasFlag(EpollEvents.EPOLLOUT));
    }

    [Fact]
    public async Task ReadAsync_AndWriteAsync_MoveEveryByte_ThroughAFullPipe()
    {
        (int read, int write) = TestLibC.Pipe();
        Track(read);
        Track(write);
        using AsyncFd reader = Wrap(read, AsyncFdInterest.Readable);
        using AsyncFd writer = Wrap(write, AsyncFdInterest.Writable);
        // Four times a pipe's 64 KiB: the writer meets EAGAIN and waits for the reader.
        byte[] sent = new byte[256 * 1024];
        new Random(7).NextBytes(sent);

        Task writing = Task.Run(async () => await writer.WriteAsync(sent));
        byte[] received = new byte[sent.Length];
        int total = 0;
        while (total < received.Length)
            total += await reader.ReadAsync(received.AsMemory(total)).AsTask().WaitAsync(Bound);
        await writing.WaitAsync(Bound);

        Assert.Equal(sent, received);
    }

    [Fact]
    public async Task ReadAsync_ReturnsZero_AtEndOfFile()
    {
        (int read, int write) = TestLibC.Pipe();
        Track(read);
        using AsyncFd reader = Wrap(read, AsyncFdInterest.Readable);
        ValueTask<int> reading = reader.ReadAsync(new byte[8]);

        TestLibC.close(write);

        Assert.Equal(0, await reading.AsTask().WaitAsync(Bound));
    }

    [Fact]
    public async Task ClearReady_KeepsAnEdgeThatCameAfterTheGuard()
    {
        int fd = Track(TestLibC.EventFd());
        using AsyncFd events = Wrap(fd, AsyncFdInterest.Readable);
        events.ClearReady(AsyncFdInterest.Readable);
        TestLibC.Signal(fd);
        AsyncFdReadyGuard guard = await events.ReadableAsync().AsTask().WaitAsync(Bound);
        TestLibC.Drain(fd);

        // A new edge after the guard was taken: the guard's clear must not drop it.
        TestLibC.Signal(fd);
        await WaitUntil(() => events.ReadyIn(AsyncFdInterest.Readable, out AsyncFdReadyGuard now) && now.Tick != guard.Tick);
        guard.ClearReady();

        Assert.True(events.ReadableAsync().IsCompletedSuccessfully);
    }

    [Fact]
    public async Task ClearReady_WithNoNewEdge_MakesTheNextAwaitWait()
    {
        int fd = Track(TestLibC.EventFd());
        using AsyncFd events = Wrap(fd, AsyncFdInterest.Readable);
        events.ClearReady(AsyncFdInterest.Readable);
        TestLibC.Signal(fd);
        AsyncFdReadyGuard guard = await events.ReadableAsync().AsTask().WaitAsync(Bound);
        TestLibC.Drain(fd);

        guard.ClearReady();
        ValueTask<AsyncFdReadyGuard> next = events.ReadableAsync();

        Assert.False(next.IsCompleted);
        TestLibC.Signal(fd);
        Assert.True((await next.AsTask().WaitAsync(Bound)).Ready.HasFlag(EpollEvents.EPOLLIN));
    }

    [Fact]
    public async Task TryIo_PassesResultsThrough_AndClearsReadiness_OnEagain()
    {
        int fd = Track(TestLibC.EventFd());
        using AsyncFd events = Wrap(fd, AsyncFdInterest.Readable);
        events.ClearReady(AsyncFdInterest.Readable);
        TestLibC.Signal(fd, 3);
        AsyncFdReadyGuard guard = await events.ReadableAsync().AsTask().WaitAsync(Bound);

        Assert.True(guard.TryIo(static (fd, _) => ReadCounter(fd), 0, out long value));
        Assert.Equal(3, value);
        Assert.False(guard.TryIo(static (fd, _) => ReadCounter(fd), 0, out long eagain));

        Assert.Equal(-EAGAIN, eagain);
        Assert.False(events.ReadableAsync().IsCompleted);
    }

    [Fact]
    public async Task Cancellation_EndsTheAwait_AndTheNextAwaitWorks()
    {
        (int read, int write) = TestLibC.Pipe();
        Track(read);
        Track(write);
        using AsyncFd reader = Wrap(read, AsyncFdInterest.Readable);
        reader.ClearReady(AsyncFdInterest.Readable);
        using var cancellation = new CancellationTokenSource();

        ValueTask<AsyncFdReadyGuard> wait = reader.ReadableAsync(cancellation.Token);
        cancellation.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await wait.AsTask().WaitAsync(Bound));
        ValueTask<AsyncFdReadyGuard> next = reader.ReadableAsync();
        TestLibC.WriteByte(write);
        Assert.True((await next.AsTask().WaitAsync(Bound)).Ready.HasFlag(EpollEvents.EPOLLIN));
    }

    [Fact]
    public async Task Dispose_EndsAwaitsInFlight_WithObjectDisposedException()
    {
        (int a, int b) = TestLibC.SocketPair();
        Track(a);
        Track(b);
        AsyncFd fd = Wrap(a);
        fd.ClearReady(AsyncFdInterest.Readable);
        ValueTask<AsyncFdReadyGuard> reading = fd.ReadableAsync();

        fd.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await reading.AsTask().WaitAsync(Bound));
        Assert.Throws<ObjectDisposedException>(() => fd.ReadableAsync());
    }

    [Fact]
    public void SecondAwait_InOneDirection_IsRefused()
    {
        (int read, int write) = TestLibC.Pipe();
        Track(read);
        Track(write);
        using AsyncFd reader = Wrap(read, AsyncFdInterest.Readable);
        reader.ClearReady(AsyncFdInterest.Readable);

        _ = reader.ReadableAsync();

        Assert.Throws<InvalidOperationException>(() => reader.ReadableAsync());
    }

    [Fact]
    public void BlockingFd_IsRefused_AndLeftAsItWas()
    {
        (int read, int write) = TestLibC.Pipe();
        Track(read);
        Track(write);
        int flags = TestLibC.fcntl(read, F_GETFL, 0);
        TestLibC.fcntl(read, F_SETFL, flags & ~O_NONBLOCK);

        ArgumentException refused = Assert.Throws<ArgumentException>(() => Wrap(read));

        Assert.Contains("O_NONBLOCK", refused.Message);
        Assert.Equal(flags & ~O_NONBLOCK, TestLibC.fcntl(read, F_GETFL, 0));
        using AsyncFd again = Wrap(write);
    }

    [Fact]
    public void ClosedFd_IsRefused_WithEbadf()
    {
        (int read, int write) = TestLibC.Pipe();
        Track(write);
        TestLibC.close(read);

        FdException refused = Assert.Throws<FdException>(() => AsyncFd.FromRawFd(read));

        Assert.Equal(EBADF, refused.Errno);
        var closed = new SafeFileHandle(write, ownsHandle: false);
        closed.Dispose();
        Assert.Throws<ObjectDisposedException>(() => new AsyncFd(closed));
    }

    [Fact]
    public void RegularFile_IsRefused_WithTheKernelsEperm()
    {
        string path = Path.GetTempFileName();
        try
        {
            int file = Track(TestLibC.open(path, O_RDONLY | O_NONBLOCK));
            int kernel = Track(TestLibC.epoll_create1(0));
            int kernelErrno = KernelAddErrno(kernel, file);

            EpollException refused = Assert.Throws<EpollException>(() => Wrap(file));

            Assert.Equal(EPERM, kernelErrno);
            Assert.Equal(kernelErrno, refused.Errno);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void SecondAsyncFd_ForOneFd_IsEexist_ButADupWorks()
    {
        int fd = Track(TestLibC.EventFd());
        using AsyncFd first = Wrap(fd);
        int kernel = Track(TestLibC.epoll_create1(0));
        Assert.Equal(0, KernelAddErrno(kernel, fd));

        EpollException refused = Assert.Throws<EpollException>(() => Wrap(fd));

        Assert.Equal(EEXIST, refused.Errno);
        Assert.Equal(EEXIST, KernelAddErrno(kernel, fd));
        int dup = Track(TestLibC.fcntl(fd, F_DUPFD_CLOEXEC, 0));
        using AsyncFd second = Wrap(dup);
    }

    [Fact]
    public async Task EveryEdge_ReachesItsAwait_UnderManyFds()
    {
        const int Count = 200;
        var pairs = new (int Read, int Write, AsyncFd Fd)[Count];
        for (int i = 0; i < Count; i++)
        {
            (int read, int write) = TestLibC.Pipe();
            Track(read);
            Track(write);
            pairs[i] = (read, write, Wrap(read, AsyncFdInterest.Readable));
        }
        try
        {
            var reads = new Task<int>[Count];
            for (int i = 0; i < Count; i++)
                reads[i] = pairs[i].Fd.ReadAsync(new byte[4]).AsTask();
            for (int i = 0; i < Count; i++)
                TestLibC.WriteByte(pairs[i].Write);

            int[] bytes = await Task.WhenAll(reads).WaitAsync(Bound);

            Assert.All(bytes, n => Assert.Equal(1, n));
        }
        finally
        {
            foreach ((_, _, AsyncFd fd) in pairs)
                fd.Dispose();
        }
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Bound;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not hold in time");
            await Task.Delay(1);
        }
    }

    private static unsafe long ReadCounter(int fd)
    {
        ulong value;
        nint result = TestLibC.read(fd, &value, 8);
        return result < 0 ? -System.Runtime.InteropServices.Marshal.GetLastPInvokeError() : (long)value;
    }

    private static unsafe int KernelAddErrno(int epfd, int fd)
    {
        var ev = new EpollEvent { Events = EpollEvents.EPOLLIN | EpollEvents.EPOLLET };
        return TestLibC.epoll_ctl(epfd, 1, fd, &ev) == 0 ? 0 : System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
    }

    private const int EPERM = 1;
    private const int EBADF = 9;
    private const int EAGAIN = 11;
    private const int EEXIST = 17;
    private const int F_GETFL = 3;
    private const int F_SETFL = 4;
    private const int F_DUPFD_CLOEXEC = 1030;
    private const int O_RDONLY = 0;
    private const int O_NONBLOCK = 0x800;
}

public sealed class AsyncFdTests_Epoll() : AsyncFdTests(TapBackendKind.Epoll);

public sealed class AsyncFdTests_IoUring() : AsyncFdTests(TapBackendKind.IoUring);
