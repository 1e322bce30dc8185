using System.Runtime.InteropServices;

namespace EpollGen.IntegrationTests.Native;

/// <summary>The libc calls the integration tests make, with Linux's constants.</summary>
internal static unsafe class LibC
{
    public const int EINTR = 4;
    public const int EAGAIN = 11;

    public const int IN_NONBLOCK = 0x800;
    public const int IN_CLOEXEC = 0x80000;

    [DllImport("libc", SetLastError = true)]
    public static extern int inotify_init1(int flags);

    [DllImport("libc", SetLastError = true)]
    public static extern int inotify_add_watch(int fd, [MarshalAs(UnmanagedType.LPUTF8Str)] string pathname, uint mask);

    [DllImport("libc", SetLastError = true)]
    public static extern nint read(int fd, void* buffer, nuint count);

    [DllImport("libc", SetLastError = true)]
    public static extern int poll(PollFd* fds, nuint nfds, int timeout);

    [DllImport("libc", SetLastError = true)]
    public static extern int close(int fd);
}
