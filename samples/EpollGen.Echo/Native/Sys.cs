using System.Runtime.InteropServices;

namespace EpollGen.Echo.Native;

/// <summary>
/// The few libc socket calls the echo server and the load generator make on raw fds. Raw fds, not
/// <see cref="System.Net.Sockets.Socket"/>, because the point is an event loop that owns its fds end
/// to end: .NET's Socket would register each one with its own epoll engine the first time an
/// asynchronous call touched it, and its blocking/non-blocking bookkeeping would fight ours.
/// </summary>
public static unsafe partial class Sys
{
    public const int AF_INET = 2;
    public const int SOCK_STREAM = 1;
    public const int SOCK_NONBLOCK = 0x800;
    public const int SOCK_CLOEXEC = 0x80000;
    public const int SOL_SOCKET = 1;
    public const int SO_REUSEADDR = 2;
    public const int SO_LINGER = 13;
    public const int SO_REUSEPORT = 15;
    public const int IPPROTO_TCP = 6;
    public const int TCP_NODELAY = 1;
    public const int MSG_NOSIGNAL = 0x4000;
    public const int SHUT_WR = 1;
    public const int F_GETFL = 3;
    public const int F_SETFL = 4;
    public const int O_NONBLOCK = 0x800;
    public const int EFD_NONBLOCK = 0x800;
    public const int EFD_CLOEXEC = 0x80000;
    public const int EPOLL_CLOEXEC = 0x80000;
    public const int EPOLL_CTL_ADD = 1;

    public const int EINTR = 4;
    public const int EAGAIN = 11;
    public const int ENFILE = 23;
    public const int EMFILE = 24;
    public const int EPIPE = 32;
    public const int ECONNABORTED = 103;
    public const int ECONNRESET = 104;
    public const int ENOBUFS = 105;
    public const int ENOMEM = 12;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int socket(int domain, int type, int protocol);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int setsockopt(int fd, int level, int name, void* value, uint length);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int bind(int fd, SockAddrIn* address, uint length);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int connect(int fd, SockAddrIn* address, uint length);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int listen(int fd, int backlog);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int accept4(int fd, SockAddrIn* address, uint* length, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int getsockname(int fd, SockAddrIn* address, uint* length);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint recv(int fd, byte* buffer, nuint length, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint send(int fd, byte* buffer, nuint length, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint read(int fd, void* buffer, nuint length);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint write(int fd, void* buffer, nuint length);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int shutdown(int fd, int how);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int fcntl(int fd, int command, int argument);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int eventfd(uint initial, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int epoll_create1(int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int epoll_ctl(int epfd, int op, int fd, void* ev);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int epoll_wait(int epfd, void* events, int maxEvents, int timeoutMs);

    public static int Errno => Marshal.GetLastPInvokeError();

    public static int SetInt(int fd, int level, int name, int value) => setsockopt(fd, level, name, &value, sizeof(int));

    public static bool SetNonBlocking(int fd)
    {
        int flags = fcntl(fd, F_GETFL, 0);
        return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
    }
}

/// <summary><c>struct sockaddr_in</c>; port and address in network byte order.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct SockAddrIn
{
    public ushort Family;
    public ushort PortBigEndian;
    public uint AddressBigEndian;
    public ulong Zero;

    public static SockAddrIn Loopback(int port) => new()
    {
        Family = Sys.AF_INET,
        PortBigEndian = System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((ushort)port),
        AddressBigEndian = System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(0x7F000001u),
    };

    public static SockAddrIn Any(int port) => new()
    {
        Family = Sys.AF_INET,
        PortBigEndian = System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((ushort)port),
    };

    public readonly int Port => System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(PortBigEndian);
}
