using System;
using System.Net;
using System.Net.Sockets;
using EpollGen.Echo.Baseline;
using EpollGen.Echo.Load;
using EpollGen.Echo.Server;
using Xunit;

namespace EpollGen.Echo.Tests;

/// <summary>The load generator, briefly, against both servers: traffic flows and nothing fails.</summary>
public sealed class EndToEndTests
{
    [Fact]
    public void Load_against_the_EpollGen_server_completes_without_errors()
    {
        using var server = new EpollEchoServer(new EchoServerOptions { Loops = 2 });
        AssertRuns(server);
    }

    [Fact]
    public void Load_against_the_Socket_server_completes_without_errors()
    {
        using var server = new SocketEchoServer();
        AssertRuns(server);
    }

    private static void AssertRuns(IEchoServer server)
    {
        // One echo first, so a cold server's first accept and JIT are not charged to the short run.
        using (var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 5000 })
        {
            socket.Connect(new IPEndPoint(IPAddress.Loopback, server.Port));
            socket.Send([7]);
            Assert.Equal(1, socket.Receive(new byte[1]));
        }
        int reports = 0;
        LoadResult result = LoadGenerator.Run(new LoadOptions
        {
            Port = server.Port,
            Connections = 16,
            MessageSize = 300,
            Duration = TimeSpan.FromSeconds(1),
            Warmup = TimeSpan.FromSeconds(0.3),
            Threads = 2,
        }, _ => reports++);
        Assert.True(result.Requests > 0);
        Assert.Equal(0, result.Errors);
        Assert.Equal(result.Requests, result.Latency.Count);
        Assert.True(result.Latency.Microseconds(0.5) > 0);
        Assert.True(reports > 0);
        Assert.True(Harness.WaitUntil(() => server.ConnectionCount == 0), $"{server.ConnectionCount} connections left");
    }
}
