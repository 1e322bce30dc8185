using System;
using System.IO;
using System.Runtime.InteropServices;
using Xunit;

namespace EpollGen.Runtime.Tests.Taps;

/// <summary>Real file descriptors for tap tests, closed on dispose.</summary>
internal static unsafe class Fds
{
    public const int SHUT_WR = 1;

    [DllImport("libc", SetLastError = true)]
    private static extern int eventfd(uint initval, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int pipe2(int* fds, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int socketpair(int domain, int type, int protocol, int* fds);

    [DllImport("libc", SetLastError = true)]
    private static extern nint write(int fd, void* buffer, nuint count);

    [DllImport("libc", SetLastError = true)]
    private static extern nint read(int fd, void* buffer, nuint count);

    [DllImport("libc", SetLastError = true)]
    public static extern int close(int fd);

    [DllImport("libc", SetLastError = true)]
    public static extern int shutdown(int fd, int how);

    [DllImport("libc", SetLastError = true)]
    private static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    private const int O_CLOEXEC = 0x80000;
    private const int O_NONBLOCK = 0x800;

    public static int EventFd() => Check(eventfd(0, O_CLOEXEC | O_NONBLOCK), "eventfd");

    public static (int Read, int Write) Pipe()
    {
        int* fds = stackalloc int[2];
        Check(pipe2(fds, O_CLOEXEC | O_NONBLOCK), "pipe2");
        return (fds[0], fds[1]);
    }

    public static (int A, int B) SocketPair()
    {
        int* fds = stackalloc int[2];
        Check(socketpair(1 /* AF_UNIX */, 1 /* SOCK_STREAM */ | O_CLOEXEC | O_NONBLOCK, 0, fds), "socketpair");
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

    public static void Drain(int fd)
    {
        byte* buffer = stackalloc byte[4096];
        while (read(fd, buffer, 4096) > 0)
        {
        }
    }

    private static int Check(int result, string what)
    {
        if (result < 0)
            throw new IOException($"{what} failed with errno {Marshal.GetLastPInvokeError()}");
        return result;
    }
}
