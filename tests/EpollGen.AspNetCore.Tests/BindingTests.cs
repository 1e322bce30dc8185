using System;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Threading.Tasks;
using EpollGen.AspNetCore.Native;
using Microsoft.AspNetCore.Connections;
using Xunit;

namespace EpollGen.AspNetCore.Tests;

/// <summary>Which addresses the transport binds, and how it refuses.</summary>
public sealed class BindingTests
{
    private static readonly TimeSpan Bound = TestApp.Bound;

    [Fact]
    public async Task Ipv6Loopback_IsServed()
    {
        if (!Socket.OSSupportsIPv6)
            return; // No IPv6 in this kernel: nothing to bind.
        await using TestApp app = await TestApp.StartAsync(IPAddress.IPv6Loopback);
        using HttpClient client = app.Client();

        Assert.Equal("[::1]", app.BaseAddress.Host);
        Assert.Equal("epollgen", await client.GetStringAsync("/transport").WaitAsync(Bound));
    }

    [Fact]
    public async Task Ipv6Any_TakesIpv4Too()
    {
        if (!Socket.OSSupportsIPv6)
            return; // No IPv6 in this kernel: nothing to bind.
        await using TestApp app = await TestApp.StartAsync(IPAddress.IPv6Any);
        using var client = new HttpClient { Timeout = Bound };

        Assert.Equal("epollgen", await client.GetStringAsync($"http://127.0.0.1:{app.Port}/transport").WaitAsync(Bound));
    }

    [Fact]
    public async Task PortInUse_FailsTheStart()
    {
        using var holder = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        holder.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        holder.Listen();
        int port = ((IPEndPoint)holder.LocalEndPoint!).Port;
        var factory = new EpollGenTransportFactory(
            Microsoft.Extensions.Options.Options.Create(new EpollGenTransportOptions()),
            Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);

        var error = await Assert.ThrowsAsync<AddressInUseException>(() => factory.BindAsync(new IPEndPoint(IPAddress.Loopback, port)).AsTask());

        Assert.Equal(98, Assert.IsType<FdException>(error.InnerException).Errno);
    }

    [Fact]
    public async Task Unbind_EndsAPendingAccept_AndRefusesConnections()
    {
        var factory = new EpollGenTransportFactory(
            Microsoft.Extensions.Options.Options.Create(new EpollGenTransportOptions()),
            Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);
        await using var listener = await factory.BindAsync(new IPEndPoint(IPAddress.Loopback, 0));
        int port = ((IPEndPoint)listener.EndPoint).Port;
        Assert.NotEqual(0, port);

        var accepting = listener.AcceptAsync().AsTask();
        Assert.False(accepting.IsCompleted);
        await listener.UnbindAsync();

        Assert.Null(await accepting.WaitAsync(Bound));
        using var late = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var refused = await Assert.ThrowsAsync<SocketException>(() => late.ConnectAsync(IPAddress.Loopback, port).WaitAsync(Bound));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
    }

    [Theory]
    [InlineData("127.0.0.1", 80)]
    [InlineData("0.0.0.0", 65535)]
    [InlineData("::1", 8080)]
    [InlineData("fe80::1%1", 443)]
    public void SocketAddress_RoundTrips(string address, int port)
    {
        var endPoint = new IPEndPoint(IPAddress.Parse(address), port);
        byte[] raw = new byte[SocketAddressCodec.MaxLength];

        int length = SocketAddressCodec.Write(endPoint, raw);

        Assert.Equal(endPoint.AddressFamily == AddressFamily.InterNetwork ? 16 : 28, length);
        Assert.Equal(endPoint, SocketAddressCodec.Read(raw.AsSpan(0, length)));
    }
}
