using System;
using System.Buffers;
using System.IO.Pipelines;
using System.Threading;
using System.Threading.Tasks;
using EpollGen.Runtime.Tests.Native;
using EpollGen.Taps;
using Microsoft.Win32.SafeHandles;
using Xunit;

namespace EpollGen.Runtime.Tests.AsyncFds.Adapters;

/// <summary>AsyncFdPipe's readers and writers on real pipes and sockets, on each tap backend's engines.</summary>
public abstract class AsyncFdPipeTests(TapBackendKind backend) : AdapterTests(backend)
{
    [Fact]
    public async Task Reader_DeliversEveryByte_ThenCompletesAtEndOfFile()
    {
        (int read, int write) = TestLibC.Pipe();
        Track(read);
        PipeReader reader = AsyncFdPipe.CreateReader(Wrap(read, AsyncFdInterest.Readable));
        byte[] sent = new byte[200 * 1024];
        new Random(21).NextBytes(sent);

        Task writing = Task.Run(() => WriteAllThenClose(write, sent));
        byte[] received = await ReadToEnd(reader);
        await writing.WaitAsync(Bound);

        Assert.Equal(sent, received);
        await reader.CompleteAsync();
    }

    [Fact]
    public async Task Reader_SurfacesAReadError_AsTheFdException()
    {
        (int a, int b) = TestLibC.SocketPair();
        Track(a);
        // Unread bytes in b's queue when b closes: a's next read is ECONNRESET.
        TestLibC.WriteByte(a);
        PipeReader reader = AsyncFdPipe.CreateReader(Wrap(a, AsyncFdInterest.Readable));

        TestLibC.close(b);

        FdException error = await Assert.ThrowsAsync<FdException>(async () => await ReadToEnd(reader));
        Assert.Equal(ECONNRESET, error.Errno);
        Assert.Equal(a, error.Fd);
        await reader.CompleteAsync();
    }

    [Fact]
    public async Task CancelPendingRead_EndsAWaitingRead_AsCanceled_AndReadingGoesOn()
    {
        (int read, int write) = TrackedPipe();
        PipeReader reader = AsyncFdPipe.CreateReader(Wrap(read, AsyncFdInterest.Readable));

        ValueTask<ReadResult> pending = reader.ReadAsync();
        Assert.False(pending.IsCompleted);
        reader.CancelPendingRead();
        ReadResult canceled = await pending.AsTask().WaitAsync(Bound);

        Assert.True(canceled.IsCanceled);
        reader.AdvanceTo(canceled.Buffer.Start);
        TestLibC.WriteByte(write);
        ReadResult result = await reader.ReadAsync().AsTask().WaitAsync(Bound);
        Assert.Equal(new byte[] { 42 }, result.Buffer.ToArray());
        reader.AdvanceTo(result.Buffer.End);
        await reader.CompleteAsync();
    }

    [Fact]
    public async Task CompletingTheReader_StopsAWaitingPump_AndDisposesTheFd_UnlessLeftOpen()
    {
        (int read, _) = TrackedPipe();
        (int keptRead, int keptWrite) = TrackedPipe();
        AsyncFd owned = Wrap(read, AsyncFdInterest.Readable);
        using AsyncFd kept = Wrap(keptRead, AsyncFdInterest.Readable);
        PipeReader ownedReader = AsyncFdPipe.CreateReader(owned);
        PipeReader keptReader = AsyncFdPipe.CreateReader(kept, leaveOpen: true);

        // Nothing was written: both pumps wait for the fd, not for the pipe.
        await ownedReader.CompleteAsync();
        await keptReader.CompleteAsync();

        await WaitUntil(() => owned.Handle.IsClosed);
        Assert.Throws<ObjectDisposedException>(() => owned.ReadableAsync());
        Assert.False(kept.Handle.IsClosed);
        TestLibC.WriteByte(keptWrite);
        Assert.True(kept.TryRead(new byte[4], out int bytesRead));
        Assert.Equal(1, bytesRead);
    }

