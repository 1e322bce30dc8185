using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using EpollGen.Runtime.Tests.Native;
using EpollGen.Runtime.Tests.Taps;
using EpollGen.Taps;
using Microsoft.Win32.SafeHandles;
using Xunit;

namespace EpollGen.Runtime.Tests.AsyncFds.Adapters;

/// <summary>AsyncFdStream on real pipes and sockets, on each tap backend's engines.</summary>
public abstract class AsyncFdStreamTests(TapBackendKind backend) : AdapterTests(backend)
{
    internal AsyncFdStream Open(int fd, FileAccess access) =>
        new(new SafeFileHandle(fd, ownsHandle: false), access, ownsHandle: true, Engine(fd));

    [Fact]
    public async Task ReadAsync_AndWriteAsync_MoveEveryByte_ThroughAFullPipe()
    {
        (int read, int write) = TrackedPipe();
        using AsyncFdStream reader = Open(read, FileAccess.Read);
        using AsyncFdStream writer = Open(write, FileAccess.Write);
        // Four times a pipe's 64 KiB: the writer meets EAGAIN and waits for the reader.
        byte[] sent = new byte[256 * 1024];
        new Random(11).NextBytes(sent);

        Task writing = Task.Run(async () => await writer.WriteAsync(sent.AsMemory()));
        byte[] received = new byte[sent.Length];
        int total = 0;
        while (total < received.Length)
            total += await reader.ReadAsync(received.AsMemory(total)).AsTask().WaitAsync(Bound);
        await writing.WaitAsync(Bound);

        Assert.Equal(sent, received);
    }

    [Fact]
    public async Task SyncWrite_BlocksOnAFullPipe_UntilTheReaderDrainsIt()
    {
        (int read, int write) = TrackedPipe();
        using AsyncFdStream reader = Open(read, FileAccess.Read);
        using AsyncFdStream writer = Open(write, FileAccess.Write);
        byte[] sent = new byte[256 * 1024];
        new Random(12).NextBytes(sent);
        int writerTid = 0;

        var writing = new Thread(() =>
        {
            Volatile.Write(ref writerTid, TestLibC.gettid());
            writer.Write(sent, 0, sent.Length);
        }) { IsBackground = true };
        writing.Start();
        // Blocked in poll(2) on the full pipe before anything is read.
        KernelWaits.UntilBlocked(ref writerTid, Bound);
        byte[] received = new byte[sent.Length];
        int total = 0;
        while (total < received.Length)
            total += await reader.ReadAsync(received.AsMemory(total)).AsTask().WaitAsync(Bound);

        Assert.True(writing.Join(Bound), "the blocking write did not return");
        Assert.Equal(sent, received);
    }

    [Fact]
    public void SyncRead_BlocksInTheKernel_UntilDataComes()
    {
        (int read, int write) = TrackedPipe();
        using AsyncFdStream reader = Open(read, FileAccess.Read);
        int readerTid = 0, bytesRead = -1;
        byte[] buffer = new byte[8];

        var reading = new Thread(() =>
        {
            Volatile.Write(ref readerTid, TestLibC.gettid());
            bytesRead = reader.Read(buffer, 0, buffer.Length);
        }) { IsBackground = true };
        reading.Start();
        KernelWaits.UntilBlocked(ref readerTid, Bound);
        TestLibC.WriteByte(write);

        Assert.True(reading.Join(Bound), "the blocking read did not return");
        Assert.Equal(1, bytesRead);
        Assert.Equal(42, buffer[0]);
    }

    [Fact]
    public void Dispose_EndsASyncReadBlockedInTheKernel_WithObjectDisposedException()
    {
        (int read, _) = TrackedPipe();
        AsyncFdStream reader = Open(read, FileAccess.Read);

        Exception? thrown = DisposeWhileBlocked(reader, stream => stream.ReadAtLeast(new byte[8], 1));

        Assert.IsType<ObjectDisposedException>(thrown);
        Assert.True(reader.AsyncFd.Handle.IsClosed, "the fd was not released once the read let go of it");
    }

    [Fact]
    public void Dispose_EndsASyncWriteBlockedOnAFullPipe_EvenWhenTheStreamDoesNotOwnItsAsyncFd()
    {
        (_, int write) = TrackedPipe();
        using AsyncFd fd = new(new SafeFileHandle(write, ownsHandle: false), AsyncFdInterest.Writable, ownsHandle: true, Engine(write));
        var writer = new AsyncFdStream(fd, ownsFd: false);

        Exception? thrown = DisposeWhileBlocked(writer, stream => stream.Write(new byte[256 * 1024], 0, 256 * 1024));

        Assert.IsType<ObjectDisposedException>(thrown);
        // Not the stream's to release: the AsyncFd and its fd stay usable.
        Assert.False(fd.Handle.IsClosed);
        Assert.Throws<ObjectDisposedException>(() => writer.Write([1], 0, 1));
    }

