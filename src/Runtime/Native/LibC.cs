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
    public const int EINTR = 4;
    public const int EAGAIN = 11;
    public const int EBUSY = 16;
    public const int EINVAL = 22;
    public const int ENOSYS = 38;
    public const int ETIME = 62;
    public const int ECANCELED = 125;

    [LibraryImport("libc", SetLastError = true)]
    public static partial void* mmap(void* address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int mprotect(void* address, nuint length, int protection);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int munmap(void* address, nuint length);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);
}
