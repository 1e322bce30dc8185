using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Threading;
using EpollGen.Echo.Native;
using EpollGen.Interop;

namespace EpollGen.Benchmarks.Suite;

/// <summary>
/// One loop of <see cref="RawEpollEchoServer"/>: a kernel epoll instance of its own, edge-triggered
/// throughout, reading each connection until EAGAIN or a short read and echoing each chunk at once,
/// with EPOLLOUT registered only while a send has hit EAGAIN (the echo sample's EventLoop without
/// the idle timeout, which the benchmark never sets).
/// </summary>
internal sealed unsafe class RawEpollEchoLoop : IDisposable
{
    private const int MaxEvents = 256;
    private const int BufferSize = 64 * 1024;
    private const int EPOLL_CTL_DEL = 2, EPOLL_CTL_MOD = 3;
    private const ulong ListenerData = ulong.MaxValue;
    private const ulong WakeData = ulong.MaxValue - 1;
    private const uint Readable = (uint)(EpollEvents.EPOLLIN | EpollEvents.EPOLLRDHUP | EpollEvents.EPOLLET);
    private const uint ReadableWritable = Readable | (uint)EpollEvents.EPOLLOUT;
    private const uint Broken = (uint)(EpollEvents.EPOLLERR | EpollEvents.EPOLLHUP);

    private readonly int _epfd;
    private readonly int _listenFd;
    private readonly int _wakeFd;
    private readonly Thread _thread;
    private readonly byte* _events = (byte*)NativeMemory.Alloc((nuint)(MaxEvents * EpollEvent.NativeSize));
    private readonly Stack<Connection> _free = new();
    private Connection?[] _byFd = new Connection?[1024];
    private uint _generation;
    private volatile bool _stopping;
    private int _count;

    public RawEpollEchoLoop(int listenFd, int index)
    {
        _listenFd = listenFd;
        _epfd = Sys.epoll_create1(Sys.EPOLL_CLOEXEC);
        _wakeFd = Sys.eventfd(0, Sys.EFD_NONBLOCK | Sys.EFD_CLOEXEC);
        if (_epfd < 0 || _wakeFd < 0 || Control(Sys.EPOLL_CTL_ADD, _listenFd, Readable, ListenerData) != 0
            || Control(Sys.EPOLL_CTL_ADD, _wakeFd, Readable, WakeData) != 0)
        {
            int errno = Sys.Errno;
            Release();
            throw new EpollException("raw epoll loop set-up", errno);
        }
        _thread = new Thread(Run) { IsBackground = true, Name = $"raw-epoll-echo-{index}" };
    }

    public int ConnectionCount => Volatile.Read(ref _count);

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
        Release();
    }

    private void Release()
    {
        if (_epfd >= 0)
            Sys.close(_epfd);
        if (_wakeFd >= 0)
            Sys.close(_wakeFd);
        NativeMemory.Free(_events);
    }

    private void Run()
    {
        while (!_stopping)
        {
            int n = Sys.epoll_wait(_epfd, _events, MaxEvents, -1);
            for (int i = 0; i < n; i++)
            {
                EpollEvent ev = EpollEvent.ReadNative(_events, i);
                Dispatch(ev.events, ev.data);
            }
        }
        foreach (Connection? c in _byFd)
        {
            if (c is not null)
                Close(c);
        }
    }

    private void Dispatch(uint events, ulong data)
    {
        if (data == ListenerData)
        {
            Accept();
            return;
        }
        if (data == WakeData)
        {
            ulong value;
            Sys.read(_wakeFd, &value, sizeof(ulong));
            return;
        }
        int fd = (int)(uint)data;
        Connection? c = fd < _byFd.Length ? _byFd[fd] : null;
        // An event for an fd closed earlier in this batch, whose number accept has since re-used.
        if (c is null || c.Generation != (uint)(data >> 32))
            return;
        if ((events & Broken) != 0)
        {
            Close(c);
            return;
        }
        if (c.Pending > 0 && !Flush(c))
            return;
        if (!c.ReadClosed && c.Tail < BufferSize)
            ReadAndEcho(c, drain: c.ReadPaused || (events & (uint)EpollEvents.EPOLLRDHUP) != 0);
    }

    private void Accept()
    {
        while (true)
        {
            int fd = Sys.accept4(_listenFd, null, null, Sys.SOCK_NONBLOCK | Sys.SOCK_CLOEXEC);
            if (fd < 0)
            {
                if (Sys.Errno is Sys.EINTR or Sys.ECONNABORTED)
                    continue;
                return;
            }
            Sys.SetInt(fd, Sys.IPPROTO_TCP, Sys.TCP_NODELAY, 1);
            Connection c = _free.Count > 0 ? _free.Pop() : new Connection();
            c.Fd = fd;
            c.Generation = ++_generation;
            c.Head = c.Tail = 0;
            c.WantWrite = c.ReadClosed = c.ReadPaused = false;
            if (Control(Sys.EPOLL_CTL_ADD, fd, Readable, c.Data) != 0)
            {
                Sys.close(fd);
                _free.Push(c);
                continue;
            }
            if (fd >= _byFd.Length)
                Array.Resize(ref _byFd, Math.Max(_byFd.Length * 2, fd + 1));
            _byFd[fd] = c;
            Volatile.Write(ref _count, _count + 1);
        }
    }

    // A read shorter than the room drained the socket, and later data raises a new edge, so the
    // confirming EAGAIN read is skipped unless a FIN came with this edge or reading was paused.
    private void ReadAndEcho(Connection c, bool drain)
    {
        c.ReadPaused = false;
        while (true)
        {
            int room = BufferSize - c.Tail;
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
                room = BufferSize - c.Tail;
            }
            nint n;
            fixed (byte* buffer = c.Buffer)
                n = Sys.recv(c.Fd, buffer + c.Tail, (nuint)room, 0);
            if (n > 0)
            {
                c.Tail += (int)n;
                if (!Flush(c) || (n < room && !drain))
                    return;
                continue;
            }
            if (n == 0)
            {
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

    // Sends what is pending; false if the connection was closed.
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
            if (!c.WantWrite)
            {
                c.WantWrite = true;
                Control(EPOLL_CTL_MOD, c.Fd, ReadableWritable, c.Data);
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
            Control(EPOLL_CTL_MOD, c.Fd, Readable, c.Data);
        }
        return true;
    }

    private void Close(Connection c)
    {
        Control(EPOLL_CTL_DEL, c.Fd, 0, 0);
        Sys.close(c.Fd);
        _byFd[c.Fd] = null;
        c.Fd = -1;
        _free.Push(c);
        Volatile.Write(ref _count, _count - 1);
    }

    private int Control(int op, int fd, uint events, ulong data)
    {
        byte* ev = stackalloc byte[16];
        EpollEvent.WriteNative(ev, 0, new EpollEvent { events = events, data = data });
        return Sys.epoll_ctl(_epfd, op, fd, ev);
    }

    /// <summary>One accepted connection; only the loop's thread touches it. Unsent bytes are Buffer[Head..Tail).</summary>
    private sealed class Connection
    {
        public readonly byte[] Buffer = GC.AllocateUninitializedArray<byte>(BufferSize, pinned: true);
        public int Fd = -1;
        public uint Generation;
        public int Head;
        public int Tail;
        public bool WantWrite;
        public bool ReadClosed;
        public bool ReadPaused;

        public int Pending => Tail - Head;

        // The event data carries the generation, so a stale event for a re-used fd number is ignored.
        public ulong Data => (ulong)Generation << 32 | (uint)Fd;
    }
}
