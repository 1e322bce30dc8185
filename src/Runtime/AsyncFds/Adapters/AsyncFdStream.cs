using System;
using System.ComponentModel;
using System.IO;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using EpollGen.Interop;
using EpollGen.Native;

namespace EpollGen;

/// <summary>
/// A <see cref="Stream"/> over a nonblocking fd (a pipe, a socket, a PTY, a character device) that
/// reads and writes through an <see cref="AsyncFd"/>: asynchronous calls await the fd's readiness
/// on the AsyncFd engines, synchronous calls block in ppoll(2).
/// </summary>
/// <remarks>
/// <para>
/// <see cref="ReadAsync(Memory{byte}, CancellationToken)"/> and
/// <see cref="WriteAsync(ReadOnlyMemory{byte}, CancellationToken)"/> allocate nothing once warm; the
/// array overloads return a <see cref="Task"/> and so allocate one when they have to wait. As for any
/// stream, one read and one write may be in flight at a time, not two reads or two writes.
/// </para>
/// <para>
/// Disposing the stream disposes the AsyncFd only when the stream owns it: always when the stream
/// was made from a handle (the AsyncFd then disposes the handle if <c>ownsHandle</c> was given),
/// and when <c>ownsFd</c> was given for an AsyncFd. A synchronous call blocked in ppoll(2) when the
/// stream is disposed on another thread returns with <see cref="ObjectDisposedException"/>: the
/// first call that blocks gives the stream an eventfd of its own (close-on-exec), held until the
/// stream is disposed, which Dispose signals and the poll watches beside the fd.
/// </para>
/// </remarks>
public sealed class AsyncFdStream : Stream
{
    private readonly AsyncFd _fd;
    private readonly bool _ownsFd;
    private readonly Lock _wakeLock = new();
    // Made by the first synchronous call that blocks; signalled by Dispose, and never read, so it
    // stays readable and wakes every poll made after Dispose too.
    private OwnedFd? _wake;
    private int _disposed;

    /// <summary>A stream over <paramref name="fd"/>, readable and writable as its interest allows.</summary>
    /// <param name="fd">The AsyncFd to read and write.</param>
    /// <param name="ownsFd">Whether disposing the stream disposes <paramref name="fd"/>.</param>
    public AsyncFdStream(AsyncFd fd, bool ownsFd = false)
    {
        ArgumentNullException.ThrowIfNull(fd);
        _fd = fd;
        _ownsFd = ownsFd;
    }

    /// <summary>A stream over the nonblocking fd of <paramref name="handle"/>, through an AsyncFd of its own.</summary>
    /// <param name="handle">The fd, in nonblocking mode.</param>
    /// <param name="access">Whether the stream reads, writes or both; the AsyncFd waits for those directions only.</param>
    /// <param name="ownsHandle">Whether disposing the stream disposes <paramref name="handle"/>.</param>
    /// <exception cref="ArgumentException">The fd is in blocking mode.</exception>
    /// <exception cref="EpollException">epoll refused the fd (EPERM for a regular file).</exception>
    public AsyncFdStream(SafeHandle handle, FileAccess access = FileAccess.ReadWrite, bool ownsHandle = false)
        : this(handle, access, ownsHandle, engine: null)
    {
    }

    internal AsyncFdStream(SafeHandle handle, FileAccess access, bool ownsHandle, AsyncFdEngine? engine)
        : this(new AsyncFd(handle, InterestOf(access), ownsHandle, engine), ownsFd: true)
    {
    }

    /// <summary>The AsyncFd the stream reads and writes.</summary>
    public AsyncFd AsyncFd => _fd;

    /// <inheritdoc/>
    public override bool CanRead => !IsDisposed && (_fd.Interest & AsyncFdInterest.Readable) != 0;

    /// <inheritdoc/>
    public override bool CanWrite => !IsDisposed && (_fd.Interest & AsyncFdInterest.Writable) != 0;

    /// <summary>False: an fd stream has no position.</summary>
    public override bool CanSeek => false;

    /// <summary>Not supported: an fd stream has no length.</summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    public override long Length => throw new NotSupportedException("An fd stream has no length.");

    /// <summary>Not supported: an fd stream has no position.</summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    public override long Position
    {
        get => throw new NotSupportedException("An fd stream has no position.");
        set => throw new NotSupportedException("An fd stream has no position.");
    }