    // Makes the call on a thread of its own, disposes the stream once that thread sleeps in the
    // kernel, and returns what the call threw; fails if it does not return within the bound.
    private static Exception? DisposeWhileBlocked(AsyncFdStream stream, Action<AsyncFdStream> call)
    {
        int tid = 0;
        Exception? thrown = null;
        var calling = new Thread(() =>
        {
            Volatile.Write(ref tid, TestLibC.gettid());
            thrown = Record.Exception(() => call(stream));
        }) { IsBackground = true };
        calling.Start();
        KernelWaits.UntilBlocked(ref tid, Bound);
        stream.Dispose();
        Assert.True(calling.Join(Bound), "the blocked call was not woken by Dispose");
        return thrown;
    }

    [Fact]
    public async Task Reads_ReturnZero_AtEndOfFile()
    {
        (int read, int write) = TestLibC.Pipe();
        Track(read);
        using AsyncFdStream reader = Open(read, FileAccess.Read);
        ValueTask<int> reading = reader.ReadAsync(new byte[8].AsMemory());

        TestLibC.close(write);

        Assert.Equal(0, await reading.AsTask().WaitAsync(Bound));
        Assert.Equal(0, reader.Read(new byte[8], 0, 8));
        Assert.Equal(-1, reader.ReadByte());
    }

    [Fact]
    public async Task ZeroByteReadAsync_WaitsForData_AndTakesNone()
    {
        (int read, int write) = TrackedPipe();
        using AsyncFdStream reader = Open(read, FileAccess.Read);
        byte[] one = new byte[1];
        TestLibC.WriteByte(write);
        TestLibC.WriteByte(write);
        // Two one-byte reads empty the pipe without meeting EAGAIN: the AsyncFd still holds the
        // readiness the bytes brought, though nothing is left to read.
        Assert.Equal(1, await reader.ReadAsync(one.AsMemory()).AsTask().WaitAsync(Bound));
        Assert.Equal(1, await reader.ReadAsync(one.AsMemory()).AsTask().WaitAsync(Bound));

        ValueTask<int> waiting = reader.ReadAsync(Memory<byte>.Empty);
        Assert.False(waiting.IsCompleted, "a zero-byte read of an empty pipe returned at once");
        TestLibC.WriteByte(write);
        Assert.Equal(0, await waiting.AsTask().WaitAsync(Bound));

        // The byte is still there: a zero-byte read completes at once, and a real read takes it.
        ValueTask<int> atOnce = reader.ReadAsync(Memory<byte>.Empty);
        Assert.True(atOnce.IsCompletedSuccessfully);
        Assert.Equal(0, await atOnce);
        Assert.Equal(1, await reader.ReadAsync(one.AsMemory()).AsTask().WaitAsync(Bound));
    }

    [Fact]
    public async Task ZeroByteReadAsync_EndsAtEndOfFile()
    {
        (int read, int write) = TestLibC.Pipe();
        Track(read);
        using AsyncFdStream reader = Open(read, FileAccess.Read);
        ValueTask<int> waiting = reader.ReadAsync(Memory<byte>.Empty);
        Assert.False(waiting.IsCompleted);

        TestLibC.close(write);

        Assert.Equal(0, await waiting.AsTask().WaitAsync(Bound));
        Assert.Equal(0, await reader.ReadAsync(new byte[8].AsMemory()).AsTask().WaitAsync(Bound));
    }

    [Fact]
    public async Task WriteToAClosedPipe_IsFdException_WithEpipe()
    {
        (int read, int write) = TestLibC.Pipe();
        Track(write);
        using AsyncFdStream writer = Open(write, FileAccess.Write);
        TestLibC.close(read);

        FdException async = await Assert.ThrowsAsync<FdException>(async () => await writer.WriteAsync(new byte[] { 1 }.AsMemory()));
        FdException sync = Assert.Throws<FdException>(() => writer.WriteByte(1));

        Assert.Equal(EPIPE, async.Errno);
        Assert.Equal(EPIPE, sync.Errno);
        Assert.Equal(write, sync.Fd);
    }

