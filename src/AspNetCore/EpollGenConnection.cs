using System;
using System.Buffers;
using System.Collections.Generic;
using System.IO.Pipelines;
using System.Net;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using EpollGen.AspNetCore.Native;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace EpollGen.AspNetCore;

/// <summary>
/// One accepted TCP connection as Kestrel sees it: a pipe pair that a receive loop fills from the
/// socket and a send loop drains into it, both waiting on the socket's <see cref="AsyncFd"/>.
/// </summary>
/// <remarks>
/// The fd is closed only in <see cref="DisposeAsync"/>, after both loops ended, so neither loop
/// can meet a closed or reused number. Either loop ending ends the other: the send loop shuts the
/// socket down, which makes the receive loop read end of file; the receive loop completing the input
/// lets the application complete its output, which ends the send loop.
/// </remarks>
internal sealed partial class EpollGenConnection : ConnectionContext,
    IConnectionIdFeature, IConnectionTransportFeature, IConnectionItemsFeature, IConnectionEndPointFeature,
    IConnectionLifetimeFeature, IMemoryPoolFeature, IEpollGenConnectionFeature
{
    private static long s_lastId = DateTime.UtcNow.Ticks;

    private readonly SocketHandle _socket;
    private readonly AsyncFd _fd;
    private readonly Pipe _input;
    private readonly Pipe _output;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _closed = new();
    // Kept apart from _closed, which DisposeAsync disposes: the token stays readable after that.
    private readonly CancellationToken _closedToken;
    private readonly FeatureCollection _features = new();
    private IDictionary<object, object?>? _items;
    private ConnectionAbortedException? _abortReason;
    private Task _processing = Task.CompletedTask;
    private int _shutDown;
    private int _disposed;

    public EpollGenConnection(SocketHandle socket, EndPoint? local, EndPoint? remote, MemoryPool<byte> pool, EpollGenTransportOptions options, ILogger logger)
    {
        _socket = socket;
        _logger = logger;
        LocalEndPoint = local;
        RemoteEndPoint = remote;
        MemoryPool = pool;
        ConnectionId = NextId();
        _closedToken = _closed.Token;
        int segment = pool.MaxBufferSize is > 0 and < 4096 ? pool.MaxBufferSize : 4096;
        long maxRead = options.MaxReadBufferSize ?? 0;
        long maxWrite = options.MaxWriteBufferSize ?? 0;
        // The transport's side runs inline: the receive loop resumes where the application's read
        // made room, and the send loop runs in the application's flush, so a response goes out in
        // the work item that wrote it, with no hop through the thread pool. The application's side
        // resumes on the thread pool, never on a transport loop: running Kestrel inline in the
        // receive loop too (one work item per request) measured no better on plaintext.
        _input = new Pipe(new PipeOptions(pool, PipeScheduler.ThreadPool, PipeScheduler.Inline,
            maxRead, maxRead / 2, segment, useSynchronizationContext: false));
        _output = new Pipe(new PipeOptions(pool, PipeScheduler.Inline, PipeScheduler.ThreadPool,
            maxWrite, maxWrite / 2, segment, useSynchronizationContext: false));
        Transport = new DuplexPipe(_input.Reader, _output.Writer);
        _features.Set<IConnectionIdFeature>(this);
        _features.Set<IConnectionTransportFeature>(this);
        _features.Set<IConnectionItemsFeature>(this);
        _features.Set<IConnectionEndPointFeature>(this);
        _features.Set<IConnectionLifetimeFeature>(this);
        _features.Set<IMemoryPoolFeature>(this);
        _features.Set<IEpollGenConnectionFeature>(this);
        _fd = new AsyncFd(socket, AsyncFdInterest.ReadWrite, ownsHandle: true);
    }

    public override string ConnectionId { get; set; }

    public override IFeatureCollection Features => _features;

    public override IDictionary<object, object?> Items
    {
        get => _items ??= new ConnectionItems();
        set => _items = value;
    }

    public override IDuplexPipe Transport { get; set; }

    public override CancellationToken ConnectionClosed
    {
        get => _closedToken;
        set => throw new NotSupportedException("The transport owns the connection-closed token.");
    }

    public MemoryPool<byte> MemoryPool { get; }

    public SafeHandle Socket => _socket;

    /// <summary>Starts the receive and send loops.</summary>
    public void Start() => _processing = RunAsync();

    public override void Abort(ConnectionAbortedException abortReason)
    {
        Interlocked.CompareExchange(ref _abortReason, abortReason, null);
        Shutdown();
        // Ends a send loop that waits for the application's next write.
        _output.Reader.CancelPendingRead();
    }

    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        // The application's ends of the transport's own pipes, not whatever Transport holds now:
        // middleware that put its own pipes there and left them would keep both loops running.
        _input.Reader.Complete();
        _output.Writer.Complete();
        await _processing.ConfigureAwait(false);
        // Both loops are done with the fd: unregister and close it.
        _fd.Dispose();
        // The receive loop ended only after the ConnectionClosed callbacks returned, so none runs
        // after this, and none can meet a disposed source.
        _closed.Dispose();
    }

    private async Task RunAsync()
    {
        Task receiving = ReceiveAsync();
        Task sending = SendAsync();
        await receiving.ConfigureAwait(false);
        await sending.ConfigureAwait(false);
    }

    // Shuts both directions: the peer sees FIN, a pending read returns 0 and a pending write EPIPE.
    private void Shutdown()
    {
        if (Interlocked.Exchange(ref _shutDown, 1) != 0)
            return;
        try
        {
            SocketCalls.shutdown(_socket, SocketCalls.SHUT_RDWR);
        }
        catch (ObjectDisposedException)
        {
            // Disposed already: the fd is closed, which is more than a shutdown.
        }
    }

    // Cancelled on the thread pool, so the application's callbacks never run inside a loop's finally.
    // The task ends once they all returned: for Kestrel a connection whose DisposeAsync returned
    // is gone, so no callback of it may run later (its socket transport waits for them too).
    private Task FireConnectionClosed()
    {
        var fired = new TaskCompletionSource();
        ThreadPool.UnsafeQueueUserWorkItem(static state =>
        {
            try
            {
                state.Connection._closed.Cancel();
            }
            catch (Exception e)
            {
                LogClosedCallbackFailed(state.Connection._logger, state.Connection.ConnectionId, e);
            }
            state.Fired.SetResult();
        }, (Connection: this, Fired: fired), preferLocal: false);
        return fired.Task;
    }

    // A loop's end by error, logged, as the exception Kestrel expects on the pipe: a reset for the
    // peer's doing, an abort for anything else.
    private Exception Failed(Exception error)
    {
        LogConnectionError(_logger, ConnectionId, error.Message);
        return error is FdException { Errno: SocketCalls.ECONNRESET or SocketCalls.EPIPE or SocketCalls.ETIMEDOUT }
            ? new ConnectionResetException(error.Message, error)
            : new ConnectionAbortedException(error.Message, error);
    }

    private static string NextId()
    {
        long id = Interlocked.Increment(ref s_lastId);
        return string.Create(13, id, static (chars, value) =>
        {
            // Base 32, five bits a character, most significant first: short, sortable, URL-safe.
            const string Digits = "0123456789ABCDEFGHIJKLMNOPQRSTUV";
            for (int i = chars.Length - 1; i >= 0; i--, value >>= 5)
                chars[i] = Digits[(int)(value & 31)];
        });
    }

    [LoggerMessage(10, LogLevel.Debug, "connection {ConnectionId} ended: {Reason}")]
    private static partial void LogConnectionError(ILogger logger, string connectionId, string reason);

    [LoggerMessage(11, LogLevel.Error, "a ConnectionClosed callback of connection {ConnectionId} threw")]
    private static partial void LogClosedCallbackFailed(ILogger logger, string connectionId, Exception error);

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