    [Fact]
    public async Task Writer_WritesEveryByte_AndCompleteAsync_ReturnsWhenTheyAreWritten()
    {
        (int read, int write) = TestLibC.Pipe();
        Track(read);
        var writeHandle = new SafeFileHandle(write, ownsHandle: true);
        PipeWriter writer = AsyncFdPipe.CreateWriter(new AsyncFd(writeHandle, AsyncFdInterest.Writable, ownsHandle: true, Engine(write)));
        using var readerFd = Wrap(read, AsyncFdInterest.Readable);
        byte[] sent = new byte[300 * 1024];
        new Random(22).NextBytes(sent);

        Task<byte[]> reading = Task.Run(() => ReadToEndRaw(readerFd, sent.Length));
        for (int offset = 0; offset < sent.Length; offset += 10_000)
        {
            int length = Math.Min(10_000, sent.Length - offset);
            sent.AsSpan(offset, length).CopyTo(writer.GetSpan(length));
            writer.Advance(length);
            FlushResult flushed = await writer.FlushAsync().AsTask().WaitAsync(Bound);
            Assert.False(flushed.IsCanceled);
        }
        await writer.CompleteAsync().AsTask().WaitAsync(Bound);

        // Completed: the pump wrote everything and closed the fd, so the reader meets end of file.
        Assert.True(writeHandle.IsClosed);
        Assert.Equal(sent, await reading.WaitAsync(Bound));
    }

    [Fact]
    public async Task Writer_SurfacesAWriteError_AsTheFdException()
    {
        (int read, int write) = TestLibC.Pipe();
        Track(write);
        PipeWriter writer = AsyncFdPipe.CreateWriter(Wrap(write, AsyncFdInterest.Writable));
        TestLibC.close(read);

        // The first flush may return before the pump's write fails; a later one throws its error.
        FdException error = await Assert.ThrowsAsync<FdException>(async () =>
        {
            var deadline = DateTime.UtcNow + Bound;
            while (DateTime.UtcNow < deadline)
            {
                writer.GetSpan(1)[0] = 1;
                writer.Advance(1);
                await writer.FlushAsync();
                await Task.Delay(1);
            }
        });

        Assert.Equal(EPIPE, error.Errno);
        await writer.CompleteAsync();
    }

    [Fact]
    public async Task CancelPendingFlush_EndsAFlushHeldByBackPressure_AsCanceled()
    {
        (int read, int write) = TrackedPipe();
        var options = new PipeOptions(pauseWriterThreshold: 1024, resumeWriterThreshold: 512, useSynchronizationContext: false);
        PipeWriter writer = AsyncFdPipe.CreateWriter(Wrap(write, AsyncFdInterest.Writable), options);

        // The fd is full and no one reads it: the pump holds the first bytes it takes, so the
        // pipe stays above the pause threshold and the flush waits.
        FillUntilEagain(write);
        writer.GetSpan(4096);
        writer.Advance(4096);
        ValueTask<FlushResult> flush = writer.FlushAsync();
        Assert.False(flush.IsCompleted);

        writer.CancelPendingFlush();

        Assert.True((await flush.AsTask().WaitAsync(Bound)).IsCanceled);
        // Drained, the fd lets the pump write the rest and stop, releasing the fd before it closes.
        Task completing = writer.CompleteAsync().AsTask();
        await DrainUntil(read, completing);
    }

    [Fact]
    public async Task Writer_CompleteWithAnError_AbortsAPumpWaitingForAStalledPeer_AndReleasesTheFd()
    {
        (AsyncFd fd, PipeWriter writer) = await StalledWriter();

        await writer.CompleteAsync(new InvalidOperationException("abort")).AsTask().WaitAsync(Bound);

        Assert.True(fd.Handle.IsClosed, "the fd was not released");
    }

    [Fact]
    public async Task Writer_CompleteWithAnError_AfterAGracefulComplete_AbortsTheDrain()
    {
        (AsyncFd fd, PipeWriter writer) = await StalledWriter();

        // A graceful completion drains in the background, for as long as the peer takes: here forever.
        writer.Complete();
        Assert.False(fd.Handle.IsClosed);

        // Giving up on it later, as a caller with a deadline does, stops the drain.
        await writer.CompleteAsync(new TimeoutException("the peer stopped reading")).AsTask().WaitAsync(Bound);

        Assert.True(fd.Handle.IsClosed, "the fd was not released");
    }

    // A writer whose pump waits for writability that never comes: four times a pipe's 64 KiB, and
    // no one reads. No pause threshold, so the flush returns at once and the pump alone holds the bytes.
    private async Task<(AsyncFd Fd, PipeWriter Writer)> StalledWriter()
    {
        (_, int write) = TrackedPipe();
        AsyncFd fd = Wrap(write, AsyncFdInterest.Writable);
        PipeWriter writer = AsyncFdPipe.CreateWriter(fd, new PipeOptions(pauseWriterThreshold: 0, useSynchronizationContext: false));
        writer.Write(new byte[256 * 1024]);
        await writer.FlushAsync().AsTask().WaitAsync(Bound);
        await WaitUntil(() => IsFull(write));
        return (fd, writer);
    }

