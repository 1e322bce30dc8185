using System;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Threading;
using EpollGen.Echo.Native;
using EpollGen.Interop;

namespace EpollGen.Echo.Load;

/// <summary>
/// One load-generator thread: many client connections multiplexed on a raw kernel epoll of its own
/// (not EpollGen, so the client costs the same whichever server it drives), each running closed
/// loop: send a message, wait for all of it to come back, record the round trip, send the next.
/// </summary>
internal sealed unsafe class ClientThread : IDisposable
{
    private const int MaxEvents = 256;
    private const EpollEvents Interest = EpollEvents.EPOLLIN | EpollEvents.EPOLLOUT | EpollEvents.EPOLLRDHUP | EpollEvents.EPOLLET;

    private readonly LoadRun _run;
    private readonly int _size;
    private readonly int _epfd;
    private readonly ClientConnection[] _connections;
    private readonly byte* _sendBuffer;
    private readonly byte* _receiveBuffer;
    private readonly int _receiveLength;
    private readonly byte* _events;
    private readonly Thread _thread;
    private long _completed;
    private long _errors;
    private int _open;

    public ClientThread(LoadRun run, int index, int connections, int size, int port)
    {
        _run = run;
        _size = size;
        _epfd = Sys.epoll_create1(Sys.EPOLL_CLOEXEC);
        if (_epfd < 0)
            throw new EpollException("epoll_create1", Sys.Errno);
        _sendBuffer = (byte*)NativeMemory.Alloc((nuint)size);
        new Span<byte>(_sendBuffer, size).Fill((byte)'e');
        _receiveLength = Math.Max(size, 64 * 1024);
        _receiveBuffer = (byte*)NativeMemory.Alloc((nuint)_receiveLength);
        _events = (byte*)NativeMemory.Alloc((nuint)(MaxEvents * EpollEvent.NativeSize));
        _connections = new ClientConnection[connections];
        for (int i = 0; i < connections; i++)
            _connections[i] = new ClientConnection { Fd = -1 };
        try
        {
            for (int i = 0; i < connections; i++)
                Connect(_connections[i], i, port);
        }
        catch
        {
            Dispose();
            throw;
        }
        _thread = new Thread(Run) { IsBackground = true, Name = $"echo-client-{index}" };
    }

    public long Completed => Volatile.Read(ref _completed);

    public long Errors => Volatile.Read(ref _errors);

    public LatencyHistogram Latency { get; } = new();

    public void Start() => _thread.Start();

    // A thread that never started has nothing to wait for.
    public void Join()
    {
        if (_thread.IsAlive)
            _thread.Join();
    }

    public void Dispose()
    {
        foreach (ClientConnection? c in _connections)
        {
            if (c is { Fd: >= 0 })
                CloseConnection(c);
        }
        Sys.close(_epfd);
        NativeMemory.Free(_sendBuffer);
        NativeMemory.Free(_receiveBuffer);
        NativeMemory.Free(_events);
    }

    // Blocking connect (set-up is not measured), then non-blocking for the run.
    private void Connect(ClientConnection c, int index, int port)
    {
        int fd = Sys.socket(Sys.AF_INET, Sys.SOCK_STREAM | Sys.SOCK_CLOEXEC, 0);
        if (fd < 0)
            throw new EpollException("socket", Sys.Errno);
        SockAddrIn address = SockAddrIn.Loopback(port);
        if (Sys.connect(fd, &address, (uint)sizeof(SockAddrIn)) < 0
            || Sys.SetInt(fd, Sys.IPPROTO_TCP, Sys.TCP_NODELAY, 1) < 0
            || !Sys.SetNonBlocking(fd))
        {
            int errno = Sys.Errno;
            Sys.close(fd);
            throw new EpollException("connect", errno);
        }
        c.Fd = fd;
        byte* ev = stackalloc byte[EpollEvent.NativeSize];
        EpollEvent.WriteNative(ev, 0, new EpollEvent { Events = Interest, data = (ulong)index });
        if (Sys.epoll_ctl(_epfd, Sys.EPOLL_CTL_ADD, fd, ev) < 0)
            throw new EpollException("epoll_ctl", Sys.Errno);
        _open++;
    }