    [Fact]
    public async Task Cancellation_EndsAPendingRead_AndTheNextReadWorks()
    {
        (int read, int write) = TrackedPipe();
        using AsyncFdStream reader = Open(read, FileAccess.Read);
        using var cancellation = new CancellationTokenSource();
        byte[] buffer = new byte[4];

        ValueTask<int> pending = reader.ReadAsync(buffer.AsMemory(), cancellation.Token);
        Assert.False(pending.IsCompleted);
        cancellation.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await pending.AsTask().WaitAsync(Bound));
        ValueTask<int> next = reader.ReadAsync(buffer.AsMemory());
        TestLibC.WriteByte(write);
        Assert.Equal(1, await next.AsTask().WaitAsync(Bound));
    }

    [Fact]
    public void Shape_IsAnUnseekableStream_ThatReadsOrWritesAsAsked()
    {
        (int read, int write) = TrackedPipe();
        using AsyncFdStream reader = Open(read, FileAccess.Read);

        Assert.True(reader.CanRead);
        Assert.False(reader.CanWrite);
        Assert.False(reader.CanSeek);
        Assert.Throws<NotSupportedException>(() => reader.Length);
        Assert.Throws<NotSupportedException>(() => reader.Position);
        Assert.Throws<NotSupportedException>(() => reader.Seek(0, SeekOrigin.Begin));
        Assert.Throws<NotSupportedException>(() => reader.SetLength(0));
        Assert.Throws<NotSupportedException>(() => reader.Write([1]));
        reader.Flush();
        Assert.True(reader.FlushAsync().IsCompletedSuccessfully);
    }

    [Fact]
    public async Task Dispose_OfAStreamOverAHandle_ItOwns_ClosesTheFd_AndEndsAPendingRead()
    {
        (int read, int write) = TestLibC.Pipe();
        Track(write);
        var handle = new SafeFileHandle(read, ownsHandle: true);
        var stream = new AsyncFdStream(handle, FileAccess.Read, ownsHandle: true, Engine(read));
        ValueTask<int> pending = stream.ReadAsync(new byte[4].AsMemory());

        stream.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await pending.AsTask().WaitAsync(Bound));
        // The handle, not the number: a parallel test may be handed the number at once.
        Assert.True(handle.IsClosed);
        Assert.False(stream.CanRead);
        Assert.Throws<ObjectDisposedException>(() => stream.ReadByte());
    }

    [Fact]
    public void Dispose_OfAStreamOverAnAsyncFd_ItDoesNotOwn_LeavesTheAsyncFdWorking()
    {
        (int read, int write) = TrackedPipe();
        using AsyncFd fd = Wrap(read, AsyncFdInterest.Readable);
        var stream = new AsyncFdStream(fd);

        stream.Dispose();
        TestLibC.WriteByte(write);

        Assert.True(fd.TryRead(new byte[4], out int bytesRead));
        Assert.Equal(1, bytesRead);
    }

    [Fact]
    public async Task SteadyState_ReadAsyncAndWriteAsync_ThatCompleteAtOnce_AllocateNothing()
    {
        (int read, int write) = TrackedPipe();
        using AsyncFdStream reader = Open(read, FileAccess.Read);
        using AsyncFdStream writer = Open(write, FileAccess.Write);
        Memory<byte> outgoing = new byte[64];
        Memory<byte> incoming = new byte[64];
        // Awaited at first: a new AsyncFd knows nothing ready until the engine reports it.
        for (int i = 0; i < 100; i++)
        {
            await writer.WriteAsync(outgoing).AsTask().WaitAsync(Bound);
            Assert.Equal(outgoing.Length, await reader.ReadAsync(incoming).AsTask().WaitAsync(Bound));
        }

        // Then each write fits the pipe and each read finds the write's bytes, so no call meets
        // EAGAIN, readiness stays known, and every call completes synchronously on this thread,
        // whose allocations are counted.
        int failed = 0;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
            failed += RoundTrip(reader, writer, outgoing, incoming) ? 0 : 1;
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, failed);
        Assert.Equal(0, allocated);
    }

    // No asserts inside the measured loop: a failing one would allocate its message.
    private static bool RoundTrip(AsyncFdStream reader, AsyncFdStream writer, Memory<byte> outgoing, Memory<byte> incoming)
    {
        ValueTask writing = writer.WriteAsync(outgoing);
        if (!writing.IsCompletedSuccessfully)
            return false;
        writing.GetAwaiter().GetResult();
        ValueTask<int> reading = reader.ReadAsync(incoming);
        return reading.IsCompletedSuccessfully && reading.Result == outgoing.Length;
    }
}

public sealed class AsyncFdStreamTests_Epoll() : AsyncFdStreamTests(TapBackendKind.Epoll);

public sealed class AsyncFdStreamTests_IoUring() : AsyncFdStreamTests(TapBackendKind.IoUring);
