using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using EpollGen.Interop;
using EpollGen.Runtime.Tests.Native;
using EpollGen.Runtime.Tests.Taps;
using EpollGen.Taps;
using Microsoft.Win32.SafeHandles;
using Xunit;

namespace EpollGen.Runtime.Tests.AsyncFds;

/// <summary>
/// AsyncFd on real fds, on each tap backend's engines. Alone: several tests check that a number
/// was closed (fcntl fails), which a test opening fds beside them could take again.
/// </summary>
[Collection(SignalCollection.Name)]
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

    // A TCP socket reports EPOLLOUT|EPOLLHUP before it connects (state CLOSE): the hang-up is a
    // state that ends with the connect, not an event that stays. Found in review: kept forever, it
    // made every later read await complete at once and ReadAsync spin on EAGAIN.
    [Fact]
    public async Task HangUpBeforeConnect_IsForgotten_OnceTheSocketConnects()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { Blocking = false };
        int fd = (int)client.SafeHandle.DangerousGetHandle();
        using var asyncFd = new AsyncFd(client.SafeHandle, AsyncFdInterest.ReadWrite, ownsHandle: false, AsyncFdEngine.For(Backend, fd));
        AsyncFdReadyGuard unconnected = await asyncFd.WritableAsync().AsTask().WaitAsync(Bound);
        int kernel = Track(TestLibC.epoll_create1(0));
        Assert.Equal(0, KernelAddErrno(kernel, fd, EpollEvents.EPOLLOUT));
        Assert.Equal(EpollEvents.EPOLLOUT | EpollEvents.EPOLLHUP, KernelReady(kernel));
        Assert.Equal(EpollEvents.EPOLLOUT | EpollEvents.EPOLLHUP, unconnected.Ready);

        try
        {
            client.Connect(listener.LocalEndPoint!);
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress)
        {
        }
        using Socket server = listener.Accept();
        // The connect's report replaces the hang-up.
        await WaitUntil(() => asyncFd.ReadyIn(AsyncFdInterest.Writable, out AsyncFdReadyGuard now) && now.Ready == EpollEvents.EPOLLOUT);

        ValueTask<AsyncFdReadyGuard> readable = asyncFd.ReadableAsync();
        Assert.False(readable.IsCompleted);
        server.Send([7]);
        Assert.Equal(EpollEvents.EPOLLIN, (await readable.AsTask().WaitAsync(Bound)).Ready);
    }

    // A peer's last data and its reset can come in one report. A read that takes the data but less
    // than it asked empties the socket, and a caller may clear after it without meeting EAGAIN (the
    // Kestrel transport does): the reset must stay known, or the next await waits for an edge that
    // never comes. Seen in CI when the clear also took the conditions.
    [Fact]
    public async Task ResetInTheSameReportAsData_OutlivesAClearAfterAShortRead()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Connect(listener.LocalEndPoint!);
        using Socket server = listener.Accept();
        server.Blocking = false;
        client.Send(new byte[16]);
        client.LingerState = new LingerOption(true, 0);
        client.Close();
        int fd = (int)server.SafeHandle.DangerousGetHandle();
        await WaitUntil(() => TestLibC.PollsReadable(fd, 0) && KernelReportsReset(fd));
        using var asyncFd = new AsyncFd(server.SafeHandle, AsyncFdInterest.Readable, ownsHandle: false, AsyncFdEngine.For(Backend, fd));

        AsyncFdReadyGuard guard = await asyncFd.ReadableAsync().AsTask().WaitAsync(Bound);
        Assert.True(guard.Ready.HasFlag(EpollEvents.EPOLLHUP | EpollEvents.EPOLLERR));
        byte[] buffer = new byte[64];
        Assert.True(asyncFd.TryRead(buffer, out int bytes));
        Assert.Equal(16, bytes);
        guard.ClearReady();

        ValueTask<AsyncFdReadyGuard> next = asyncFd.ReadableAsync();
        Assert.True(next.IsCompleted);
        FdException reset = Assert.Throws<FdException>(() => asyncFd.TryRead(buffer, out _));
        Assert.Equal(104 /* ECONNRESET */, reset.Errno);
    }

    private static unsafe bool KernelReportsReset(int fd)
    {
        int epfd = TestLibC.epoll_create1(0);
        try
        {
            var ev = new EpollEvent { Events = EpollEvents.EPOLLIN };
            TestLibC.epoll_ctl(epfd, 1, fd, &ev);
            return KernelReady(epfd).HasFlag(EpollEvents.EPOLLHUP | EpollEvents.EPOLLERR | EpollEvents.EPOLLIN);
        }
        finally
        {
            TestLibC.close(epfd);
        }
    }

    // Found in review: TryIo handed the delegate the fd without a reference on its handle, so a
    // Dispose on another thread closed the number, free for reuse, under the call.
    [Fact]
    public async Task TryIo_HoldsTheHandle_AcrossTheCall()
    {
        (int read, int write) = TestLibC.Pipe();
        Track(write);
        AsyncFd reader = new(new SafeFileHandle(read, ownsHandle: true), AsyncFdInterest.Readable, ownsHandle: true, AsyncFdEngine.For(Backend, read));
        TestLibC.WriteByte(write);
        AsyncFdReadyGuard guard = await reader.ReadableAsync().AsTask().WaitAsync(Bound);

        bool openDuringCall = false;
        guard.TryIo((fd, owner) =>
        {
            owner.Dispose();
            openDuringCall = TestLibC.fcntl(fd, F_GETFL, 0) >= 0;
            return 0;
        }, reader, out _);

        Assert.True(openDuringCall);
        Assert.True(TestLibC.fcntl(read, F_GETFL, 0) < 0);
    }

    // Found in review: the engine held every AsyncFd strongly, so one never disposed (a dropped
    // timer) kept its fd, its registration and its wake-ups forever.
    [Fact]
    public void DroppedAsyncFd_GivesItsFdBack_WhenCollected()
    {
        int fd = MakeAndDrop(Backend);

        for (int i = 0; i < 5 && TestLibC.fcntl(fd, F_GETFL, 0) >= 0; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        Assert.True(TestLibC.fcntl(fd, F_GETFL, 0) < 0, $"fd {fd} of an unreachable AsyncFd is still open");
    }

    [Fact]
    public async Task DroppedAsyncFd_WithAnAwaitInFlight_StaysAlive_AndCompletes()
    {
        (int read, int write) = TestLibC.Pipe();
        Track(write);
        Task<int> reading = ReadThroughADroppedAsyncFd(read, Backend);

        for (int i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        Assert.True(TestLibC.fcntl(read, F_GETFL, 0) >= 0);
        TestLibC.WriteByte(write);

        Assert.Equal(1, await reading.WaitAsync(Bound));
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static int MakeAndDrop(TapBackendKind backend)
    {
        int fd = TestLibC.EventFd();
        _ = new AsyncFd(new SafeFileHandle(fd, ownsHandle: true), AsyncFdInterest.Readable, ownsHandle: true, AsyncFdEngine.For(backend, fd));
        return fd;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static Task<int> ReadThroughADroppedAsyncFd(int fd, TapBackendKind backend) =>
        new AsyncFd(new SafeFileHandle(fd, ownsHandle: true), AsyncFdInterest.Readable, ownsHandle: true, AsyncFdEngine.For(backend, fd))
            .ReadAsync(new byte[8]).AsTask();

    private static unsafe EpollEvents KernelReady(int epfd)
    {
        var ev = default(EpollEvent);
        return TestLibC.epoll_wait(epfd, &ev, 1, 0) == 1 ? ev.Events : EpollEvents.None;
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

    private static unsafe int KernelAddErrno(int epfd, int fd, EpollEvents events = EpollEvents.EPOLLIN)
    {
        var ev = new EpollEvent { Events = events | EpollEvents.EPOLLET };
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
