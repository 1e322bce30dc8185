using System;
using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using EpollGen.Echo.Server;

namespace EpollGen.Echo.Baseline;

/// <summary>
/// The comparison: an echo server written the way .NET recommends, on Socket's async API. One
/// async method per connection loops over <see cref="Socket.ReceiveAsync(Memory{byte}, SocketFlags, CancellationToken)"/>
/// and <see cref="Socket.SendAsync(ReadOnlyMemory{byte}, SocketFlags, CancellationToken)"/>, which
/// complete from .NET's own epoll engine through cached, reusable awaitables: no allocation per
/// message, a pooled buffer per connection, Nagle off like the EpollGen server.
/// </summary>
public sealed class SocketEchoServer : IEchoServer
{
    private const int BufferSize = 16 * 1024;

    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<Socket, byte> _connections = new();
    private readonly Task _acceptLoop;

    /// <summary>Listens on loopback and starts accepting.</summary>
    public SocketEchoServer(int port = 0)
    {
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, port));
        _listener.Listen(4096);
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        _acceptLoop = AcceptLoop();
    }

    public string Name => ".NET Socket";

    public int Port { get; }

    public string Backend => "-";

    public int ConnectionCount => _connections.Count;

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
        _acceptLoop.Wait(TimeSpan.FromSeconds(5));
        // Disposing a socket fails its pending receive, which ends its Serve and unregisters it.
        foreach (Socket socket in _connections.Keys)
            socket.Dispose();
        SpinWait.SpinUntil(() => _connections.IsEmpty, TimeSpan.FromSeconds(5));
        _stop.Dispose();
    }

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            socket.NoDelay = true;
            // Registered before it runs, so its own removal cannot come first.
            _connections[socket] = 0;
            _ = Serve(socket);
        }
    }

    // No cancellation token per call: a cancellable token costs a registration per operation,
    // which is not how a tuned server is written; Dispose ends the loops by closing the sockets.
    private async Task Serve(Socket socket)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            while (true)
            {
                int n = await socket.ReceiveAsync(buffer, SocketFlags.None).ConfigureAwait(false);
                if (n == 0)
                    break;
                await socket.SendAsync(buffer.AsMemory(0, n), SocketFlags.None).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // A reset, a broken pipe or shutdown: the connection is over either way.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            socket.Dispose();
            _connections.TryRemove(socket, out _);
        }
    }
}
