using System;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using EpollGen.Interop;
using EpollGen.Taps;
using Xunit;

namespace EpollGen.Runtime.Tests.AsyncFds.Review;

public sealed class StickyHangUpTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    // Finding: a TCP socket wrapped before connect(2) (the usual nonblocking-connect pattern) is
    // reported EPOLLOUT|EPOLLHUP at ADD (state TCP_CLOSE). AsyncFd never clears HUP, and HUP is in
    // the read bits, so once connected the socket stays "readable" forever: ReadableAsync never
    // waits, and ReadAsync spins on EAGAIN.
    [Fact]
    public async Task SocketWrappedBeforeConnect_WaitsForData_OnceConnected()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { Blocking = false };
        int fd = (int)client.SafeHandle.DangerousGetHandle();
        using var asyncFd = new AsyncFd(client.SafeHandle, AsyncFdInterest.ReadWrite, ownsHandle: false, AsyncFdEngine.For(TapBackendKind.Epoll, fd));

        AsyncFdReadyGuard initial = await asyncFd.WritableAsync().AsTask().WaitAsync(Bound);
        try
        {
            client.Connect(listener.LocalEndPoint!);
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress)
        {
        }
        using Socket server = listener.Accept();
        SpinWait.SpinUntil(() => client.Connected || client.Poll(0, SelectMode.SelectWrite), Bound);

        // Connected, nothing sent: a read must wait.
        ValueTask<AsyncFdReadyGuard> readable = asyncFd.ReadableAsync();
        bool completed = readable.IsCompleted;
        EpollEvents seen = completed ? (await readable).Ready : 0;
        Assert.False(completed, $"ReadableAsync completed on a connected idle socket with {seen} (initial ADD report: {initial.Ready})");
    }
}