    private bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>
    /// Reads at least one byte, waiting for the fd to be readable; 0 at end of file. With an empty
    /// <paramref name="buffer"/>, waits as a read would, until data, end of file or an error is
    /// there, and returns 0 having taken nothing: as with NetworkStream, a caller can wait for data
    /// before it rents a buffer to read it into.
    /// </summary>
    /// <exception cref="FdException">read failed.</exception>
    /// <exception cref="ObjectDisposedException">The stream or its AsyncFd is disposed.</exception>
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        CheckReadable();
        if (buffer.IsEmpty)
            return WaitForDataAsync(cancellationToken);
        // The fast path is not an async method, so a read that completes at once allocates
        // nothing even where async methods are not optimized (Debug builds box their state).
        if (_fd.ReadyIn(AsyncFdInterest.Readable, out _) && _fd.TryRead(buffer.Span, out int bytesRead))
            return new ValueTask<int>(bytesRead);
        return _fd.ReadAsync(buffer, cancellationToken);
    }

    /// <inheritdoc cref="ReadAsync(Memory{byte}, CancellationToken)"/>
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    // A zero-byte read(2) returns 0 at once whatever the fd holds, and the AsyncFd's readiness can
    // be stale (only EAGAIN clears it, and a read that empties the fd need not meet one): poll(2)
    // alone says whether a read would find something.
    private ValueTask<int> WaitForDataAsync(CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
            return ValueTask.FromCanceled<int>(cancellationToken);
        // Taken before the poll, so an edge that comes after it outlives the ClearReady below.
        _fd.ReadyIn(AsyncFdInterest.Readable, out AsyncFdReadyGuard seen);
        return Poll(PollEvents.POLLIN, wait: false) ? new ValueTask<int>(0) : WaitForEdgeAsync(seen, cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> WaitForEdgeAsync(AsyncFdReadyGuard seen, CancellationToken cancellationToken)
    {
        do
        {
            // The poll found nothing: forget readiness no edge renewed since 'seen', so the await
            // waits for new data instead of returning on the stale bits.
            seen.ClearReady();
            seen = await _fd.ReadableAsync(cancellationToken).ConfigureAwait(false);
        }
        while (!Poll(PollEvents.POLLIN, wait: false));
        return 0;
    }

    /// <summary>Writes all of <paramref name="buffer"/>, waiting for the fd to be writable as needed.</summary>
    /// <exception cref="FdException">write failed (EPIPE, ECONNRESET, ...).</exception>
    /// <exception cref="ObjectDisposedException">The stream or its AsyncFd is disposed.</exception>
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        CheckWritable();
        while (!buffer.IsEmpty && _fd.ReadyIn(AsyncFdInterest.Writable, out _) && _fd.TryWrite(buffer.Span, out int bytesWritten))
            buffer = buffer[bytesWritten..];
        return buffer.IsEmpty ? default : _fd.WriteAsync(buffer, cancellationToken);
    }

    /// <inheritdoc cref="WriteAsync(ReadOnlyMemory{byte}, CancellationToken)"/>
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Reads at least one byte, blocking in ppoll(2) until the fd is readable; 0 at end of file.</summary>
    /// <exception cref="FdException">read or poll failed.</exception>
    /// <exception cref="Win32Exception">The eventfd that lets Dispose wake a blocked call could not be made (EMFILE, ENFILE, ENOMEM): the first call that blocks makes it.</exception>
    /// <exception cref="ObjectDisposedException">The stream or its AsyncFd is disposed.</exception>
    public override int Read(Span<byte> buffer)
    {
        CheckReadable();
        int bytesRead;
        while (!_fd.TryRead(buffer, out bytesRead))
            Poll(PollEvents.POLLIN, wait: true);
        return bytesRead;
    }

    /// <inheritdoc cref="Read(Span{byte})"/>
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    /// <summary>Reads one byte, blocking as <see cref="Read(Span{byte})"/> does; -1 at end of file.</summary>
    public override int ReadByte()
    {
        Span<byte> one = stackalloc byte[1];
        return Read(one) == 0 ? -1 : one[0];
    }

    /// <summary>Writes all of <paramref name="buffer"/>, blocking in ppoll(2) while the fd is full.</summary>
    /// <exception cref="FdException">write or poll failed.</exception>
    /// <exception cref="Win32Exception">The eventfd that lets Dispose wake a blocked call could not be made (EMFILE, ENFILE, ENOMEM).</exception>
    /// <exception cref="ObjectDisposedException">The stream or its AsyncFd is disposed.</exception>
    public override void Write(ReadOnlySpan<byte> buffer)
    {
        CheckWritable();
        while (!buffer.IsEmpty)
        {
            if (_fd.TryWrite(buffer, out int bytesWritten))
                buffer = buffer[bytesWritten..];
            else
                Poll(PollEvents.POLLOUT, wait: true);
        }
    }

    /// <inheritdoc cref="Write(ReadOnlySpan{byte})"/>
    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    /// <summary>Writes one byte, blocking as <see cref="Write(ReadOnlySpan{byte})"/> does.</summary>
    public override void WriteByte(byte value) => Write([value]);

    /// <summary>Does nothing: every write is handed to the kernel before it returns.</summary>
    public override void Flush()
    {
    }

    /// <summary>Completes at once: every write is handed to the kernel before it returns.</summary>
    public override Task FlushAsync(CancellationToken cancellationToken) =>
        cancellationToken.IsCancellationRequested ? Task.FromCanceled(cancellationToken) : Task.CompletedTask;

    /// <summary>Not supported: an fd stream has no position.</summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException("An fd stream cannot seek.");

    /// <summary>Not supported: an fd stream has no length.</summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    public override void SetLength(long value) => throw new NotSupportedException("An fd stream has no length.");

    /// <summary>
    /// Ends synchronous reads and writes blocked on other threads with <see cref="ObjectDisposedException"/>,
    /// whether or not the stream owns its AsyncFd, and disposes the AsyncFd if it does, ending its
    /// awaits with <see cref="ObjectDisposedException"/>.
    /// </summary>
    protected override void Dispose(bool disposing)
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0 && disposing)
        {
            WakeBlockedCalls();
            if (_ownsFd)
                _fd.Dispose();
        }
        base.Dispose(disposing);
    }

    // Under the lock, against a call making the eventfd now: either it is made first and signalled
    // here, or the call finds the stream disposed and never blocks.
    private unsafe void WakeBlockedCalls()
    {
        lock (_wakeLock)
        {
            if (_wake is null)
                return;
            ulong one = 1;
            LibC.write(_wake.Value, &one, sizeof(ulong));
            // Closed once the last poll watching it lets go of its reference.
            _wake.Dispose();
        }
    }

    // The wake eventfd, made on first use, with a reference the caller releases.
    private OwnedFd ReferenceWake()
    {
        lock (_wakeLock)
        {
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            if (_wake is null)
            {
                int fd = PrivateFds.CreateEventFd();
                if (fd < 0)
                    throw new Win32Exception(Marshal.GetLastPInvokeError(), "eventfd to wake a blocked stream call failed");
                _wake = new OwnedFd(fd);
            }
            bool referenced = false;
            _wake.DangerousAddRef(ref referenced);
            return _wake;
        }
    }

    private void CheckReadable()
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if ((_fd.Interest & AsyncFdInterest.Readable) == 0)
            throw new NotSupportedException("This stream's AsyncFd does not wait for readability: the stream cannot read.");
    }

    private void CheckWritable()
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if ((_fd.Interest & AsyncFdInterest.Writable) == 0)
            throw new NotSupportedException("This stream's AsyncFd does not wait for writability: the stream cannot write.");
    }

    // Whether the fd is ready in one direction (a hang-up or an error counts: the call would not
    // wait). With wait, blocks the calling thread until it is, as a blocking read or write would:
    // ppoll(2) rather than waiting on the async path, so no thread-pool thread is held up; the
    // stream's wake eventfd ends the wait when the stream is disposed. Both handles are referenced
    // meanwhile, so neither number can be closed and reused under the poll.
    private unsafe bool Poll(PollEvents events, bool wait)
    {
        // The wake fd first, referenced under its lock: a stream disposed by then says so in its own name.
        OwnedFd? wake = wait ? ReferenceWake() : null;
        try
        {
            using var held = new HandleReference(_fd.Handle);
            PollFd* polls = stackalloc PollFd[2];
            polls[0] = new PollFd { fd = _fd.Fd, events = (short)events };
            if (wake is null)
                return PollOnce(polls, 1, wait: false);
            polls[1] = new PollFd { fd = wake.Value, events = (short)PollEvents.POLLIN };
            bool ready = PollOnce(polls, 2, wait: true);
            if (polls[1].revents != 0)
                throw new ObjectDisposedException(GetType().FullName, "The stream was disposed while a call waited on it.");
            return ready;
        }
        finally
        {
            wake?.DangerousRelease();
        }
    }

    private unsafe bool PollOnce(PollFd* polls, int count, bool wait)
    {
        Timespec now = default;
        int result;
        do
            result = LibC.ppoll(polls, (nuint)count, wait ? null : &now, null);
        while (result < 0 && Marshal.GetLastPInvokeError() == LibC.EINTR);
        if (result < 0)
            throw new FdException("ppoll", _fd.Fd, Marshal.GetLastPInvokeError());
        if ((polls[0].revents & (short)PollEvents.POLLNVAL) != 0)
            throw new FdException("ppoll", _fd.Fd, LibC.EBADF);
        return result > 0;
    }

    private static AsyncFdInterest InterestOf(FileAccess access) => access switch
    {
        FileAccess.Read => AsyncFdInterest.Readable,
        FileAccess.Write => AsyncFdInterest.Writable,
        FileAccess.ReadWrite => AsyncFdInterest.ReadWrite,
        _ => throw new ArgumentOutOfRangeException(nameof(access), access, "Read, Write or ReadWrite."),
    };
}
