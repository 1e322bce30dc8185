using System;
using System.Runtime.InteropServices;
using Xunit;

namespace EpollGen.Runtime.Tests.Native;

/// <summary>The libc calls the io_uring tests make to create and poke file descriptors.</summary>
internal static unsafe partial class TestLibC
{
    public const int EFD_NONBLOCK = 0x800;
    public const int EFD_CLOEXEC = 0x80000;
    public const int O_NONBLOCK = 0x800;
    public const int O_CLOEXEC = 0x80000;
    public const int AF_UNIX = 1;
    public const int SOCK_STREAM = 1;
    public const int SOCK_NONBLOCK = 0x800;
    public const int SOCK_CLOEXEC = 0x80000;
    public const int F_GETFD = 1;
    public const int F_DUPFD_CLOEXEC = 1030;
    public const int FD_CLOEXEC = 1;
    public const int SIGURG = 23;
    public const int SHUT_WR = 1;

    public const uint POLLIN = 0x001;
    public const uint POLLOUT = 0x004;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int eventfd(uint initialValue, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int epoll_create1(int flags);

    [LibraryImport("libc")]
    public static partial int pthread_sigmask(int how, void* set, void* oldSet);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int epoll_ctl(int epfd, int op, int fd, void* ev);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int epoll_wait(int epfd, void* events, int maxEvents, int timeout);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int poll(void* fds, nuint count, int timeout);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int pipe2(int* fds, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int socketpair(int domain, int type, int protocol, int* fds);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint read(int fd, void* buffer, nuint count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint write(int fd, void* buffer, nuint count);

    public const int PROT_READ = 1;
    public const int MAP_PRIVATE = 0x02;
    public const int MAP_ANONYMOUS = 0x20;

    [LibraryImport("libc", SetLastError = true)]
    public static partial void* mmap(void* address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int munmap(void* address, nuint length);


    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int dup2(int oldfd, int newfd);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int shutdown(int fd, int how);

    public const int EPIPE = 32;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int poll(EpollGen.Interop.PollFd* fds, nuint count, int timeoutMs);

    /// <summary>True when poll(2) reports <paramref name="fd"/> readable within <paramref name="timeoutMs"/>.</summary>
    public static bool PollsReadable(int fd, int timeoutMs)
    {
        EpollGen.Interop.PollFd pfd = default;
        pfd.fd = fd;
        pfd.events = (short)POLLIN;
        int ready;
        while ((ready = poll(&pfd, 1, timeoutMs)) < 0)
        {
            // EINTR: a signal (the runtime's own, say) interrupted the wait; the bound only grows.
            if (Marshal.GetLastPInvokeError() != 4)
                Assert.Fail($"poll failed with errno {Marshal.GetLastPInvokeError()}");
        }
        return ready == 1 && (pfd.revents & (short)POLLIN) != 0;
    }

    public const int CLOCK_MONOTONIC = 1;
    public const int TFD_CLOEXEC = 0x80000;
    public const int TFD_NONBLOCK = 0x800;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int timerfd_create(int clock, int flags);

    // struct itimerspec is four longs on LP64: interval (sec, nsec), value (sec, nsec).
    [LibraryImport("libc", SetLastError = true)]
    public static partial int timerfd_settime(int fd, int flags, long* newValue, long* oldValue);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int open(string path, int flags);

    // fcntl is variadic; F_GETFD reads no third argument, so passing 0 in its register is harmless.
    [LibraryImport("libc", SetLastError = true)]
    public static partial int fcntl(int fd, int command, nint argument);

    [LibraryImport("libc")]
    public static partial int gettid();

    [LibraryImport("libc")]
    public static partial int getpid();

    [LibraryImport("libc", SetLastError = true)]
    public static partial int tgkill(int threadGroup, int thread, int signal);

    public const int SIG_BLOCK = 0;
    public const int SIG_SETMASK = 2;
    public const int SFD_NONBLOCK = 0x800;
    public const int SFD_CLOEXEC = 0x80000;

    /// <summary>glibc's sigset_t: 1024 bits.</summary>
    public const int SigSetSize = 128;

    /// <summary>struct signalfd_siginfo; ssi_signo is its first field.</summary>
    public const int SignalFdSigInfoSize = 128;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int sigemptyset(byte* set);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int sigaddset(byte* set, int signal);

    // Returns the error number rather than setting errno.
    [LibraryImport("libc")]
    public static partial int pthread_sigmask(int how, byte* set, byte* oldSet);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int signalfd(int fd, byte* mask, int flags);

    /// <summary>Checks a libc result, failing the test with the errno and the call.</summary>
    public static int Check(int result, string call)
    {
        if (result < 0)
            Assert.Fail($"{call} failed with errno {Marshal.GetLastPInvokeError()}");
        return result;
    }

    public static int EventFd() => Check(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), "eventfd");

    public static void Signal(int eventFd, ulong value = 1) =>
        Assert.Equal(8, (int)write(eventFd, &value, 8));

    /// <summary>Reads the eventfd's counter to 0; returns what it held (0 when it was already 0).</summary>
    public static ulong Drain(int eventFd)
    {
        ulong value = 0;
        return read(eventFd, &value, 8) == 8 ? value : 0;
    }

    public static (int Read, int Write) Pipe()
    {
        int* fds = stackalloc int[2];
        Check(pipe2(fds, O_NONBLOCK | O_CLOEXEC), "pipe2");
        return (fds[0], fds[1]);
    }

    public static (int A, int B) SocketPair()
    {
        int* fds = stackalloc int[2];
        Check(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), "socketpair");
        return (fds[0], fds[1]);
    }

    public static void WriteByte(int fd)
    {
        byte b = 42;
        Assert.Equal(1, (int)write(fd, &b, 1));
    }
}
