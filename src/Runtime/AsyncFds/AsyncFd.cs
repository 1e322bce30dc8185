using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using EpollGen.Interop;
using EpollGen.Native;
using Microsoft.Win32.SafeHandles;

namespace EpollGen;

/// <summary>
/// Awaitable readiness for any nonblocking fd (a pipe, a PTY, a serial port, an eventfd, a timerfd,
/// a signalfd, inotify, netlink, tun/tap, a socket), as tokio's <c>AsyncFd</c> gives it: the fd is
/// registered edge-triggered in an EpollGen set that one of the process's few engine threads waits
/// on, and an await completes when an edge arrives in its direction.
/// </summary>
/// <remarks>
/// <para>
/// Readiness is remembered: an await returns at once while the fd is known ready, and a read or
/// write that meets EAGAIN clears it (<see cref="AsyncFdReadyGuard.ClearReady"/>,
/// <see cref="TryRead"/>, <see cref="TryWrite"/>), unless a newer edge came meanwhile. One await per
/// direction may be in flight at a time, so a reader and a writer can work at once; the awaits
/// allocate nothing once warm. <see cref="Dispose"/> ends awaits in flight with
/// <see cref="ObjectDisposedException"/>.
/// </para>
/// <para>
/// The engine a fd goes to is picked by its number, so two AsyncFds for one fd number meet in one
/// set, which refuses the second with EEXIST (<see cref="EpollException"/>), as epoll refuses a
/// second ADD. Linux keys a registration by fd and open file: an fd <c>dup</c>ed first gets its own
/// registration and sees every edge too.
/// </para>
/// </remarks>
public sealed class AsyncFd : IDisposable
{
    internal const int EAGAIN = 11;
    private const int O_NONBLOCK = 0x800;

    // Hang-ups and errors end a wait in both directions (a read returns 0 or the error at once);
    // EPOLLRDHUP only ends a read's.
    private const EpollEvents ReadBits = EpollEvents.EPOLLIN | EpollEvents.EPOLLPRI | EpollEvents.EPOLLRDHUP | EpollEvents.EPOLLHUP | EpollEvents.EPOLLERR;
    private const EpollEvents WriteBits = EpollEvents.EPOLLOUT | EpollEvents.EPOLLHUP | EpollEvents.EPOLLERR;

    // The conditions, unlike the edges, are states: each report carries them as they are now (an
    // edge-triggered report is the fd's whole poll mask), so a delivery replaces them rather than
    // adding to them. A TCP socket reports EPOLLHUP before it connects and not after.
    private const EpollEvents Conditions = EpollEvents.EPOLLRDHUP | EpollEvents.EPOLLHUP | EpollEvents.EPOLLERR;

    // A clear takes the edges a caller has consumed. An EAGAIN seen here (TryRead, TryWrite, TryIo)
    // also proves the direction not hung up (a read at end of file returns 0, a write to a hung-up
    // fd fails with EPIPE), so it takes the conditions too; a caller's own clear keeps them, since
    // it may come after a read that emptied the fd without meeting EAGAIN, while a hang-up that
    // came in the same report still holds (a peer's data and its reset, in one edge).
    private const EpollEvents ReadEdges = EpollEvents.EPOLLIN | EpollEvents.EPOLLPRI;
    private const EpollEvents WriteEdges = EpollEvents.EPOLLOUT;

    private readonly SafeHandle _handle;
    private readonly bool _ownsHandle;
    private readonly AsyncFdEngine _engine;
    private readonly ReadinessWaiter _reader;
    private readonly ReadinessWaiter _writer;
    private readonly int _fd;
    private readonly AsyncFdEngine.Entry _entry;
    private int _disposed;

    // The readiness known: the epoll bits in the low half, and in the high half a tick that every
    // delivery advances, so a clear can tell whether an edge came after the moment it clears for.
    private ulong _readiness;

    /// <summary>Wraps the fd of <paramref name="handle"/>, which must be in nonblocking mode.</summary>
    /// <param name="handle">The fd. It is referenced while registered, so it cannot be closed and its number reused under the registration.</param>
    /// <param name="interest">The directions to wait for.</param>
    /// <param name="ownsHandle">Whether <see cref="Dispose"/> disposes <paramref name="handle"/> too.</param>
    /// <exception cref="ObjectDisposedException">The handle is closed.</exception>
    /// <exception cref="ArgumentException">The fd is in blocking mode (set <c>O_NONBLOCK</c> first).</exception>
    /// <exception cref="EpollException">epoll refused the fd: EPERM for a regular file or a directory, EEXIST when an AsyncFd already has this fd.</exception>
    public AsyncFd(SafeHandle handle, AsyncFdInterest interest = AsyncFdInterest.ReadWrite, bool ownsHandle = false)
        : this(handle, interest, ownsHandle, engine: null)
    {
    }

