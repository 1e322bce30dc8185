using System.Runtime.InteropServices;
using EpollGen.Interop;

namespace EpollGen.HostedService.Native;

/// <summary>
/// The libc calls that open and drain the service's three fds, and the two that set up its signal
/// mask. Values are Linux's on every architecture .NET runs on.
/// </summary>
internal static unsafe partial class Sys
{
    public const int CLOCK_MONOTONIC = 1;
    public const int TFD_NONBLOCK = 0x800;
    public const int TFD_CLOEXEC = 0x80000;
    public const int IN_NONBLOCK = 0x800;
    public const int IN_CLOEXEC = 0x80000;
    public const int SFD_NONBLOCK = 0x800;
    public const int SFD_CLOEXEC = 0x80000;
    public const int SIG_BLOCK = 0;
    public const int SIGHUP = 1;

    public const int EINTR = 4;
    public const int EAGAIN = 11;

    /// <summary>glibc's sigset_t: 1024 bits, of which the kernel reads the first 64.</summary>
    public const int SigSetLongs = 16;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int timerfd_create(int clock, int flags);

    /// <summary><paramref name="newValue"/> is a <c>struct itimerspec</c>: it_interval, then it_value.</summary>
    [LibraryImport("libc", SetLastError = true)]
    public static partial int timerfd_settime(int fd, int flags, Timespec* newValue, Timespec* oldValue);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int inotify_init1(int flags);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int inotify_add_watch(int fd, string path, uint mask);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int signalfd(int fd, ulong* mask, int flags);

    /// <summary>Returns the error number itself, not -1 and errno.</summary>
    [LibraryImport("libc")]
    public static partial int pthread_sigmask(int how, ulong* set, ulong* oldSet);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint read(int fd, void* buffer, nuint count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int execv(string path, byte** argv);
}
