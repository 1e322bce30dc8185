using System;
using EpollGen.Echo.Native;

namespace EpollGen.Echo.Server;

/// <summary>
/// The edge-triggered echo server on <see cref="EpollSet"/>: one event loop per requested thread,
/// each with its own listening socket on the same loopback port (SO_REUSEPORT), so the kernel
/// spreads connections over the loops and no connection ever crosses threads.
/// </summary>
public sealed unsafe class EpollEchoServer : IEchoServer
{
    private readonly EventLoop[] _loops;
    private readonly int[] _listeners;

    /// <summary>Binds, listens and starts the loops.</summary>
    /// <exception cref="EpollException">A socket call failed (the errno says which).</exception>
    public EpollEchoServer(EchoServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        int count = Math.Max(1, options.Loops);
        _listeners = new int[count];
        _loops = new EventLoop[count];
        Array.Fill(_listeners, -1);
        try
        {
            int port = options.Port;
            for (int i = 0; i < count; i++)
            {
                _listeners[i] = Listen(ref port);
                _loops[i] = new EventLoop(_listeners[i], options, i);
            }
            Port = port;
        }
        catch
        {
            Dispose();
            throw;
        }
        foreach (EventLoop loop in _loops)
            loop.Start();
        Backend = EchoSets.Name(_loops[0].Set.Queue.TapBackend);
    }

    public string Name => "EpollGen";

    public int Port { get; }

    public string Backend { get; }

    /// <summary>The sets of the loops, for their counters.</summary>
    public EpollSet[] Sets => Array.ConvertAll(_loops, loop => loop.Set);

    public int ConnectionCount
    {
        get
        {
            int total = 0;
            foreach (EventLoop loop in _loops)
                total += loop.ConnectionCount;
            return total;
        }
    }

    /// <summary>Connections accepted so far.</summary>
    public long Accepted
    {
        get
        {
            long total = 0;
            foreach (EventLoop loop in _loops)
                total += loop.Accepted;
            return total;
        }
    }

    /// <summary>The most unsent bytes any one connection has held; bounded by the output limit.</summary>
    public int MaxPending
    {
        get
        {
            int max = 0;
            foreach (EventLoop loop in _loops)
                max = Math.Max(max, loop.MaxPending);
            return max;
        }
    }

    /// <summary>Stops the loops (closing their connections), then the listeners.</summary>
    public void Dispose()
    {
        foreach (EventLoop? loop in _loops)
            loop?.Dispose();
        foreach (int fd in _listeners)
        {
            if (fd >= 0)
                Sys.close(fd);
        }
        Array.Fill(_listeners, -1);
    }

    // The first listener may take an ephemeral port; the others join it. SO_REUSEPORT before bind
    // on every one of them is what lets them share it.
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