    internal AsyncFd(SafeHandle handle, AsyncFdInterest interest, bool ownsHandle, AsyncFdEngine? engine)
    {
        try
        {
            ArgumentNullException.ThrowIfNull(handle);
            if ((interest & ~AsyncFdInterest.ReadWrite) != 0 || interest == 0)
                throw new ArgumentOutOfRangeException(nameof(interest), interest, "Readable, Writable or both.");
            ObjectDisposedException.ThrowIf(handle.IsClosed || handle.IsInvalid, handle);
            _handle = handle;
            _ownsHandle = ownsHandle;
            _fd = (int)handle.DangerousGetHandle();
            Interest = interest;
            int flags = LibC.fcntl(_fd, LibC.F_GETFL, 0);
            if (flags < 0)
                throw new FdException("fcntl(F_GETFL)", _fd, Marshal.GetLastPInvokeError());
            if ((flags & O_NONBLOCK) == 0)
                throw new ArgumentException($"fd {_fd} is in blocking mode. AsyncFd reads and writes until EAGAIN, which a blocking fd never returns: set O_NONBLOCK (fcntl F_SETFL) first.", nameof(handle));
            _reader = new ReadinessWaiter(this, AsyncFdInterest.Readable);
            _writer = new ReadinessWaiter(this, AsyncFdInterest.Writable);
            // Nothing is known ready until the engine says so: an edge-triggered ADD reports what is
            // ready at once, so an fd with data waiting completes its first await through the engine.
            _engine = engine ?? AsyncFdEngine.For(_fd);
            _entry = _engine.Register(this, Registered(interest));
        }
        catch
        {
            // Refused: nothing was registered, so there is nothing for a finalizer to give back.
            GC.SuppressFinalize(this);
            throw;
        }
    }

    /// <summary>
    /// Wraps a raw fd, for code ported from C that keeps fds as ints. Unless <paramref name="ownsFd"/>,
    /// the caller keeps the fd open until <see cref="Dispose"/> returns.
    /// </summary>
    public static AsyncFd FromRawFd(int fd, AsyncFdInterest interest = AsyncFdInterest.ReadWrite, bool ownsFd = false)
    {
        if (fd < 0)
            throw new FdException("fcntl(F_GETFL)", fd, LibC.EBADF);
        var handle = new SafeFileHandle(fd, ownsFd);
        try
        {
            return new AsyncFd(handle, interest, ownsHandle: true);
        }
        catch
        {
            // Refused: the fd stays as it was, open, whoever owned it.
            handle.SetHandleAsInvalid();
            throw;
        }
    }

