using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using EpollGen.Echo.Native;
using EpollGen.Interop;

namespace EpollGen.Echo.Server;

/// <summary>
/// One event-loop thread: its own <see cref="EpollSet"/>, its own SO_REUSEPORT listener, and the
/// connections it accepted. Everything is edge-triggered: each edge is consumed by reading to
/// EAGAIN (or a short read), and the loop never relies on being told twice.
/// </summary>
internal sealed unsafe class EventLoop : IDisposable
{
    private const int MaxEvents = 256;
    private const ulong ListenerData = ulong.MaxValue;
    private const ulong WakeData = ulong.MaxValue - 1;

    private const EpollEvents Readable = EpollEvents.EPOLLIN | EpollEvents.EPOLLRDHUP | EpollEvents.EPOLLET;
    private const EpollEvents ReadableWritable = Readable | EpollEvents.EPOLLOUT;
    private const EpollEvents Broken = EpollEvents.EPOLLERR | EpollEvents.EPOLLHUP;

    private readonly EpollSet _set;
    private readonly int _listenFd;
    private readonly int _wakeFd;
    private readonly int _outputLimit;
    private readonly long _idleTicks;
    private readonly Thread _thread;
    private readonly EpollEvent[] _events = new EpollEvent[MaxEvents];

    // Connections by fd number: an fd is unique in the process, so no two loops collide.
    private Connection?[] _byFd = new Connection?[1024];

    // Pooled so steady-state connects and disconnects allocate nothing once the pools are warm.
    private readonly Stack<Connection> _freeConnections = new();
    private readonly Stack<byte[]> _freeBuffers = new();

    private uint _generation;
    private bool _acceptBlocked;
    private volatile bool _stopping;
    private int _count;
    private int _maxPending;
    private long _accepted;

    public EventLoop(int listenFd, EchoServerOptions options, int index)
    {
        _listenFd = listenFd;
        _outputLimit = options.OutputLimit;
        _idleTicks = options.IdleTimeout is { } idle ? (long)(idle.TotalSeconds * Stopwatch.Frequency) : 0;
        _set = EchoSets.Create(options.Backend);
        _wakeFd = Sys.eventfd(0, Sys.EFD_NONBLOCK | Sys.EFD_CLOEXEC);
        if (_wakeFd < 0)
        {
            _set.Dispose();
            throw new EpollException("eventfd", Sys.Errno);
        }
        _set.Add(_listenFd, EpollEvents.EPOLLIN | EpollEvents.EPOLLET, ListenerData);
        _set.Add(_wakeFd, EpollEvents.EPOLLIN | EpollEvents.EPOLLET, WakeData);
        _thread = new Thread(Run) { IsBackground = true, Name = $"epollgen-echo-{index}" };
    }

    public EpollSet Set => _set;

    public int ConnectionCount => Volatile.Read(ref _count);

    /// <summary>The most bytes one connection has held unsent: never above the output limit.</summary>
    public int MaxPending => Volatile.Read(ref _maxPending);

    public long Accepted => Volatile.Read(ref _accepted);

    public void Start() => _thread.Start();

    public void Dispose()
    {
        if (_thread.IsAlive)
        {
            _stopping = true;
            ulong one = 1;
            Sys.write(_wakeFd, &one, sizeof(ulong));
            _thread.Join();
        }
        _set.Dispose();
        Sys.close(_wakeFd);
    }

    private void Run()
    {
        // Idle connections are found by a sweep a few times per timeout; accept retries after
        // EMFILE ride on the same tick. Without either the loop sleeps until something happens.
        TimeSpan tick = _idleTicks > 0
            ? TimeSpan.FromTicks(Math.Clamp(Stopwatch.GetElapsedTime(0, _idleTicks).Ticks / 4, TimeSpan.TicksPerMillisecond * 5, TimeSpan.TicksPerSecond))
            : Timeout.InfiniteTimeSpan;
        long nextSweep = Stopwatch.GetTimestamp();
        while (!_stopping)
        {
            int n = _set.Wait(_events, _acceptBlocked ? TimeSpan.FromMilliseconds(50) : tick);
            for (int i = 0; i < n; i++)
                Dispatch(_events[i]);
            if (_acceptBlocked)
                Accept();
            if (_idleTicks > 0 && Stopwatch.GetTimestamp() >= nextSweep)
            {
                CloseIdle();
                nextSweep = Stopwatch.GetTimestamp() + _idleTicks / 4;
            }
        }
        CloseAll();
    }

    private void Dispatch(in EpollEvent ev)
    {
        switch (ev.data)
        {
            case ListenerData:
                Accept();
                return;
            case WakeData:
                ulong value;
                Sys.read(_wakeFd, &value, sizeof(ulong));
                return;
        }
        int fd = (int)(uint)ev.data;
        Connection? c = fd < _byFd.Length ? _byFd[fd] : null;
        if (c is null || c.Generation != (uint)(ev.data >> 32))
            return;
        if ((ev.Events & Broken) != 0)
        {
            // ERR: a pending error (a reset); HUP: both directions are shut, so nothing we hold can
            // be delivered any more. Either way the connection is done.
            Close(c);
            return;
        }
        if (c.Pending > 0 && !Flush(c))
            return;
        if (!c.ReadClosed && c.Tail < _outputLimit)
            ReadAndEcho(c, drain: c.ReadPaused || (ev.Events & EpollEvents.EPOLLRDHUP) != 0);
    }

