using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using EpollGen.Interop;
using EpollGen.Native;

namespace EpollGen;

/// <summary>
/// inotify as an asynchronous stream: an inotify fd read through an <see cref="AsyncFd"/>, its
/// watches added and removed here, each record decoded with the generated
/// <see cref="InotifyEvent"/> into an <see cref="InotifyNotification"/>.
/// </summary>
/// <remarks>
/// One read of the fd returns as many whole records as fit the buffer; they are handed out one at
/// a time before the fd is read again. One read at a time: <see cref="ReadAsync"/>,
/// <see cref="TryRead"/> and the enumerator share that buffer, and a notification's name points
/// into it until the next read. Reads allocate nothing once warm (decoding a name does).
/// </remarks>
public sealed class InotifyWatcher : IAsyncEnumerable<InotifyNotification>, IRecordSource<InotifyNotification>, IDisposable
{
    // Room for many records; the kernel refuses (EINVAL) a buffer that cannot hold one record
    // with the longest name, the header and NAME_MAX + 1 bytes.
    private const int BufferSize = 16 * 1024;

    private readonly AsyncFd _fd;
    private readonly byte[] _buffer = new byte[BufferSize];
    private int _offset;
    private int _length;
    private int _disposed;

    /// <summary>Opens an inotify fd with no watches.</summary>
    /// <exception cref="FdException">inotify_init1 failed (EMFILE: the per-user limit of inotify instances).</exception>
    public InotifyWatcher()
        : this(engineFor: null)
    {
    }

    internal InotifyWatcher(Func<int, AsyncFdEngine>? engineFor)
    {
        _fd = AsyncFd.OwnNewReadable("inotify_init1", LibC.inotify_init1(LibC.IN_NONBLOCK | LibC.IN_CLOEXEC), engineFor);
    }

    /// <summary>The inotify fd.</summary>
    public int Fd => _fd.Fd;

    /// <summary>
    /// Watches <paramref name="path"/> for <paramref name="mask"/>, or changes the mask of its
    /// existing watch (added to it with <see cref="InotifyMask.IN_MASK_ADD"/>).
    /// </summary>
    /// <returns>The watch descriptor that the path's notifications carry.</returns>
    /// <exception cref="FdException">inotify_add_watch failed: ENOENT (no such path), EACCES, ENOSPC (the per-user watch limit), EEXIST (<see cref="InotifyMask.IN_MASK_CREATE"/> on a watched path).</exception>
    /// <exception cref="ObjectDisposedException">The watcher is disposed.</exception>
    public int AddWatch(string path, InotifyMask mask)
    {
        ArgumentNullException.ThrowIfNull(path);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        using var held = new HandleReference(_fd.Handle);
        int watch = LibC.inotify_add_watch(_fd.Fd, path, (uint)mask);
        if (watch < 0)
            throw new FdException($"inotify_add_watch({path})", _fd.Fd, Marshal.GetLastPInvokeError());
        return watch;
    }

    /// <summary>Removes a watch; an <see cref="InotifyMask.IN_IGNORED"/> notification for it follows.</summary>
    /// <exception cref="FdException">EINVAL: no such watch (already removed, or its object gone).</exception>
    /// <exception cref="ObjectDisposedException">The watcher is disposed.</exception>
    public void RemoveWatch(int watch)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        using var held = new HandleReference(_fd.Handle);
        if (LibC.inotify_rm_watch(_fd.Fd, watch) != 0)
            throw new FdException($"inotify_rm_watch({watch})", _fd.Fd, Marshal.GetLastPInvokeError());
    }

    /// <summary>Takes the next notification without waiting: false when none is queued.</summary>
    /// <exception cref="FdException">read failed.</exception>
    /// <exception cref="InvalidDataException">A record overran what the kernel returned.</exception>
    /// <exception cref="ObjectDisposedException">The watcher is disposed.</exception>
    public bool TryRead(out InotifyNotification notification)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (_offset == _length && !TryFill())
        {
            notification = default;
            return false;
        }
        notification = Decode();
        return true;
    }

    /// <summary>Takes the next notification, waiting for one as needed.</summary>
    /// <exception cref="FdException">read failed.</exception>
    /// <exception cref="ObjectDisposedException">The watcher is disposed, or is disposed during the wait.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public ValueTask<InotifyNotification> ReadAsync(CancellationToken cancellationToken = default) =>
        RecordReads.ReadAsync(this, cancellationToken);

    /// <summary>
    /// The notifications as they come, until the watcher is disposed (the stream then ends) or
    /// <paramref name="cancellationToken"/> is cancelled (<see cref="OperationCanceledException"/>).
    /// </summary>
    public IAsyncEnumerator<InotifyNotification> GetAsyncEnumerator(CancellationToken cancellationToken = default) =>
        new RecordEnumerator<InotifyNotification>(this, cancellationToken);

    /// <summary>Closes the inotify fd and with it every watch: a read in flight throws <see cref="ObjectDisposedException"/>, an enumeration ends.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
            _fd.Dispose();
    }

    private bool TryFill()
    {
        if (!_fd.TryRead(_buffer, out int bytes))
            return false;
        _offset = 0;
        _length = bytes;
        return bytes > 0;
    }

    // One record at _offset: the header, then len bytes of name and NUL padding. The kernel
    // returns whole records only, so a record that overruns the read is a broken buffer.
    private unsafe InotifyNotification Decode()
    {
        InotifyEvent header;
        int nameOffset;
        fixed (byte* bytes = _buffer)
        {
            byte* record = bytes + _offset;
            if (_length - _offset < InotifyEvent.NativeSize)
                throw Overrun();
            header = InotifyEvent.ReadNative(record);
            nameOffset = (int)(InotifyEvent.name(record) - bytes);
        }
        if (header.len > (uint)(_length - nameOffset))
            throw Overrun();
        int padded = (int)header.len;
        _offset = nameOffset + padded;
        ReadOnlyMemory<byte> name = _buffer.AsMemory(nameOffset, padded);
        int end = name.Span.IndexOf((byte)0);
        return new InotifyNotification(header.wd, (InotifyMask)header.mask, header.cookie, end < 0 ? name : name[..end]);
    }

    private InvalidDataException Overrun()
    {
        var error = new InvalidDataException($"An inotify record at offset {_offset} runs past the {_length} bytes read from fd {_fd.Fd}.");
        // Nothing after a broken record can be trusted: the next read starts afresh.
        _offset = _length;
        return error;
    }

    bool IRecordSource<InotifyNotification>.IsDisposed => Volatile.Read(ref _disposed) != 0;

    AsyncFd IRecordSource<InotifyNotification>.Readiness => _fd;
}
