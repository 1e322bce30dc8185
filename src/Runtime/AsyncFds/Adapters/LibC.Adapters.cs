using System.Runtime.InteropServices;

namespace EpollGen.Native;

// The calls the AsyncFd adapters add: timerfd, signalfd and inotify, and the blocking wait of a
// stream's synchronous reads and writes.
internal static unsafe partial class LibC
{
    public const int CLOCK_MONOTONIC = 1;
    public const int TFD_NONBLOCK = 0x800;
    public const int TFD_CLOEXEC = 0x80000;
    public const int SFD_NONBLOCK = 0x800;
    public const int SFD_CLOEXEC = 0x80000;
    public const int IN_NONBLOCK = 0x800;
    public const int IN_CLOEXEC = 0x80000;

    /// <summary>glibc's sigset_t: 1024 bits, of which the kernel reads the first 64.</summary>
    public const int SigSetBytes = 128;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int timerfd_create(int clock, int flags);

    /// <summary><paramref name="newValue"/> is a <c>struct itimerspec</c>: it_interval, then it_value.</summary>
    [LibraryImport("libc", SetLastError = true)]
    public static partial int timerfd_settime(int fd, int flags, Interop.Timespec* newValue, Interop.Timespec* oldValue);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int signalfd(int fd, byte* mask, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int sigemptyset(byte* set);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int sigaddset(byte* set, int signal);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int inotify_init1(int flags);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int inotify_add_watch(int fd, string path, uint mask);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int inotify_rm_watch(int fd, int watch);
}
