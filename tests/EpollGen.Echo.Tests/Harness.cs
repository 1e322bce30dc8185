using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using EpollGen.Echo.Server;
using Xunit;

namespace EpollGen.Echo.Tests;

/// <summary>
/// An EpollGen echo server in this process plus the fd count it should come back to. The baseline
/// is taken after one full echo, so fds a first connection opens lazily (in the runtime or the
/// sockets stack) are part of it, not mistaken for a leak.
/// </summary>
internal sealed class Harness : IDisposable
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);

    public Harness(EchoServerOptions? options = null)
    {
        Options = options ?? new EchoServerOptions { Loops = 2, OutputLimit = 16 * 1024 };
        Server = new EpollEchoServer(Options);
        using (Socket warm = Connect())
        {
            warm.Send([1]);
            byte[] one = new byte[1];
            Assert.Equal(1, warm.Receive(one));
        }
        Assert.True(WaitUntil(() => Server.ConnectionCount == 0), "the warm-up connection was not closed");
        BaselineFds = CountFds();
        _baselineLinks = FdLinks();
    }

    private readonly HashSet<string> _baselineLinks;

    public EchoServerOptions Options { get; }

    public EpollEchoServer Server { get; }

    public int BaselineFds { get; }

    public Socket Connect()
    {
        // Timeouts bound every blocking call, so a server bug fails the test instead of hanging it.
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveTimeout = 5000, SendTimeout = 5000 };
        socket.Connect(new IPEndPoint(IPAddress.Loopback, Server.Port));
        return socket;
    }

    /// <summary>Waits, polling, until the server has no connections and the fds are back to the baseline.</summary>
    public void AssertNothingLeaked()
    {
        bool settled = WaitUntil(() => Server.ConnectionCount == 0 && CountFds() == BaselineFds);
        if (!settled)
        {
            // Name what is new, so a leak report says what leaked.
            HashSet<string> now = FdLinks();
            now.ExceptWith(_baselineLinks);
            Assert.Fail($"connections {Server.ConnectionCount}, fds {CountFds()} (baseline {BaselineFds}); new: {string.Join(", ", now)}");
        }
    }

    public void Dispose() => Server.Dispose();

    private static HashSet<string> FdLinks()
    {
        var links = new HashSet<string>();
        foreach (string path in Directory.GetFileSystemEntries("/proc/self/fd"))
        {
            try
            {
                links.Add(Path.GetFileName(path) + "->" + new FileInfo(path).LinkTarget);
            }
            catch (IOException)
            {
                // The fd that listed the directory is gone by now.
            }
        }
        return links;
    }

    /// <summary>
    /// The process's open fds, less those naming a .dll: the runtime opens an assembly's file when
    /// it first loads it (System.Net.NameResolution turns up mid-test), and keeps it; that is code
    /// loading, not a leak, and no server path opens a file.
    /// </summary>
    public static int CountFds()
    {
        int count = 0;
        foreach (string path in Directory.GetFileSystemEntries("/proc/self/fd"))
        {
            string? target = null;
            try
            {
                target = new FileInfo(path).LinkTarget;
            }
            catch (IOException)
            {
                // The fd that listed the directory is gone by now; it is counted, as it always is.
            }
            if (target is null || !target.EndsWith(".dll", StringComparison.Ordinal))
                count++;
        }
        return count;
    }

    public static bool WaitUntil(Func<bool> condition, TimeSpan? bound = null)
    {
        long deadline = Stopwatch.GetTimestamp() + (long)((bound ?? Bound).TotalSeconds * Stopwatch.Frequency);
        while (!condition())
        {
            if (Stopwatch.GetTimestamp() > deadline)
                return false;
            Thread.Sleep(10);
        }
        return true;
    }

    /// <summary>Reads exactly <paramref name="buffer"/>.Length bytes or fails.</summary>
    public static void ReceiveExactly(Socket socket, Span<byte> buffer)
    {
        int got = 0;
        while (got < buffer.Length)
        {
            int n = socket.Receive(buffer[got..]);
            Assert.True(n > 0, $"the server closed after {got} of {buffer.Length} bytes");
            got += n;
        }
    }
}
