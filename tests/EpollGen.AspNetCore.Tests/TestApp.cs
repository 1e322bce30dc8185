using System;
using System.Collections.Concurrent;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EpollGen.AspNetCore.Tests;

/// <summary>
/// A minimal app on EpollGen's transport, on a port the kernel picks: /id answers the connection
/// id, /ends the connection's local and remote endpoints, /transport whether the request came through EpollGen, /pool the connection's memory
/// pool type, /echo streams the request body back as it comes, /buffered-echo returns it once read whole,
/// /download?size=N sends N bytes of <see cref="Pattern"/>, /abort aborts its connection, /hold
/// waits for its request to be aborted.
/// </summary>
internal sealed class TestApp : IAsyncDisposable
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private readonly WebApplication _app;
    private readonly TaskCompletionSource<string> _held = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _heldAborted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _closed = new();
    private int _connections;
    private bool _stopped;

    private TestApp(WebApplication app) => _app = app;

    public Uri BaseAddress { get; private set; } = null!;

    public int Port => BaseAddress.Port;

    /// <summary>Connections Kestrel accepted, counted by connection middleware.</summary>
    public int Connections => Volatile.Read(ref _connections);

    public IServiceProvider Services => _app.Services;

    /// <summary>The connection id of the first /hold request, once it has started.</summary>
    public Task<string> RequestHeld => _held.Task;

    /// <summary>Completes when the first /hold request saw RequestAborted fire.</summary>
    public Task HeldRequestAborted => _heldAborted.Task;

    /// <summary>Completes when the transport fires ConnectionClosed for that connection.</summary>
    public Task ConnectionClosed(string connectionId) => Closed(connectionId).Task;

    public static async Task<TestApp> StartAsync(IPAddress? address = null)
    {
        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        TestApp? self = null;
        builder.WebHost.UseKestrelCore().ConfigureKestrel(o =>
            o.Listen(address ?? IPAddress.Loopback, 0, listen => listen.Use(next => connection =>
            {
                Interlocked.Increment(ref self!._connections);
                TaskCompletionSource closed = self.Closed(connection.ConnectionId);
                connection.ConnectionClosed.Register(() => closed.TrySetResult());
                return next(connection);
            })));
        builder.WebHost.UseEpollGen();
        builder.WebHost.UseShutdownTimeout(Bound);
        WebApplication app = builder.Build();
        self = new TestApp(app);
        app.Run(self.Handle);
        await app.StartAsync().WaitAsync(Bound);
        string bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        self.BaseAddress = new Uri(bound);
        return self;
    }

    /// <summary>Byte i of every download and upload.</summary>
    public static byte Pattern(long i) => (byte)(i * 31 + (i >> 12));

    public static byte[] PatternBytes(int size)
    {
        byte[] bytes = new byte[size];
        for (int i = 0; i < size; i++)
            bytes[i] = Pattern(i);
        return bytes;
    }

    /// <summary>A client that keeps one connection, so keep-alive reuse is observable.</summary>
    public HttpClient Client(int maxConnections = 1) =>
        new(new SocketsHttpHandler { MaxConnectionsPerServer = maxConnections, PooledConnectionIdleTimeout = Bound })
        {
            BaseAddress = BaseAddress,
            Timeout = Bound,
        };

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _stopped = true;
        await _app.StopAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stopped)
        {
            using var timeout = new CancellationTokenSource(Bound);
            await _app.StopAsync(timeout.Token);
        }
        await _app.DisposeAsync();
    }

    private TaskCompletionSource Closed(string connectionId) =>
        _closed.GetOrAdd(connectionId, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    private async Task Handle(HttpContext context)
    {
        switch (context.Request.Path.Value)
        {
            case "/id":
                await context.Response.WriteAsync(context.Connection.Id);
                break;
            case "/transport":
                bool epollGen = context.Features.Get<IEpollGenConnectionFeature>() is { Socket.IsInvalid: false };
                await context.Response.WriteAsync(epollGen ? "epollgen" : "other");
                break;
            case "/ends":
                await context.Response.WriteAsync($"{context.Connection.LocalIpAddress}:{context.Connection.LocalPort} {context.Connection.RemoteIpAddress}:{context.Connection.RemotePort}");
                break;
            case "/pool":
                await context.Response.WriteAsync(context.Features.Get<IMemoryPoolFeature>()?.MemoryPool.GetType().Name ?? "none");
                break;
            case "/echo":
                context.Response.ContentLength = context.Request.ContentLength;
                await context.Request.Body.CopyToAsync(context.Response.Body, context.RequestAborted);
                break;
            case "/buffered-echo":
                var body = new MemoryStream();
                await context.Request.Body.CopyToAsync(body, context.RequestAborted);
                context.Response.ContentLength = body.Length;
                await context.Response.Body.WriteAsync(body.GetBuffer().AsMemory(0, (int)body.Length), context.RequestAborted);
                break;
            case "/download":
                await Download(context, long.Parse(context.Request.Query["size"]!, System.Globalization.CultureInfo.InvariantCulture));
                break;
            case "/abort":
                context.Abort();
                break;
            case "/hold":
                var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                using (context.RequestAborted.Register(() => aborted.TrySetResult()))
                {
                    _held.TrySetResult(context.Connection.Id);
                    await aborted.Task.WaitAsync(Bound);
                }
                _heldAborted.TrySetResult();
                break;
            default:
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                break;
        }
    }

    private static async Task Download(HttpContext context, long size)
    {
        context.Response.ContentLength = size;
        long sent = 0;
        while (sent < size)
        {
            Memory<byte> block = context.Response.BodyWriter.GetMemory(16 * 1024);
            int length = (int)Math.Min(block.Length, size - sent);
            for (int i = 0; i < length; i++)
                block.Span[i] = Pattern(sent + i);
            context.Response.BodyWriter.Advance(length);
            sent += length;
            await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
        }
    }
}
