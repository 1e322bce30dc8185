using System;
using EpollGen.Echo.Native;
using EpollGen.Echo.Server;

namespace EpollGen.Benchmarks.Suite;

/// <summary>
/// The echo sample's server with EpollSet swapped for the kernel's epoll called from C#: the same
/// shape (one edge-triggered loop per CPU, each with its own SO_REUSEPORT listener on one loopback
/// port, raw libc sockets), so the echo comparison has the raw-epoll baseline every other
/// comparison of the suite has.
/// </summary>
internal sealed unsafe class RawEpollEchoServer : IEchoServer
{
    private readonly RawEpollEchoLoop[] _loops;
    private readonly int[] _listeners;

    public RawEpollEchoServer(int loops)
    {
        int count = Math.Max(1, loops);
        _listeners = new int[count];
        _loops = new RawEpollEchoLoop[count];
        Array.Fill(_listeners, -1);
        try
        {
            int port = 0;
            for (int i = 0; i < count; i++)
            {
                _listeners[i] = Listen(ref port);
                _loops[i] = new RawEpollEchoLoop(_listeners[i], i);
            }
            Port = port;
        }
        catch
        {
            Dispose();
            throw;
        }
        foreach (RawEpollEchoLoop loop in _loops)
            loop.Start();
    }

    public string Name => Implementations.RawEpoll;

    public int Port { get; }

    public string Backend => "-";

    public int ConnectionCount
    {
        get
        {
            int total = 0;
            foreach (RawEpollEchoLoop loop in _loops)
                total += loop.ConnectionCount;
            return total;
        }
    }

    public void Dispose()
    {
        foreach (RawEpollEchoLoop? loop in _loops)
            loop?.Dispose();
        foreach (int fd in _listeners)
        {
            if (fd >= 0)
                Sys.close(fd);
        }
        Array.Fill(_listeners, -1);
    }

    // SO_REUSEPORT on every listener before bind lets them share the first one's ephemeral port.
    private static int Listen(ref int port)
    {
        int fd = Sys.socket(Sys.AF_INET, Sys.SOCK_STREAM | Sys.SOCK_NONBLOCK | Sys.SOCK_CLOEXEC, 0);
        if (fd < 0)
            throw new EpollException("socket", Sys.Errno);
        SockAddrIn address = SockAddrIn.Loopback(port);
        uint length = (uint)sizeof(SockAddrIn);
        if (Sys.SetInt(fd, Sys.SOL_SOCKET, Sys.SO_REUSEADDR, 1) < 0
            || Sys.SetInt(fd, Sys.SOL_SOCKET, Sys.SO_REUSEPORT, 1) < 0
            || Sys.bind(fd, &address, length) < 0
            || Sys.listen(fd, 4096) < 0
            || Sys.getsockname(fd, &address, &length) < 0)
        {
            int errno = Sys.Errno;
            Sys.close(fd);
            throw new EpollException("listen", errno);
        }
        port = address.Port;
        return fd;
    }
}
