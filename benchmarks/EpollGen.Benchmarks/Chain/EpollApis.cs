using System;
using System.Runtime.InteropServices;

namespace EpollGen.Benchmarks.Chain;

/// <summary>
/// The epoll calls a workload makes, bound at compile time (static abstract members), so the raw
/// and EpollGen runs differ only in what the calls do.
/// </summary>
internal unsafe interface IEpollApi
{
    static abstract string Name { get; }

    static abstract int Create();

    static abstract int Ctl(int epfd, int op, int fd, void* ev);

    static abstract int Wait(int epfd, void* events, int maxEvents, int timeout);

    static abstract int Close(int fd);
}

/// <summary>The kernel's epoll called straight from C#: the baseline.</summary>
internal readonly unsafe partial struct RawEpoll : IEpollApi
{
    public static string Name => "raw epoll";

    public static int Create() => epoll_create1(0x80000);

    public static int Ctl(int epfd, int op, int fd, void* ev) => epoll_ctl(epfd, op, fd, ev);

    public static int Wait(int epfd, void* events, int maxEvents, int timeout) => epoll_wait(epfd, events, maxEvents, timeout);

    public static int Close(int fd) => Sys.close(fd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int epoll_create1(int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int epoll_ctl(int epfd, int op, int fd, void* ev);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int epoll_wait(int epfd, void* events, int maxEvents, int timeout);
}

/// <summary>EpollGen's libc-shaped API: the same calls, served by an EpollSet.</summary>
internal readonly unsafe struct EpollGenEpoll : IEpollApi
{
    public static string Name => "EpollGen";

    /// <summary>
    /// The tap backend of the sets created next: "epoll", "io_uring", or "io_uring+trust" (io_uring
    /// taps, and the set trusts them: EPOLLGEN_TRUST_TAPS=1).
    /// </summary>
    public static string Backend { get; set; } = "epoll";

    // The libc-shaped API picks the backend and the trust from the environment when a set is created.
    public static int Create()
    {
        bool trust = Backend.EndsWith("+trust", StringComparison.Ordinal);
        Environment.SetEnvironmentVariable("EPOLLGEN_TAP_BACKEND", trust ? Backend[..^"+trust".Length] : Backend);
        Environment.SetEnvironmentVariable(Epoll.TrustTapsVariable, trust ? "1" : null);
        return Epoll.epoll_create1(Epoll.EPOLL_CLOEXEC);
    }

    public static int Ctl(int epfd, int op, int fd, void* ev) => Epoll.epoll_ctl(epfd, op, fd, ev);

    public static int Wait(int epfd, void* events, int maxEvents, int timeout) => Epoll.epoll_wait(epfd, events, maxEvents, timeout);

    public static int Close(int fd) => Epoll.close(fd);
}

/// <summary>The socket calls of the workload.</summary>
internal static unsafe partial class Sys
{
    public const int EAGAIN = 11;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int socketpair(int domain, int type, int protocol, int* fds);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint recv(int fd, void* buffer, nuint length, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint send(int fd, void* buffer, nuint length, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int eventfd(uint initial, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int pipe2(int* fds, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint read(int fd, void* buffer, nuint length);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint write(int fd, void* buffer, nuint length);
}
