using System;
using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using EpollGen.AspNetCore.Native;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace EpollGen.AspNetCore;

/// <summary>
/// One listening TCP socket: accepts with accept4(2) until EAGAIN, then waits for the next
/// readable edge on the socket's <see cref="AsyncFd"/>, and wraps each accepted fd in a connection.
/// </summary>
internal sealed partial class EpollGenConnectionListener : IConnectionListener
{
    // After EMFILE and its kin the backlog stays readable, so retrying at once would spin: wait a
    // little for connections to close, as nginx's accept_mutex delay does.
    private static readonly TimeSpan ResourceBackoff = TimeSpan.FromMilliseconds(10);

    private readonly SocketHandle _socket;
    private readonly AsyncFd _fd;
    private readonly EpollGenTransportOptions _options;
    private readonly MemoryPool<byte> _pool;
    private readonly ILogger _logger;
    private int _unbound;

    private EpollGenConnectionListener(SocketHandle socket, IPEndPoint endPoint, EpollGenTransportOptions options, MemoryPool<byte> pool, ILogger logger)
    {
        _socket = socket;
        EndPoint = endPoint;
        _options = options;
        _pool = pool;
        _logger = logger;
        _fd = new AsyncFd(socket, AsyncFdInterest.Readable, ownsHandle: true);
    }

    /// <summary>The bound address, with the port the kernel chose when asked for port 0.</summary>
    public EndPoint EndPoint { get; }

    /// <summary>The listening socket, for calls the transport does not make itself (a test shuts it down).</summary>
    public SafeHandle Socket => _socket;

    /// <summary>socket, bind and listen, nonblocking and close-on-exec.</summary>
    public static unsafe EpollGenConnectionListener Bind(IPEndPoint endPoint, EpollGenTransportOptions options, MemoryPool<byte> pool, ILogger logger)
    {
        int family = endPoint.AddressFamily == AddressFamily.InterNetworkV6 ? SocketCalls.AF_INET6 : SocketCalls.AF_INET;
        int fd = SocketCalls.socket(family, SocketCalls.SOCK_STREAM | SocketCalls.SOCK_NONBLOCK | SocketCalls.SOCK_CLOEXEC, 0);
        if (fd < 0)
            throw BindFailure("socket", -1, endPoint, Marshal.GetLastPInvokeError());
        var socket = new SocketHandle(fd);
        try
        {
            // A restarted server binds its port while the last run's connections sit in TIME_WAIT.
            int errno = SocketCalls.SetOption(socket, SocketCalls.SOL_SOCKET, SocketCalls.SO_REUSEADDR, 1);
            // [::] takes IPv4 too, as Kestrel's socket transport makes it (dual mode).
            if (errno == 0 && endPoint.Address.Equals(IPAddress.IPv6Any))
                errno = SocketCalls.SetOption(socket, SocketCalls.IPPROTO_IPV6, SocketCalls.IPV6_V6ONLY, 0);
            if (errno != 0)
                throw BindFailure("setsockopt", fd, endPoint, errno);
            byte* address = stackalloc byte[SocketAddressCodec.MaxLength];
            int length = SocketAddressCodec.Write(endPoint, new Span<byte>(address, SocketAddressCodec.MaxLength));
            if (SocketCalls.bind(socket, address, length) != 0)
                throw BindFailure("bind", fd, endPoint, Marshal.GetLastPInvokeError());
            if (SocketCalls.listen(socket, options.Backlog) != 0)
                throw BindFailure("listen", fd, endPoint, Marshal.GetLastPInvokeError());
            length = SocketAddressCodec.MaxLength;
            if (SocketCalls.getsockname(socket, address, &length) != 0)
                throw BindFailure("getsockname", fd, endPoint, Marshal.GetLastPInvokeError());
            IPEndPoint bound = SocketAddressCodec.Read(new ReadOnlySpan<byte>(address, length)) ?? endPoint;
            return new EpollGenConnectionListener(socket, bound, options, pool, logger);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>The next connection; null once the listener is unbound.</summary>
    /// <exception cref="FdException">accept4 failed for the listening socket itself, as with EINVAL once it no longer listens.</exception>
    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            AsyncFdReadyGuard guard;
            try
            {
                guard = await _fd.ReadableAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                return null;
            }
            int fd;
            int errno;
            IPEndPoint? remote;
            try
            {
                fd = TryAccept(out errno, out remote);
            }
            catch (ObjectDisposedException)
            {
                // Unbound between the await and the call: the handle refused the reference.
                return null;
            }
            if (fd >= 0)
            {
                if (Accepted(fd, remote) is { } connection)
                    return connection;
                continue;
            }
            switch (errno)
            {
                case SocketCalls.EAGAIN:
                    guard.ClearReady();
                    break;
                case SocketCalls.EMFILE or SocketCalls.ENFILE or SocketCalls.ENOBUFS or SocketCalls.ENOMEM:
                    LogAcceptBackoff(_logger, EndPoint, errno);
                    await Task.Delay(ResourceBackoff, cancellationToken).ConfigureAwait(false);
                    break;
                case SocketCalls.ECONNABORTED or SocketCalls.ECONNRESET or SocketCalls.EPERM or SocketCalls.ETIMEDOUT
                    or SocketCalls.EPROTO or SocketCalls.ENOPROTOOPT or SocketCalls.EOPNOTSUPP or SocketCalls.ENONET
                    or SocketCalls.ENETDOWN or SocketCalls.ENETUNREACH or SocketCalls.EHOSTDOWN or SocketCalls.EHOSTUNREACH:
                    // accept(2): a connection that failed in the backlog (aborted, refused by a firewall
                    // rule, or a network error passed on from it) is that connection's problem. The
                    // failure took it off the queue, so the retry meets the next one or EAGAIN.
                    LogAcceptFailed(_logger, EndPoint, errno);
                    break;
                default:
                    // The listening socket itself failed: EINVAL once it no longer listens (shut down
                    // under us), EBADF, ENOTSOCK. Nothing left the queue and a hang-up stays readable for
                    // good, so a retry would spin. Kestrel ends its accept loop on an exception from
                    // AcceptAsync, logs it as critical, and serves the connections it has.
                    throw new FdException("accept4", _fd.Fd, errno);
            }
        }
    }

