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
    public static readonly void* MAP_FAILED = (void*)-1;

    [LibraryImport("libc", SetLastError = true)]
    public static partial void* mmap(void* address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int mprotect(void* address, nuint length, int protection);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int munmap(void* address, nuint length);
}
