using System;
using System.Collections.Generic;
using System.Net.Sockets;
using System.Threading;
using EpollGen.Echo.Server;
using Xunit;

namespace EpollGen.Echo.Tests;

/// <summary>
/// Clients that misbehave: each case ends with the server holding no connection and the process
/// back to the fds it had before the case.
/// </summary>
public sealed class BadClientTests
{
    [Fact]
    public void Resets_close_their_connections()
    {
        using var harness = new Harness();
        var sockets = new List<Socket>();
        for (int i = 0; i < 32; i++)
        {
            Socket socket = harness.Connect();
            // Half of them reset with echoes still unread, so the server sees data then RST.
            socket.Send(new byte[i % 2 == 0 ? 10 : 4000]);
            sockets.Add(socket);
        }
        Assert.True(Harness.WaitUntil(() => harness.Server.ConnectionCount == 32));
        foreach (Socket socket in sockets)
        {
            socket.LingerState = new LingerOption(true, 0);
            socket.Close();
        }
        harness.AssertNothingLeaked();
    }

    [Fact]
    public void Half_close_still_gets_every_byte_back_then_the_server_closes()
    {
        using var harness = new Harness();
        using Socket socket = harness.Connect();
        // More than the output limit, so the server has to pause reading and resume on EPOLLOUT.
        byte[] sent = new byte[200_000];
        new Random(6).NextBytes(sent);
        // A thread of its own sends while this one reads: neither side's buffers have to hold it all.
        var sending = new Thread(() =>
        {
            for (int offset = 0; offset < sent.Length;)
                offset += socket.Send(sent, offset, Math.Min(8192, sent.Length - offset), SocketFlags.None);
            socket.Shutdown(SocketShutdown.Send);
        });
        sending.Start();
        byte[] received = new byte[sent.Length];
        Harness.ReceiveExactly(socket, received);
        Assert.True(sending.Join(Harness.Bound));
        Assert.Equal(sent, received);
        Assert.Equal(0, socket.Receive(new byte[1]));
        socket.Close();
        harness.AssertNothingLeaked();
    }

    [Fact]
    public void Slow_reader_is_held_to_the_output_limit_and_gets_everything()
    {
        using var harness = new Harness();
        using Socket socket = harness.Connect();
        // More than loopback's socket buffers can hold (a few MiB each way), so the sender must stall.
        const long Total = 48L << 20;
        byte[] pattern = new byte[128 * 1024];
        for (int i = 0; i < pattern.Length; i++)
            pattern[i] = (byte)(i * 7);
        const int Chunk = 64 * 1024;
        long sentBytes = 0;
        // Blocking sends on their own thread, so a stall shows as a count that stops moving.
        var sending = new Thread(() =>
        {
            for (long offset = 0; offset < Total;)
            {
                int n = socket.Send(pattern, 0, (int)Math.Min(Chunk, Total - offset), SocketFlags.None);
                offset += n;
                Interlocked.Add(ref sentBytes, n);
            }
        });
        sending.Start();
        // Reading nothing for a while: TCP and the output limit must stop the sender, not the
        // server's memory.
        Assert.True(Harness.WaitUntil(() =>
        {
            long before = Interlocked.Read(ref sentBytes);
            Thread.Sleep(200);
            return before > 0 && before == Interlocked.Read(ref sentBytes);
        }), "the sender never stalled");
        Assert.True(Interlocked.Read(ref sentBytes) < Total);
        Assert.InRange(harness.Server.MaxPending, 1, harness.Options.OutputLimit);

        byte[] buffer = new byte[Chunk];
        long received = 0;
        while (received < Total)
        {
            int n = socket.Receive(buffer);
            Assert.True(n > 0);
            // Every send was the first Chunk bytes of the pattern, so offset mod Chunk says where we are.
            int at = (int)(received % Chunk);
            Assert.True(buffer.AsSpan(0, n).SequenceEqual(pattern.AsSpan(at, n)), $"wrong bytes at {received}");
            received += n;
        }
        Assert.True(sending.Join(Harness.Bound));
        Assert.Equal(Total, received);
        Assert.InRange(harness.Server.MaxPending, 1, harness.Options.OutputLimit);
        socket.Close();
        harness.AssertNothingLeaked();
    }

    [Fact]
    public void Idle_connections_are_closed_and_busy_ones_kept()
    {
        using var harness = new Harness(new EchoServerOptions { Loops = 2, IdleTimeout = TimeSpan.FromMilliseconds(300) });
        var idle = new List<Socket>();
        for (int i = 0; i < 10; i++)
            idle.Add(harness.Connect());
        using Socket busy = harness.Connect();
        byte[] one = new byte[1];
        // The busy one talks every 50 ms for longer than the timeout and must survive it.
        for (int i = 0; i < 16; i++)
        {
            busy.Send(one);
            Harness.ReceiveExactly(busy, one);
            Thread.Sleep(50);
        }
        Assert.True(Harness.WaitUntil(() => harness.Server.ConnectionCount == 1), $"{harness.Server.ConnectionCount} connections left");
        foreach (Socket socket in idle)
        {
            Assert.Equal(0, socket.Receive(one));
            socket.Close();
        }
        busy.Send(one);
        Harness.ReceiveExactly(busy, one);
        busy.Close();
        harness.AssertNothingLeaked();
    }

    [Fact]
    public void Many_connects_and_disconnects_leave_nothing_behind()
    {
        using var harness = new Harness();
        byte[] message = new byte[100];
        for (int i = 0; i < 400; i++)
        {
            using Socket socket = harness.Connect();
            switch (i % 4)
            {
                case 0:
                    break;
                case 1:
                    socket.Send(message);
                    Harness.ReceiveExactly(socket, message);
                    break;
                case 2:
                    socket.Send(message);
                    socket.LingerState = new LingerOption(true, 0);
                    break;
                default:
                    socket.Send(message);
                    socket.Shutdown(SocketShutdown.Send);
                    break;
            }
        }
        // Connections may still sit in the accept queue: let the loops take them (a reset one can
        // be dropped by the kernel before accept, so this wait is allowed to run out), then count.
        Harness.WaitUntil(() => harness.Server.Accepted >= 401, TimeSpan.FromSeconds(1));
        harness.AssertNothingLeaked();
        // The hundred that waited for their echo were certainly accepted.
        Assert.True(harness.Server.Accepted > 100);
    }

    [Fact]
    public void Disposing_the_server_closes_its_connections_and_every_fd_it_opened()
    {
        // One server made and disposed first: EpollGen keeps a few fds per process (EpollSet's
        // probe set, made with the first set), and those are not this server's to close.
        new EpollEchoServer(new EchoServerOptions { Loops = 1 }).Dispose();
        int before = Harness.CountFds();
        var harness = new Harness();
        var sockets = new List<Socket>();
        for (int i = 0; i < 8; i++)
            sockets.Add(harness.Connect());
        Assert.True(Harness.WaitUntil(() => harness.Server.ConnectionCount == 8));
        harness.Dispose();
        Assert.Equal(0, harness.Server.ConnectionCount);
        foreach (Socket socket in sockets)
        {
            Assert.Equal(0, socket.Receive(new byte[1]));
            socket.Close();
        }
        Assert.True(Harness.WaitUntil(() => Harness.CountFds() <= before), $"fds {Harness.CountFds()}, before {before}");
    }
}