    private unsafe int TryAccept(out int errno, out IPEndPoint? remote)
    {
        byte* address = stackalloc byte[SocketAddressCodec.MaxLength];
        int length = SocketAddressCodec.MaxLength;
        int fd;
        do
            fd = SocketCalls.accept4(_socket, address, &length, SocketCalls.SOCK_NONBLOCK | SocketCalls.SOCK_CLOEXEC);
        while (fd < 0 && Marshal.GetLastPInvokeError() == SocketCalls.EINTR);
        errno = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
        remote = fd < 0 ? null : SocketAddressCodec.Read(new ReadOnlySpan<byte>(address, length));
        return fd;
    }

    private EpollGenConnection? Accepted(int fd, IPEndPoint? remote)
    {
        var socket = new SocketHandle(fd);
        try
        {
            if (_options.NoDelay)
                SocketCalls.SetOption(socket, SocketCalls.IPPROTO_TCP, SocketCalls.TCP_NODELAY, 1);
            var connection = new EpollGenConnection(socket, LocalEndPointOf(socket), remote, _pool, _options, _logger);
            connection.Start();
            return connection;
        }
        catch (Exception e) when (e is FdException or EpollException)
        {
            // The engine refused the fd (ENOMEM, ENOSPC): this connection cannot be served.
            LogConnectionRefused(_logger, remote, e);
            socket.Dispose();
            return null;
        }
    }

    private unsafe EndPoint? LocalEndPointOf(SocketHandle socket)
    {
        byte* address = stackalloc byte[SocketAddressCodec.MaxLength];
        int length = SocketAddressCodec.MaxLength;
        return SocketCalls.getsockname(socket, address, &length) == 0
            ? SocketAddressCodec.Read(new ReadOnlySpan<byte>(address, length))
            : EndPoint;
    }

    /// <summary>Closes the listening socket: new connections are refused, accepted ones go on.</summary>
    public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        // Disposing the AsyncFd ends a pending accept with ObjectDisposedException and closes the fd.
        if (Interlocked.Exchange(ref _unbound, 1) == 0)
            _fd.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Unbinds, and returns the memory pool: Kestrel disposes a listener after its connections.</summary>
    public async ValueTask DisposeAsync()
    {
        await UnbindAsync().ConfigureAwait(false);
        _pool.Dispose();
    }

    private static Exception BindFailure(string operation, int fd, IPEndPoint endPoint, int errno)
    {
        var cause = new FdException(operation, fd, errno);
        string message = $"{operation} for {endPoint} failed: {cause.Message}";
        // As the socket transport throws them: Kestrel reports an address in use as such, and takes
        // a SocketException for one address of several (localhost without IPv6, say) as a reason to
        // go on with the others, where an IOException would stop the start.
        if (errno == SocketCalls.EADDRINUSE)
            return new AddressInUseException(message, cause);
        SocketError error = errno switch
        {
            SocketCalls.EADDRNOTAVAIL => SocketError.AddressNotAvailable,
            SocketCalls.EAFNOSUPPORT => SocketError.AddressFamilyNotSupported,
            SocketCalls.EACCES or SocketCalls.EPERM => SocketError.AccessDenied,
            SocketCalls.EMFILE or SocketCalls.ENFILE => SocketError.TooManyOpenSockets,
            _ => SocketError.SocketError,
        };
        return new SocketException((int)error, message);
    }

    [LoggerMessage(1, LogLevel.Warning, "accept on {EndPoint} failed with errno {Errno}; retrying shortly")]
    private static partial void LogAcceptBackoff(ILogger logger, EndPoint endPoint, int errno);

    [LoggerMessage(2, LogLevel.Debug, "accept on {EndPoint} lost a connection in the backlog (errno {Errno})")]
    private static partial void LogAcceptFailed(ILogger logger, EndPoint endPoint, int errno);

    [LoggerMessage(3, LogLevel.Warning, "a connection from {Remote} could not be registered")]
    private static partial void LogConnectionRefused(ILogger logger, EndPoint? remote, Exception error);
}
