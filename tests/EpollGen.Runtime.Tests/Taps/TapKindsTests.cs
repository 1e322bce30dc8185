using System;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using EpollGen.Events;
using EpollGen.Interop;
using EpollGen.Runtime.Tests.Native;
using EpollGen.Taps;
using Xunit;
using static EpollGen.Runtime.Tests.Native.TestLibC;

namespace EpollGen.Runtime.Tests.Taps;

/// <summary>Taps on more kinds of file: a timerfd, and TCP sockets over loopback.</summary>
public abstract unsafe class TapKindsTests(TapBackendKind backend) : BackendTests(backend)
{
    [Fact]
    public void TimerFd_Expiry_PostsReadable_NotBefore()
    {
        using var queue = NewQueue();
        int fd = Check(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK), "timerfd_create");
        try
        {
            CeqId id = queue.Allocate();
            TapTests.Submit(new TapRequest(fd, TapCommand.Add, TapFilters.FDTAP_FILT_READABLE, queue, id));
            long* spec = stackalloc long[4] { 0, 0, 0, 60_000_000 }; // one shot in 60 ms
            var clock = Stopwatch.StartNew();
            Check(timerfd_settime(fd, 0, spec, null), "timerfd_settime");

            CeqMessage message = TapTests.WaitOne(queue);

            Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(59), $"fired after {clock.Elapsed.TotalMilliseconds} ms");
            Assert.Equal(id, message.Id);
            Assert.Equal(TapFilters.FDTAP_FILT_READABLE, (TapFilters)message.Bits);
        }
        finally
        {
            TestLibC.close(fd);
        }
    }

    [Fact]
    public void TcpLoopback_ListenerSeesAConnection_AndTheConnectionSeesData()
    {
        using var queue = NewQueue();
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        CeqId accepting = queue.Allocate(userData: 1);
        TapTests.Submit(new TapRequest((int)listener.Handle, TapCommand.Add, TapFilters.FDTAP_FILT_READABLE, queue, accepting));

        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Connect(listener.LocalEndPoint!);
        Assert.Equal(accepting, TapTests.WaitOne(queue).Id);

        using Socket server = listener.Accept();
        CeqId reading = queue.Allocate(userData: 2);
        TapTests.Submit(new TapRequest((int)server.Handle, TapCommand.Add, TapFilters.FDTAP_FILT_READABLE | TapFilters.FDTAP_FILT_RDHUP, queue, reading));
        TapTests.AssertNothing(queue);

        client.Send([1, 2, 3]);
        CeqMessage data = TapTests.WaitOne(queue);
        Assert.Equal(reading, data.Id);
        Assert.Equal(TapFilters.FDTAP_FILT_READABLE, (TapFilters)data.Bits);

        client.Shutdown(SocketShutdown.Send);
        Assert.True(((TapFilters)TapTests.WaitOne(queue).Bits).HasFlag(TapFilters.FDTAP_FILT_RDHUP));
    }
}

/// <summary><see cref="TapKindsTests"/> on the kernel-epoll backend.</summary>
public sealed class TapKindsTests_Epoll() : TapKindsTests(TapBackendKind.Epoll);

/// <summary><see cref="TapKindsTests"/> on the io_uring backend.</summary>
public sealed class TapKindsTests_IoUring() : TapKindsTests(TapBackendKind.IoUring);
