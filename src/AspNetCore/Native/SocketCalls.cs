using System.Runtime.InteropServices;

namespace EpollGen.AspNetCore.Native;

/// <summary>The socket calls the transport makes, with Linux's constants (x86_64 and arm64 agree on all of them).</summary>
internal static unsafe partial class SocketCalls
{
    public const int AF_INET = 2;
    public const int AF_INET6 = 10;
    public const int SOCK_STREAM = 1;
    public const int SOCK_NONBLOCK = 0x800;
    public const int SOCK_CLOEXEC = 0x80000;
    public const int SOL_SOCKET = 1;
    public const int SO_REUSEADDR = 2;
    public const int IPPROTO_TCP = 6;
    public const int TCP_NODELAY = 1;
    public const int IPPROTO_IPV6 = 41;
    public const int IPV6_V6ONLY = 26;
    public const int SHUT_RDWR = 2;

    public const int EPERM = 1;
    public const int EINTR = 4;
    public const int EAGAIN = 11;
    public const int ENOMEM = 12;
    public const int EACCES = 13;
    public const int EINVAL = 22;
    public const int ENFILE = 23;
    public const int EMFILE = 24;
    public const int EPIPE = 32;
    public const int ENONET = 64;
    public const int EPROTO = 71;
    public const int ENOPROTOOPT = 92;
    public const int EOPNOTSUPP = 95;
    public const int EAFNOSUPPORT = 97;
    public const int EADDRINUSE = 98;
    public const int EADDRNOTAVAIL = 99;
    public const int ENETDOWN = 100;
    public const int ENETUNREACH = 101;
    public const int ECONNABORTED = 103;
    public const int ECONNRESET = 104;
    public const int ENOBUFS = 105;
    public const int ETIMEDOUT = 110;
    public const int EHOSTDOWN = 112;
    public const int EHOSTUNREACH = 113;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int socket(int domain, int type, int protocol);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int bind(SafeHandle fd, byte* address, int length);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int listen(SafeHandle fd, int backlog);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int accept4(SafeHandle fd, byte* address, int* length, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int setsockopt(SafeHandle fd, int level, int name, int* value, int length);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int getsockname(SafeHandle fd, byte* address, int* length);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int shutdown(SafeHandle fd, int how);

    /// <summary>By number: called only from AsyncFd's TryIo, whose AsyncFd holds the handle open.</summary>
    [LibraryImport("libc", SetLastError = true)]
    public static partial nint writev(int fd, IoVector* vectors, int count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);

    /// <summary>setsockopt for an int option; the errno when it fails, else 0.</summary>
    public static int SetOption(SafeHandle fd, int level, int name, int value) =>
        setsockopt(fd, level, name, &value, sizeof(int)) == 0 ? 0 : Marshal.GetLastPInvokeError();
}
