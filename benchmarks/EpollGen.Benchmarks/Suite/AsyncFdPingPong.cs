using System;
using System.Diagnostics;
using System.IO;
using System.IO.Pipes;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using EpollGen.Benchmarks.Chain;
using EpollGen.Interop;
using EpollGen.Taps;
using Microsoft.Win32.SafeHandles;

namespace EpollGen.Benchmarks.Suite;

/// <summary>
/// One run of the AsyncFd section's ping-pong: two ends pass a message of a fixed size back and
/// forth, over an AF_UNIX socketpair or over two pipes (one per direction), through one of the
/// implementations <see cref="AsyncFdComparison"/> compares.
/// </summary>
internal static partial class AsyncFdPingPong
{
    private const int AF_UNIX = 1;
    private const int SOCK_STREAM = 1;
    private const int O_NONBLOCK = 0x800;
    private const int O_CLOEXEC = 0x80000;

    /// <summary>The timed part of a run: the round-trip rate, and what the whole process allocated per round trip meanwhile.</summary>
    public readonly record struct Result(double RoundTripsPerSecond, double BytesPerRoundTrip);

    public enum Transport
    {
        SocketPair,
        Pipes,
    }

    /// <summary>How a run's ends wait and move bytes.</summary>
    public enum Kind
    {
        /// <summary>.NET's own async API for the transport: Socket, or the anonymous PipeStreams.</summary>
        DotNet,

        /// <summary>AsyncFd on engines whose sets use kernel-epoll taps.</summary>
        AsyncFdEpoll,

        /// <summary>AsyncFd on engines whose sets use io_uring taps.</summary>
        AsyncFdIoUring,

        /// <summary>A thread per end blocking in epoll_wait, then read or write, unpinned as the thread pool is.</summary>
        RawEpoll,

        /// <summary><see cref="RawEpoll"/> with both threads on one CPU: each hop a switch on that CPU, no cross-CPU wake-up.</summary>
        RawEpollOneCpu,
    }

