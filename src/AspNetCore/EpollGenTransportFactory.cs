using System;
using System.Buffers;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EpollGen.AspNetCore;

/// <summary>
/// Kestrel's entry into EpollGen's transport: binds TCP endpoints as listening sockets whose
/// accepts and connections wait on <see cref="AsyncFd"/> readiness. Registered by <c>UseEpollGen</c>.
/// </summary>
public sealed class EpollGenTransportFactory : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    private readonly EpollGenTransportOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly IMemoryPoolFactory<byte>? _memoryPoolFactory;

    /// <summary>Created by dependency injection.</summary>
    /// <param name="options">The transport's settings.</param>
    /// <param name="loggerFactory">Where accept failures and connection errors are logged.</param>
    /// <param name="memoryPoolFactory">Kestrel's pool factory, so connections share Kestrel's pinned blocks; without one, <see cref="MemoryPool{T}.Shared"/>.</param>
    public EpollGenTransportFactory(IOptions<EpollGenTransportOptions> options, ILoggerFactory loggerFactory, IMemoryPoolFactory<byte>? memoryPoolFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _options = options.Value;
        _loggerFactory = loggerFactory;
        _memoryPoolFactory = memoryPoolFactory;
    }

    /// <summary>Binds and listens on <paramref name="endpoint"/>, an <see cref="IPEndPoint"/>; port 0 picks a free port, which the listener's EndPoint reports.</summary>
    /// <exception cref="AddressInUseException">The address is in use (EADDRINUSE).</exception>
    /// <exception cref="System.Net.Sockets.SocketException">socket, bind or listen failed otherwise.</exception>
    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        if (endpoint is not IPEndPoint ip)
            throw new NotSupportedException($"EpollGen's transport binds TCP endpoints only, not {endpoint.GetType().Name}.");
        MemoryPool<byte> pool = _memoryPoolFactory?.Create(new MemoryPoolOptions { Owner = "epollgen" }) ?? MemoryPool<byte>.Shared;
        try
        {
            IConnectionListener listener = EpollGenConnectionListener.Bind(ip, _options, pool, _loggerFactory.CreateLogger<EpollGenConnectionListener>());
            return new ValueTask<IConnectionListener>(listener);
        }
        catch
        {
            pool.Dispose();
            throw;
        }
    }

    /// <summary>Whether this transport serves <paramref name="endpoint"/>: TCP over IPv4 or IPv6.</summary>
    public bool CanBind(EndPoint endpoint) => endpoint is IPEndPoint;
}
