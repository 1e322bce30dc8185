using System.Runtime.InteropServices;

namespace EpollGen.Native;

/// <summary>The libc calls the runtime makes itself. Failures set the last P/Invoke error.</summary>
internal static unsafe partial class LibC
{
    public const int PROT_NONE = 0;
    public const int PROT_READ = 1;
    public const int PROT_WRITE = 2;
    public const int MAP_PRIVATE = 0x02;
    public const int MAP_ANONYMOUS = 0x20;
    public const int MAP_NORESERVE = 0x4000;
    public const int MAP_SHARED = 0x01;
    public const int MAP_POPULATE = 0x8000;
    public static readonly void* MAP_FAILED = (void*)-1;

    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int EINTR = 4;
    public const int EBADF = 9;
    public const int EBUSY = 16;
    public const int EEXIST = 17;
    public const int EINVAL = 22;
    public const int ENOSYS = 38;
    public const int ETIME = 62;
    public const int EALREADY = 114;
    public const int ECANCELED = 125;

    public const int EPOLL_CTL_ADD = 1;
    public const int EPOLL_CTL_DEL = 2;
    public const int EPOLL_CTL_MOD = 3;
    public const int EPOLL_CLOEXEC = 0x80000;
    public const int EFD_CLOEXEC = 0x80000;
    public const int EFD_NONBLOCK = 0x800;

    [LibraryImport("libc", SetLastError = true)]
    public static partial void* mmap(void* address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int mprotect(void* address, nuint length, int protection);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int munmap(void* address, nuint length);

    /// <summary>epoll_create1 for the runtime's own use: the new fd is reported to <see cref="PrivateFds.Opened"/>.</summary>
    public static int epoll_create1(int flags) => PrivateFds.Opened(EpollCreate1(flags));

    [LibraryImport("libc", EntryPoint = "epoll_create1", SetLastError = true)]
    private static partial int EpollCreate1(int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int epoll_ctl(int epfd, int op, int fd, void* ev);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int epoll_wait(int epfd, void* events, int maxevents, int timeout);

    /// <summary>eventfd for the runtime's own use: the new fd is reported to <see cref="PrivateFds.Opened"/>.</summary>
    public static int eventfd(uint initval, int flags) => PrivateFds.Opened(EventFd(initval, flags));

    [LibraryImport("libc", EntryPoint = "eventfd", SetLastError = true)]
    private static partial int EventFd(uint initval, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint read(int fd, void* buffer, nuint count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint write(int fd, void* buffer, nuint count);

    /// <summary>close, reported to <see cref="PrivateFds.Closing"/> first, while the number cannot be reused.</summary>
    public static int close(int fd)
    {
        PrivateFds.Closing(fd);
        return Close(fd);
    }

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