    /// <summary>
    /// Runs a tenth of <paramref name="roundTrips"/> untimed, then <paramref name="roundTrips"/>
    /// timed, of <paramref name="size"/>-byte messages.
    /// </summary>
    public static Result Measure(Kind kind, Transport transport, int size, int roundTrips) => kind switch
    {
        Kind.DotNet when transport == Transport.SocketPair => DotNetSockets(size, roundTrips),
        Kind.DotNet => DotNetPipeStreams(size, roundTrips),
        Kind.AsyncFdEpoll => AsyncFds(TapBackendKind.Epoll, transport, size, roundTrips),
        Kind.AsyncFdIoUring => AsyncFds(TapBackendKind.IoUring, transport, size, roundTrips),
        Kind.RawEpoll => RawEpollThreads(transport, size, roundTrips, cpu: null),
        Kind.RawEpollOneCpu => RawEpollThreads(transport, size, roundTrips, cpu: Environment.ProcessorCount - 1),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    private static Result DotNetSockets(int size, int roundTrips)
    {
        // Blocking, as .NET's own sockets start: the first async call makes them nonblocking.
        (int first, int second) = SocketPair(O_CLOEXEC);
        using var ping = new Socket(new SafeSocketHandle(first, ownsHandle: true));
        using var pong = new Socket(new SafeSocketHandle(second, ownsHandle: true));
        return RunAsync(new SocketEnd(ping), new SocketEnd(pong), size, roundTrips);
    }

    private static Result DotNetPipeStreams(int size, int roundTrips)
    {
        using var pingOut = new AnonymousPipeServerStream(PipeDirection.Out, HandleInheritability.None);
        using var pongIn = new AnonymousPipeClientStream(PipeDirection.In, pingOut.ClientSafePipeHandle);
        using var pongOut = new AnonymousPipeServerStream(PipeDirection.Out, HandleInheritability.None);
        using var pingIn = new AnonymousPipeClientStream(PipeDirection.In, pongOut.ClientSafePipeHandle);
        return RunAsync(new StreamEnd(pingIn, pingOut), new StreamEnd(pongIn, pongOut), size, roundTrips);
    }

    private static Result AsyncFds(TapBackendKind backend, Transport transport, int size, int roundTrips)
    {
        (EndFds ping, EndFds pong) = Open(transport);
        AsyncFdEnd pingEnd = Wrap(backend, ping), pongEnd = Wrap(backend, pong);
        try
        {
            return RunAsync(pingEnd, pongEnd, size, roundTrips);
        }
        finally
        {
            pingEnd.Dispose();
            pongEnd.Dispose();
        }
    }

    private static AsyncFdEnd Wrap(TapBackendKind backend, EndFds fds)
    {
        if (fds.Read == fds.Write)
        {
            AsyncFd both = WrapOne(backend, fds.Read, AsyncFdInterest.ReadWrite);
            return new AsyncFdEnd(both, both);
        }
        return new AsyncFdEnd(WrapOne(backend, fds.Read, AsyncFdInterest.Readable), WrapOne(backend, fds.Write, AsyncFdInterest.Writable));
    }

    // The engines of the named backend rather than the default ones, which follow whatever
    // EPOLLGEN_TAP_BACKEND the sections before this one left set.
    private static AsyncFd WrapOne(TapBackendKind backend, int fd, AsyncFdInterest interest) =>
        new(new SafeFileHandle(fd, ownsHandle: true), interest, ownsHandle: true, AsyncFdEngine.For(backend, fd));

    private static Result RunAsync<TEnd>(TEnd ping, TEnd pong, int size, int roundTrips)
        where TEnd : IPingPongEnd
    {
        int warmUp = roundTrips / 10;
        Task echo = Task.Run(() => Pong(pong, size, warmUp + roundTrips));
        Result result = Task.Run(() => Ping(ping, size, warmUp, roundTrips)).GetAwaiter().GetResult();
        echo.GetAwaiter().GetResult();
        return result;
    }

    private static async Task<Result> Ping<TEnd>(TEnd end, int size, int warmUp, int roundTrips)
        where TEnd : IPingPongEnd
    {
        var message = new byte[size];
        var window = default(Window);
        for (int i = 0; i < warmUp + roundTrips; i++)
        {
            if (i == warmUp)
                window = Window.Open();
            await end.SendAsync(message).ConfigureAwait(false);
            for (int got = 0; got < size;)
                got += Received(await end.ReceiveAsync(message.AsMemory(got)).ConfigureAwait(false));
        }
        return window.Close(roundTrips);
    }

    private static async Task Pong<TEnd>(TEnd end, int size, int roundTrips)
        where TEnd : IPingPongEnd
    {
        var message = new byte[size];
        for (int i = 0; i < roundTrips; i++)
        {
            for (int got = 0; got < size;)
                got += Received(await end.ReceiveAsync(message.AsMemory(got)).ConfigureAwait(false));
            await end.SendAsync(message).ConfigureAwait(false);
        }
    }

    private static int Received(int bytes) =>
        bytes > 0 ? bytes : throw new InvalidOperationException("the peer closed its end mid-run");

    private static Result RawEpollThreads(Transport transport, int size, int roundTrips, int? cpu)
    {
        (EndFds ping, EndFds pong) = Open(transport);
        try
        {
            int warmUp = roundTrips / 10;
            Result result = default;
            var pongThread = new Thread(() => RawEnd(pong, size, warmUp, roundTrips, sendsFirst: false, cpu)) { Name = "raw epoll pong" };
            var pingThread = new Thread(() => result = RawEnd(ping, size, warmUp, roundTrips, sendsFirst: true, cpu)) { Name = "raw epoll ping" };
            pongThread.Start();
            pingThread.Start();
            pingThread.Join();
            pongThread.Join();
            return result;
        }
        finally
        {
            Close(ping);
            Close(pong);
        }
    }

    // Each hop is the fewest calls epoll allows: a write, then epoll_wait (level-triggered, so a
    // message that came in pieces wakes it again) and a read, until the message is in. The end
    // that sends first times the run.
    private static unsafe Result RawEnd(EndFds fds, int size, int warmUp, int roundTrips, bool sendsFirst, int? cpu)
    {
        if (cpu is { } only)
        {
            ulong mask = 1UL << only;
            Check(sched_setaffinity(0, sizeof(ulong), &mask) == 0, "sched_setaffinity");
        }
        int epfd = RawEpoll.Create();
        Check(epfd >= 0, "epoll_create1");
        byte* registration = stackalloc byte[EpollEvent.Size];
        EpollEvent.WriteNative(registration, 0, new EpollEvent { Events = EpollEvents.EPOLLIN, data = (ulong)fds.Read });
        Check(RawEpoll.Ctl(epfd, 1, fds.Read, registration) == 0, "EPOLL_CTL_ADD");
        byte* ready = stackalloc byte[EpollEvent.Size];
        byte* message = stackalloc byte[size];
        var window = default(Window);
        try
        {
            for (int i = 0; i < warmUp + roundTrips; i++)
            {
                if (i == warmUp && sendsFirst)
                    window = Window.Open();
                if (sendsFirst)
                    RawSend(fds.Write, message, size);
                for (int got = 0; got < size;)
                {
                    if (RawEpoll.Wait(epfd, ready, 1, -1) < 1)
                        continue;
                    nint bytes = Sys.read(fds.Read, message + got, (nuint)(size - got));
                    if (bytes < 0 && Marshal.GetLastPInvokeError() == Sys.EAGAIN)
                        continue;
                    Check(bytes >= 0, "read");
                    got += Received((int)bytes);
                }
                if (!sendsFirst)
                    RawSend(fds.Write, message, size);
            }
            return sendsFirst ? window.Close(roundTrips) : default;
        }
        finally
        {
            Sys.close(epfd);
        }
    }

    // One message is in flight at a time and the peer has read the last one, so the socket's or
    // pipe's buffer (far larger than a message) takes it whole.
    private static unsafe void RawSend(int fd, byte* message, int size) =>
        Check(Sys.write(fd, message, (nuint)size) == size, "write of a whole message");

    /// <summary>Two ends' fds, nonblocking: one socket each, or each end's read end of one pipe and write end of the other.</summary>
    private readonly record struct EndFds(int Read, int Write);

    private static (EndFds Ping, EndFds Pong) Open(Transport transport)
    {
        if (transport == Transport.SocketPair)
        {
            (int first, int second) = SocketPair(O_NONBLOCK | O_CLOEXEC);
            return (new EndFds(first, first), new EndFds(second, second));
        }
        (int pongReads, int pingWrites) = Pipe();
        (int pingReads, int pongWrites) = Pipe();
        return (new EndFds(pingReads, pingWrites), new EndFds(pongReads, pongWrites));
    }

    private static void Close(EndFds fds)
    {
        Sys.close(fds.Read);
        if (fds.Write != fds.Read)
            Sys.close(fds.Write);
    }

    private static unsafe (int, int) SocketPair(int flags)
    {
        int* pair = stackalloc int[2];
        Check(Sys.socketpair(AF_UNIX, SOCK_STREAM | flags, 0, pair) == 0, "socketpair");
        return (pair[0], pair[1]);
    }

    private static unsafe (int Read, int Write) Pipe()
    {
        int* ends = stackalloc int[2];
        Check(Sys.pipe2(ends, O_NONBLOCK | O_CLOEXEC) == 0, "pipe2");
        return (ends[0], ends[1]);
    }

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int sched_setaffinity(int pid, nuint size, ulong* mask);

    private static void Check(bool ok, string what)
    {
        if (!ok)
            throw new InvalidOperationException($"{what} failed: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>The clock and the process's allocation count at the start of the timed round trips.</summary>
    private readonly record struct Window(long Start, long Allocated)
    {
        // Precise: the count then includes what other threads (the thread pool, the engines) have
        // allocated in their current allocation contexts, not only what filled a context.
        public static Window Open() => new(Stopwatch.GetTimestamp(), GC.GetTotalAllocatedBytes(precise: true));

        public Result Close(int roundTrips)
        {
            double seconds = Stopwatch.GetElapsedTime(Start).TotalSeconds;
            long allocated = GC.GetTotalAllocatedBytes(precise: true) - Allocated;
            return new Result(roundTrips / seconds, (double)allocated / roundTrips);
        }
    }

    /// <summary>An end's two calls; the loops are generic over it, so each implementation's calls are bound directly.</summary>
    private interface IPingPongEnd
    {
        ValueTask SendAsync(ReadOnlyMemory<byte> message);

        ValueTask<int> ReceiveAsync(Memory<byte> buffer);
    }

    private readonly struct SocketEnd(Socket socket) : IPingPongEnd
    {
        // Socket.SendAsync sends the whole message on a stream socket; its count says nothing more.
        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
        public async ValueTask SendAsync(ReadOnlyMemory<byte> message) =>
            await socket.SendAsync(message, SocketFlags.None).ConfigureAwait(false);

        public ValueTask<int> ReceiveAsync(Memory<byte> buffer) => socket.ReceiveAsync(buffer, SocketFlags.None);
    }

    private readonly struct StreamEnd(Stream reads, Stream writes) : IPingPongEnd
    {
        public ValueTask SendAsync(ReadOnlyMemory<byte> message) => writes.WriteAsync(message);

        public ValueTask<int> ReceiveAsync(Memory<byte> buffer) => reads.ReadAsync(buffer);
    }

    private readonly struct AsyncFdEnd(AsyncFd reads, AsyncFd writes) : IPingPongEnd, IDisposable
    {
        public ValueTask SendAsync(ReadOnlyMemory<byte> message) => writes.WriteAsync(message);

        public ValueTask<int> ReceiveAsync(Memory<byte> buffer) => reads.ReadAsync(buffer);

        public void Dispose()
        {
            reads.Dispose();
            writes.Dispose();
        }
    }
}