    private static async Task DrainUntil(int fd, Task done)
    {
        byte[] sink = new byte[64 * 1024];
        var deadline = DateTime.UtcNow + Bound;
        while (!done.IsCompleted)
        {
            Assert.True(DateTime.UtcNow < deadline, "the pump did not finish");
            if (!TestLibC.PollsReadable(fd, 10))
                continue;
            ReadSome(fd, sink);
            await Task.Yield();
        }
        await done;
    }

    // Whether poll(2) finds no room in the pipe's write end now.
    private static unsafe bool IsFull(int fd)
    {
        var poll = new EpollGen.Interop.PollFd { fd = fd, events = (short)TestLibC.POLLOUT };
        return TestLibC.poll(&poll, 1, 0) == 0;
    }

    private static unsafe void ReadSome(int fd, byte[] sink)
    {
        fixed (byte* bytes = sink)
            TestLibC.read(fd, bytes, (nuint)sink.Length);
    }

    private static unsafe void FillUntilEagain(int fd)
    {
        byte* chunk = stackalloc byte[4096];
        while (TestLibC.write(fd, chunk, 4096) > 0)
        {
        }
        Assert.Equal(EAGAIN, System.Runtime.InteropServices.Marshal.GetLastPInvokeError());
    }

    private static async Task<byte[]> ReadToEnd(PipeReader reader)
    {
        var received = new ArrayBufferWriter<byte>();
        while (true)
        {
            ReadResult result = await reader.ReadAsync().AsTask().WaitAsync(Bound);
            foreach (ReadOnlyMemory<byte> segment in result.Buffer)
                received.Write(segment.Span);
            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
                return received.WrittenSpan.ToArray();
        }
    }

    private static async Task<byte[]> ReadToEndRaw(AsyncFd fd, int capacity)
    {
        byte[] received = new byte[capacity + 1];
        int total = 0;
        while (true)
        {
            int read = await fd.ReadAsync(received.AsMemory(total)).AsTask().WaitAsync(Bound);
            if (read == 0)
                return received.AsSpan(0, total).ToArray();
            total += read;
        }
    }

    private static unsafe void WriteAllThenClose(int fd, byte[] bytes)
    {
        fixed (byte* start = bytes)
        {
            int written = 0;
            while (written < bytes.Length)
            {
                nint result = TestLibC.write(fd, start + written, (nuint)(bytes.Length - written));
                if (result > 0)
                    written += (int)result;
                else
                    Assert.True(PollsWritable(fd), "the pipe stayed full");
            }
        }
        TestLibC.close(fd);
    }
}

public sealed class AsyncFdPipeTests_Epoll() : AsyncFdPipeTests(TapBackendKind.Epoll);

public sealed class AsyncFdPipeTests_IoUring() : AsyncFdPipeTests(TapBackendKind.IoUring);

/// <summary>The reader's steady state: a read that waits for the fd allocates nothing.</summary>
[Collection(AllocationCollection.Name)]
public abstract class AsyncFdPipeAllocationTests(TapBackendKind backend) : AdapterTests(backend)
{
    private const int RoundCount = 5000;

    [OptimizedRuntimeFact]
    public async Task ReaderRounds_ThatWaitForTheFd_AllocateNothing()
    {
        (int read, int write) = TrackedPipe();
        PipeReader reader = AsyncFdPipe.CreateReader(Wrap(read, AsyncFdInterest.Readable), new PipeOptions(useSynchronizationContext: false));

        // Off the test framework's synchronization context, whose posts would allocate.
        long fewest = await Task.Run(() => OptimizedRuntimeFactAttribute.FewestBytes(() => Rounds(reader, write, RoundCount))).WaitAsync(Bound * 3);

        Assert.InRange(fewest, 0, RoundCount * OptimizedRuntimeFactAttribute.BytesPerRound - 1);
        await reader.CompleteAsync();
    }

    // One byte in, one read out: each read waits for the pump, which waits for the fd's edge.
    private static async Task Rounds(PipeReader reader, int write, int count)
    {
        for (int i = 0; i < count; i++)
        {
            // Not TestLibC.WriteByte: its assertion allocates a comparer per call.
            if (!WriteOneByte(write))
                throw new InvalidOperationException("write to the pipe failed");
            ReadResult result = await reader.ReadAsync().ConfigureAwait(false);
            reader.AdvanceTo(result.Buffer.End);
        }
    }
}

[Collection(AllocationCollection.Name)]
public sealed class AsyncFdPipeAllocationTests_Epoll() : AsyncFdPipeAllocationTests(TapBackendKind.Epoll);

[Collection(AllocationCollection.Name)]
public sealed class AsyncFdPipeAllocationTests_IoUring() : AsyncFdPipeAllocationTests(TapBackendKind.IoUring);
