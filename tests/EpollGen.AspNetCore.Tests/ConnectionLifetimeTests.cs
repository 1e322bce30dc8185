using System;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using EpollGen.AspNetCore.Native;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Xunit;

namespace EpollGen.AspNetCore.Tests;

/// <summary>A listener and its connections driven directly, as Kestrel drives them: accept, close, dispose.</summary>
public sealed class ConnectionLifetimeTests
{
    private static readonly TimeSpan Bound = TestApp.Bound;

    // How long a disposal that should be held back is given to return wrongly early. A broken one
    // returns within a millisecond or two of the loops ending; a correct one never does.
    private static readonly TimeSpan EarlyReturnWindow = TimeSpan.FromMilliseconds(500);

    [Fact]
    public async Task DisposeAsync_Returns_OnlyAfterTheConnectionClosedCallbacks()
    {
        await using IConnectionListener listener = await BindAsync();
        using Socket client = await ConnectAsync(listener);
        ConnectionContext connection = await AcceptAsync(listener);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var release = new ManualResetEventSlim();
        int callbackDone = 0;
        connection.ConnectionClosed.Register(() =>
        {
            entered.TrySetResult();
            release.Wait(Bound);
            Volatile.Write(ref callbackDone, 1);
        });

        Task disposing = connection.DisposeAsync().AsTask();
        await entered.Task.WaitAsync(Bound);
        bool returnedEarly = await Task.WhenAny(disposing, Task.Delay(EarlyReturnWindow)) == disposing;
        release.Set();
        await disposing.WaitAsync(Bound);

        Assert.False(returnedEarly, "DisposeAsync returned while a ConnectionClosed callback still ran");
        Assert.Equal(1, Volatile.Read(ref callbackDone));
        // The token stays readable after the disposal, fired.
        Assert.True(connection.ConnectionClosed.IsCancellationRequested);
    }

    [Fact]
    public async Task ClientReset_FiresConnectionClosed_AndDisposeAsyncFinishes()
    {
        await using IConnectionListener listener = await BindAsync();
        using Socket client = await ConnectAsync(listener);
        ConnectionContext connection = await AcceptAsync(listener);
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.ConnectionClosed.Register(() => closed.TrySetResult());
        await client.SendAsync("GET / HTTP/1.1\r\n"u8.ToArray()).WaitAsync(Bound);

        // SO_LINGER 0: the close sends RST, as a crashed client's kernel would.
        client.LingerState = new LingerOption(true, 0);
        client.Dispose();

        await closed.Task.WaitAsync(Bound);
        await connection.DisposeAsync().AsTask().WaitAsync(Bound);
    }

    [Fact]
    public async Task DisposeAsync_EndsTheConnection_WhenMiddlewareLeftItsOwnTransport()
    {
        await using IConnectionListener listener = await BindAsync();
        using Socket client = await ConnectAsync(listener);
        ConnectionContext connection = await AcceptAsync(listener);
        // As a TLS or logging middleware would: its own pipes in place of the transport's, not put back.
        var replacement = new Pipe();
        connection.Transport = new Replacement(replacement.Reader, replacement.Writer);

        await connection.DisposeAsync().AsTask().WaitAsync(Bound);

        // The socket was shut down and closed: the client reads end of file.
        Assert.Equal(0, await client.ReceiveAsync(new byte[16]).WaitAsync(Bound));
    }

    [Fact]
    public async Task Accept_EndsWithTheErrno_WhenTheListeningSocketStopsListening()
    {
        await using IConnectionListener listener = await BindAsync();
        Task<ConnectionContext?> accepting = listener.AcceptAsync().AsTask();

        // shutdown(2) takes a listening socket out of LISTEN: accept4 then fails with EINVAL, and the
        // hang-up leaves the socket readable for good.
        Assert.Equal(0, SocketCalls.shutdown(((EpollGenConnectionListener)listener).Socket, SocketCalls.SHUT_RDWR));

        var error = await Assert.ThrowsAsync<FdException>(() => accepting.WaitAsync(Bound));
        Assert.Equal(SocketCalls.EINVAL, error.Errno);
        Assert.Equal("accept4", error.Operation);
    }

    private static async Task<IConnectionListener> BindAsync()
    {
        var factory = new EpollGenTransportFactory(Options.Create(new EpollGenTransportOptions()), NullLoggerFactory.Instance);
        return await factory.BindAsync(new IPEndPoint(IPAddress.Loopback, 0)).AsTask().WaitAsync(Bound);
    }

    private static async Task<Socket> ConnectAsync(IConnectionListener listener)
    {
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(listener.EndPoint).WaitAsync(Bound);
        return client;
    }

    private static async Task<ConnectionContext> AcceptAsync(IConnectionListener listener) =>
        await listener.AcceptAsync().AsTask().WaitAsync(Bound) ?? throw new InvalidOperationException("the listener was unbound");

    private sealed class Replacement(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
