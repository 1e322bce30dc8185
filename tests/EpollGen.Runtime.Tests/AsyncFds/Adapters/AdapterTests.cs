using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using EpollGen.Runtime.Tests.Native;
using EpollGen.Runtime.Tests.Taps;
using EpollGen.Taps;
using Microsoft.Win32.SafeHandles;
using Xunit;

namespace EpollGen.Runtime.Tests.AsyncFds.Adapters;

/// <summary>What the adapter tests share: fds closed after each test, AsyncFds on this variant's engines, bounded waits.</summary>
public abstract class AdapterTests(TapBackendKind backend) : BackendTests(backend), IDisposable
{
    protected static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    protected const int EBADF = 9;
    protected const int EAGAIN = 11;
    protected const int EINVAL = 22;
    protected const int ENOENT = 2;
    protected const int EPIPE = 32;
    protected const int ECONNRESET = 104;

    private readonly List<int> _fds = [];

    public virtual void Dispose()
    {
        foreach (int fd in _fds)
            TestLibC.close(fd);
    }

    /// <summary>Closes <paramref name="fd"/> when the test ends.</summary>
    protected int Track(int fd)
    {
        _fds.Add(fd);
        return fd;
    }

    /// <summary>A pipe whose two ends are closed when the test ends.</summary>
    protected (int Read, int Write) TrackedPipe()
    {
        (int read, int write) = TestLibC.Pipe();
        return (Track(read), Track(write));
    }

    /// <summary>An AsyncFd on this variant's engines (checked to be on its backend) that leaves the fd open.</summary>
    internal AsyncFd Wrap(int fd, AsyncFdInterest interest = AsyncFdInterest.ReadWrite) =>
        new(new SafeFileHandle(fd, ownsHandle: false), interest, ownsHandle: true, Engine(fd));

    /// <summary>The engine of this variant for <paramref name="fd"/>, checked to be on its backend.</summary>
    internal AsyncFdEngine Engine(int fd)
    {
        AsyncFdEngine engine = AsyncFdEngine.For(Backend, fd);
        Assert.Equal(Backend, engine.TapBackend);
        return engine;
    }

    /// <summary>Polls until <paramref name="condition"/> holds; fails the test after <see cref="Bound"/>.</summary>
    protected static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Bound;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not hold in time");
            await Task.Delay(1);
        }
    }

    /// <summary>Whether <paramref name="fd"/> polls writable within <see cref="Bound"/>.</summary>
    protected static unsafe bool PollsWritable(int fd)
    {
        var poll = new EpollGen.Interop.PollFd { fd = fd, events = (short)TestLibC.POLLOUT };
        return TestLibC.poll(&poll, 1, (int)Bound.TotalMilliseconds) == 1 && (poll.revents & (short)TestLibC.POLLOUT) != 0;
    }

    /// <summary>Writes one byte without asserting, for loops whose allocations are counted.</summary>
    protected static unsafe bool WriteOneByte(int fd)
    {
        byte value = 42;
        return TestLibC.write(fd, &value, 1) == 1;
    }

    /// <summary>Blocks until <paramref name="fd"/> polls readable; fails the test after <see cref="Bound"/>.</summary>
    protected static void UntilReadable(int fd) =>
        Assert.True(TestLibC.PollsReadable(fd, (int)Bound.TotalMilliseconds), $"fd {fd} did not turn readable in time");

}