    private void Run()
    {
        foreach (ClientConnection c in _connections)
            Begin(c);
        while (_open > 0)
        {
            int n = Sys.epoll_wait(_epfd, _events, MaxEvents, 100);
            if (n < 0 && Sys.Errno != Sys.EINTR)
                break;
            for (int i = 0; i < n; i++)
            {
                EpollEvent ev = EpollEvent.ReadNative(_events, i);
                ClientConnection c = _connections[(int)ev.data];
                if (c.Fd >= 0)
                    OnReady(c, ev.Events);
            }
            if (_run.Stopping)
                FinishIdle();
        }
    }

    private void Begin(ClientConnection c)
    {
        c.Sent = 0;
        c.Received = 0;
        c.Sequence++;
        c.Started = Stopwatch.GetTimestamp();
        Send(c);
    }

    private void OnReady(ClientConnection c, EpollEvents events)
    {
        if (c.Sent < _size && !Send(c))
            return;
        Receive(c);
        if (c.Fd >= 0 && (events & (EpollEvents.EPOLLERR | EpollEvents.EPOLLHUP)) != 0)
            Fail(c);
    }

    private bool Send(ClientConnection c)
    {
        while (c.Sent < _size)
        {
            // The first byte carries the request's sequence number, so a stale or misrouted
            // answer is caught as an error instead of counted as a request.
            if (c.Sent == 0)
                _sendBuffer[0] = c.Sequence;
            nint n = Sys.send(c.Fd, _sendBuffer + c.Sent, (nuint)(_size - c.Sent), Sys.MSG_NOSIGNAL);
            if (n > 0)
            {
                c.Sent += (int)n;
                continue;
            }
            int errno = Sys.Errno;
            if (errno == Sys.EINTR)
                continue;
            if (errno == Sys.EAGAIN)
                return true;
            Fail(c);
            return false;
        }
        return true;
    }

    private void Receive(ClientConnection c)
    {
        while (true)
        {
            nint n = Sys.recv(c.Fd, _receiveBuffer, (nuint)_receiveLength, 0);
            if (n > 0)
            {
                if ((c.Received == 0 && _receiveBuffer[0] != c.Sequence) || c.Received + n > c.Sent)
                {
                    Fail(c);
                    return;
                }
                c.Received += (int)n;
                if (c.Received == _size)
                {
                    Complete(c);
                    if (c.Fd < 0 || _run.Stopping)
                        return;
                }
                continue;
            }
            if (n == 0)
            {
                Fail(c);
                return;
            }
            int errno = Sys.Errno;
            if (errno == Sys.EINTR)
                continue;
            if (errno != Sys.EAGAIN)
                Fail(c);
            return;
        }
    }

    private void Complete(ClientConnection c)
    {
        if (_run.Recording)
            Latency.RecordTicks(Stopwatch.GetTimestamp() - c.Started);
        Volatile.Write(ref _completed, _completed + 1);
        if (_run.Stopping)
            CloseConnection(c);
        else
            Begin(c);
    }

    // Once the run stops, connections with no request in flight close; the rest close as their
    // answers arrive, or give up when the run's drain deadline passes.
    private void FinishIdle()
    {
        bool late = _run.DrainExpired;
        foreach (ClientConnection c in _connections)
        {
            if (c.Fd >= 0 && (c.Received == _size || late))
                CloseConnection(c);
        }
    }

    private void Fail(ClientConnection c)
    {
        if (!_run.Stopping)
            Volatile.Write(ref _errors, _errors + 1);
        CloseConnection(c);
    }

    private void CloseConnection(ClientConnection c)
    {
        Sys.close(c.Fd);
        c.Fd = -1;
        _open--;
    }

    private sealed class ClientConnection
    {
        public int Fd;
        public int Sent;
        public int Received;
        public byte Sequence;
        public long Started;
    }
}
