using Xunit;
using static EpollGen.Runtime.Tests.Native.TestLibC;

namespace EpollGen.Runtime.Tests.Taps;

/// <summary>Real, non-blocking, close-on-exec file descriptors for tap tests.</summary>
internal static unsafe class Fds
{
    public static int EventFd() => Check(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), "eventfd");

    public static (int Read, int Write) Pipe()
    {
        int* fds = stackalloc int[2];
        Check(pipe2(fds, O_CLOEXEC | O_NONBLOCK), "pipe2");
        return (fds[0], fds[1]);
    }

    public static (int A, int B) SocketPair()
    {
        int* fds = stackalloc int[2];
        Check(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds), "socketpair");
        return (fds[0], fds[1]);
    }

    public static int OpenRegularFile(string path) => Check(open(path, O_CLOEXEC), "open");

    public static void Signal(int eventFd)
    {
        ulong one = 1;
        Assert.Equal(8, (int)write(eventFd, &one, 8));
    }

    public static void WriteByte(int fd)
    {
        byte b = 42;
        Assert.Equal(1, (int)write(fd, &b, 1));
    }

    public static void ReadByte(int fd)
    {
        byte b;
        Assert.Equal(1, (int)read(fd, &b, 1));
    }
}