    private void Accept()
    {
        while (true)
        {
            int fd = Sys.accept4(_listenFd, null, null, Sys.SOCK_NONBLOCK | Sys.SOCK_CLOEXEC);
            if (fd < 0)
            {
                int errno = Sys.Errno;
                if (errno is Sys.EINTR or Sys.ECONNABORTED)
                    continue;
                // Out of fds or memory: the edge is spent, so retry on a short timer instead of
                // waiting for a new connection that might never come.
                _acceptBlocked = errno is Sys.EMFILE or Sys.ENFILE or Sys.ENOBUFS or Sys.ENOMEM;
                return;
            }
            _acceptBlocked = false;
            Sys.SetInt(fd, Sys.IPPROTO_TCP, Sys.TCP_NODELAY, 1);
            Connection c = _freeConnections.Count > 0 ? _freeConnections.Pop() : new Connection();
            c.Fd = fd;
            c.Generation = ++_generation;
            c.Buffer = _freeBuffers.Count > 0 ? _freeBuffers.Pop() : GC.AllocateUninitializedArray<byte>(_outputLimit, pinned: true);
            c.Head = c.Tail = 0;
            c.WantWrite = c.ReadClosed = c.ReadPaused = false;
            c.LastActive = Stopwatch.GetTimestamp();
            if (!_set.TryAdd(fd, Readable, DataOf(c), out _))
            {
                Sys.close(fd);
                Recycle(c);
                continue;
            }
            if (fd >= _byFd.Length)
                Array.Resize(ref _byFd, Math.Max(_byFd.Length * 2, fd + 1));
            _byFd[fd] = c;
            Volatile.Write(ref _count, _count + 1);
            Volatile.Write(ref _accepted, _accepted + 1);
        }
    }

    // Reads while there is room, echoing each chunk at once so a request's answer never waits for
    // the next read. A read shorter than the room means the socket was drained, and data that comes
    // later raises a new edge, so the EAGAIN read that would confirm it is skipped (one syscall less
    // per message) -- unless <paramref name="drain"/>: a FIN that came with this edge (EPOLLRDHUP)
    // or while reading was paused raises no new edge, and only reading on to 0 finds it. A full
    // buffer pauses reading; the EPOLLOUT edge that drains it resumes it.
    private void ReadAndEcho(Connection c, bool drain)
    {
        c.ReadPaused = false;
        while (true)
        {
            int room = _outputLimit - c.Tail;
            if (room == 0)
            {
                if (c.Head == 0)
                {
                    c.ReadPaused = true;
                    return;
                }
                c.Buffer.AsSpan(c.Head, c.Pending).CopyTo(c.Buffer);
                c.Tail -= c.Head;
                c.Head = 0;
                room = _outputLimit - c.Tail;
            }
            nint n;
            fixed (byte* buffer = c.Buffer)
                n = Sys.recv(c.Fd, buffer + c.Tail, (nuint)room, 0);
            if (n > 0)
            {
                c.Tail += (int)n;
                Touch(c);
                if (c.Pending > _maxPending)
                    Volatile.Write(ref _maxPending, c.Pending);
                if (!Flush(c) || (n < room && !drain))
                    return;
                continue;
            }
            if (n == 0)
            {
                // Half-close: the peer will send no more, but still reads; what we hold goes out first.
                c.ReadClosed = true;
                if (c.Pending == 0)
                    Close(c);
                return;
            }
            int errno = Sys.Errno;
            if (errno == Sys.EINTR)
                continue;
            if (errno != Sys.EAGAIN)
                Close(c);
            return;
        }
    }

    // Sends what is pending. Returns false if the connection was closed (an error, or a half-closed
    // peer that now has everything).
    private bool Flush(Connection c)
    {
        while (c.Pending > 0)
        {
            nint n;
            fixed (byte* buffer = c.Buffer)
                n = Sys.send(c.Fd, buffer + c.Head, (nuint)c.Pending, Sys.MSG_NOSIGNAL);
            if (n > 0)
            {
                c.Head += (int)n;
                Touch(c);
                continue;
            }
            int errno = Sys.Errno;
            if (errno == Sys.EINTR)
                continue;
            if (errno != Sys.EAGAIN)
            {
                Close(c);
                return false;
            }
            // The client reads slower than it sends: ask for EPOLLOUT until it catches up.
            if (!c.WantWrite)
            {
                c.WantWrite = true;
                _set.TryModify(c.Fd, ReadableWritable, DataOf(c), out _);
            }
            return true;
        }
        c.Head = c.Tail = 0;
        if (c.ReadClosed)
        {
            Close(c);
            return false;
        }
        if (c.WantWrite)
        {
            c.WantWrite = false;
            _set.TryModify(c.Fd, Readable, DataOf(c), out _);
        }
        return true;
    }

    private void CloseIdle()
    {
        long cutoff = Stopwatch.GetTimestamp() - _idleTicks;
        foreach (Connection? c in _byFd)
        {
            if (c is not null && c.LastActive < cutoff)
                Close(c);
        }
    }

    private void CloseAll()
    {
        foreach (Connection? c in _byFd)
        {
            if (c is not null)
                Close(c);
        }
    }

    private void Close(Connection c)
    {
        // Removed before the close: the set keys registrations by fd number, and the number's next
        // accept must find it free.
        _set.TryRemove(c.Fd, out _);
        Sys.close(c.Fd);
        _byFd[c.Fd] = null;
        Recycle(c);
        Volatile.Write(ref _count, _count - 1);
    }

    private void Recycle(Connection c)
    {
        _freeBuffers.Push(c.Buffer);
        c.Buffer = [];
        c.Fd = -1;
        _freeConnections.Push(c);
    }

    // The clock is read per message only when an idle timeout needs it.
    private void Touch(Connection c)
    {
        if (_idleTicks > 0)
            c.LastActive = Stopwatch.GetTimestamp();
    }

    private static ulong DataOf(Connection c) => (ulong)c.Generation << 32 | (uint)c.Fd;
}