    /// <summary>
    /// Wraps, for reading, an fd an adapter just made: <paramref name="fd"/> as <paramref name="operation"/>
    /// returned it (-1, with the errno, on failure). The AsyncFd owns it; a refused wrap closes it.
    /// </summary>
    /// <exception cref="FdException"><paramref name="operation"/> failed.</exception>
    internal static AsyncFd OwnNewReadable(string operation, int fd, Func<int, AsyncFdEngine>? engineFor)
    {
        if (fd < 0)
            throw new FdException(operation, fd, Marshal.GetLastPInvokeError());
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            return new AsyncFd(handle, AsyncFdInterest.Readable, ownsHandle: true, engineFor?.Invoke(fd));
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>The fd.</summary>
    public int Fd => _fd;

    /// <summary>The directions this AsyncFd waits for.</summary>
    public AsyncFdInterest Interest { get; }

    /// <summary>The handle that owns the fd.</summary>
    public SafeHandle Handle => _handle;

    /// <summary>Completes when the fd is readable, at once if it is known to be.</summary>
    /// <exception cref="ObjectDisposedException">This AsyncFd is disposed, or is disposed during the await.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first.</exception>
    /// <exception cref="InvalidOperationException">Another readable await is in flight.</exception>
    public ValueTask<AsyncFdReadyGuard> ReadableAsync(CancellationToken cancellationToken = default) =>
        Await(_reader, AsyncFdInterest.Readable, cancellationToken);

    /// <summary>Completes when the fd is writable, at once if it is known to be.</summary>
    /// <exception cref="ObjectDisposedException">This AsyncFd is disposed, or is disposed during the await.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first.</exception>
    /// <exception cref="InvalidOperationException">Another writable await is in flight.</exception>
    public ValueTask<AsyncFdReadyGuard> WritableAsync(CancellationToken cancellationToken = default) =>
        Await(_writer, AsyncFdInterest.Writable, cancellationToken);

    private ValueTask<AsyncFdReadyGuard> Await(ReadinessWaiter waiter, AsyncFdInterest direction, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if ((Interest & direction) == 0)
            throw new InvalidOperationException($"This AsyncFd was not registered for {direction}.");
        if (cancellationToken.IsCancellationRequested)
            return ValueTask.FromCanceled<AsyncFdReadyGuard>(cancellationToken);
        if (ReadyIn(direction, out AsyncFdReadyGuard guard))
            return new ValueTask<AsyncFdReadyGuard>(guard);
        ValueTask<AsyncFdReadyGuard> wait = waiter.Arm(cancellationToken);
        // A Dispose that ran while the await armed found nothing armed to end.
        if (Volatile.Read(ref _disposed) != 0)
            waiter.TrySetException(new ObjectDisposedException(nameof(AsyncFd)));
        return wait;
    }

    /// <summary>Marks directions not ready, whatever came since: the next await waits for a new edge.</summary>
    public void ClearReady(AsyncFdInterest interest) =>
        Clear(Edges(interest), tick: null);

    internal void ClearReady(AsyncFdInterest direction, uint tick) => Clear(Edges(direction), tick);

    /// <summary>Clears after an EAGAIN seen since <paramref name="tick"/>: the edges and the conditions.</summary>
    internal void ClearAfterEagain(AsyncFdInterest direction, uint tick) => Clear(Edges(direction) | Conditions, tick);

    /// <summary>
    /// Reads into <paramref name="buffer"/> without waiting. False when the fd had nothing
    /// (EAGAIN): readiness is cleared, so <see cref="ReadableAsync"/> waits for the next edge.
    /// True with 0 bytes at end of file.
    /// </summary>
    /// <exception cref="FdException">read failed (ECONNRESET, EIO, ...).</exception>
    public unsafe bool TryRead(Span<byte> buffer, out int bytesRead)
    {
        fixed (byte* bytes = buffer)
            return Transfer(AsyncFdInterest.Readable, bytes, buffer.Length, out bytesRead);
    }

    /// <summary>
    /// Writes what the fd takes of <paramref name="buffer"/> without waiting. False when it took
    /// nothing (EAGAIN): readiness is cleared, so <see cref="WritableAsync"/> waits for the next edge.
    /// </summary>
    /// <exception cref="FdException">write failed (EPIPE, ECONNRESET, ...).</exception>
    public unsafe bool TryWrite(ReadOnlySpan<byte> buffer, out int bytesWritten)
    {
        fixed (byte* bytes = buffer)
            return Transfer(AsyncFdInterest.Writable, bytes, buffer.Length, out bytesWritten);
    }

    // One read or write, retried on EINTR, with the handle referenced across it so a Dispose on
    // another thread cannot close the number (and let it be reused) under the call.
    private unsafe bool Transfer(AsyncFdInterest direction, byte* bytes, int length, out int transferred)
    {
        uint tick = Tick;
        bool reading = direction == AsyncFdInterest.Readable;
        nint result;
        bool referenced = false;
        _handle.DangerousAddRef(ref referenced);
        try
        {
            do
                result = reading ? LibC.read(_fd, bytes, (nuint)length) : LibC.write(_fd, bytes, (nuint)length);
            while (result < 0 && Marshal.GetLastPInvokeError() == LibC.EINTR);
        }
        finally
        {
            _handle.DangerousRelease();
        }
        return Completed(result, reading ? "read" : "write", direction, tick, out transferred);
    }

    /// <summary>Reads at least one byte, waiting for readability as needed; 0 at end of file.</summary>
    /// <exception cref="FdException">read failed.</exception>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            if (!IsKnownReady(ReadBits))
                await ReadableAsync(cancellationToken).ConfigureAwait(false);
            if (TryRead(buffer.Span, out int bytesRead))
                return bytesRead;
        }
    }

    /// <summary>Writes all of <paramref name="buffer"/>, waiting for writability as needed.</summary>
    /// <exception cref="FdException">write failed.</exception>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (!buffer.IsEmpty)
        {
            if (!IsKnownReady(WriteBits))
                await WritableAsync(cancellationToken).ConfigureAwait(false);
            if (TryWrite(buffer.Span, out int bytesWritten))
                buffer = buffer[bytesWritten..];
        }
    }

    /// <summary>
    /// Removes the fd from its engine, ends awaits in flight with <see cref="ObjectDisposedException"/>,
    /// and disposes the handle if this AsyncFd owns it.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        GC.SuppressFinalize(this);
        _engine.Unregister(_entry, _fd);
        _reader.TrySetException(new ObjectDisposedException(nameof(AsyncFd)));
        _writer.TrySetException(new ObjectDisposedException(nameof(AsyncFd)));
        if (_ownsHandle)
            _handle.Dispose();
    }

    /// <summary>
    /// An AsyncFd dropped without <see cref="Dispose"/> and with no await in flight (an await holds
    /// it) gives its registration back, and its handle if it owns it.
    /// </summary>
    ~AsyncFd()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _engine.Unregister(_entry, _fd);
        if (_ownsHandle)
            _handle.Dispose();
    }

    /// <summary>Holds this AsyncFd alive while an await in <paramref name="direction"/> is in flight.</summary>
    internal void Root(AsyncFdInterest direction)
    {
        if (direction == AsyncFdInterest.Readable)
            _entry.AwaitedForReading = this;
        else
            _entry.AwaitedForWriting = this;
    }

    /// <summary>Lets go of the hold <see cref="Root"/> took.</summary>
    internal void Unroot(AsyncFdInterest direction)
    {
        if (direction == AsyncFdInterest.Readable)
            _entry.AwaitedForReading = null;
        else
            _entry.AwaitedForWriting = null;
    }

    /// <summary>Called by the engine with the events of one delivery.</summary>
    internal void Deliver(EpollEvents events)
    {
        ulong next = Publish(events);
        EpollEvents known = (EpollEvents)(uint)next;
        uint tick = (uint)(next >> 32);
        // Read after the publication (an Interlocked, a full fence): see ReadinessWaiter.Arm.
        if ((events & ReadBits) != 0 && _reader.IsArmed)
            _reader.TrySetResult(new AsyncFdReadyGuard(this, AsyncFdInterest.Readable, known & ReadBits, tick));
        if ((events & WriteBits) != 0 && _writer.IsArmed)
            _writer.TrySetResult(new AsyncFdReadyGuard(this, AsyncFdInterest.Writable, known & WriteBits, tick));
    }

    /// <summary>Whether <paramref name="direction"/> is known ready, with a guard for that moment.</summary>
    internal bool ReadyIn(AsyncFdInterest direction, out AsyncFdReadyGuard guard)
    {
        ulong readiness = Volatile.Read(ref _readiness);
        EpollEvents bits = (EpollEvents)(uint)readiness & (direction == AsyncFdInterest.Readable ? ReadBits : WriteBits);
        guard = new AsyncFdReadyGuard(this, direction, bits, (uint)(readiness >> 32));
        return bits != 0;
    }

    private uint Tick => (uint)(Volatile.Read(ref _readiness) >> 32);

    private bool IsKnownReady(EpollEvents bits) => ((EpollEvents)(uint)Volatile.Read(ref _readiness) & bits) != 0;

    private bool Completed(nint result, string operation, AsyncFdInterest direction, uint tick, out int bytes)
    {
        if (result >= 0)
        {
            bytes = (int)result;
            return true;
        }
        bytes = 0;
        int errno = Marshal.GetLastPInvokeError();
        if (errno != EAGAIN)
            throw new FdException(operation, _fd, errno);
        ClearAfterEagain(direction, tick);
        return false;
    }

    private ulong Publish(EpollEvents events)
    {
        // CAS loop: the bits and the tick change together, against clears from awaiting threads.
        ulong seen = Volatile.Read(ref _readiness);
        while (true)
        {
            ulong next = ((seen >> 32) + 1) << 32 | (uint)(((EpollEvents)(uint)seen & ~Conditions) | events);
            ulong found = Interlocked.CompareExchange(ref _readiness, next, seen);
            if (found == seen)
                return next;
            seen = found;
        }
    }

    private void Clear(EpollEvents bits, uint? tick)
    {
        ulong seen = Volatile.Read(ref _readiness);
        while (tick is not { } moment || (uint)(seen >> 32) == moment)
        {
            ulong next = seen & ~(ulong)(uint)bits;
            ulong found = Interlocked.CompareExchange(ref _readiness, next, seen);
            if (found == seen)
                return;
            seen = found;
        }
    }

    private static EpollEvents Edges(AsyncFdInterest interest) =>
        ((interest & AsyncFdInterest.Readable) != 0 ? ReadEdges : 0) | ((interest & AsyncFdInterest.Writable) != 0 ? WriteEdges : 0);

    private static EpollEvents Registered(AsyncFdInterest interest) =>
        EpollEvents.EPOLLET
        | ((interest & AsyncFdInterest.Readable) != 0 ? EpollEvents.EPOLLIN | EpollEvents.EPOLLRDHUP : 0)
        | ((interest & AsyncFdInterest.Writable) != 0 ? EpollEvents.EPOLLOUT : 0);
}
