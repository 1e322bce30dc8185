using System;
using System.Runtime.InteropServices;

namespace EpollGen.Native.IoUring;

/// <summary>
/// The three io_uring system calls, made through libc's <c>syscall(2)</c> (glibc has no wrappers).
/// Each returns the kernel's result, or -1 with the errno as the last P/Invoke error.
/// </summary>
internal static unsafe partial class IoUringSyscalls
{
    // x86_64 (asm/unistd_64.h) and arm64 (asm-generic/unistd.h) gave io_uring the same numbers.
    public const long SYS_io_uring_setup = 425;
    public const long SYS_io_uring_enter = 426;
    public const long SYS_io_uring_register = 427;

    /// <summary>
    /// True where the numbers above are the kernel's. Elsewhere (32-bit ABIs, other architectures)
    /// the calls are not made at all: a wrong number would run some other system call.
    /// </summary>
    public static bool NumbersKnown =>
        RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64 && OperatingSystem.IsLinux();

    public static int Setup(uint entries, IoUringParams* parameters) =>
        (int)Call(SYS_io_uring_setup, (nint)entries, (nint)parameters, 0, 0, 0, 0);

    public static int Enter(int ringFd, uint toSubmit, uint minComplete, uint flags, void* argument, nuint argumentSize) =>
        (int)Call(SYS_io_uring_enter, ringFd, (nint)toSubmit, (nint)minComplete, (nint)flags, (nint)argument, (nint)argumentSize);

    public static int Register(int ringFd, uint opcode, void* argument, uint count) =>
        (int)Call(SYS_io_uring_register, ringFd, (nint)opcode, (nint)argument, (nint)count, 0, 0);

    private static long Call(long number, nint a1, nint a2, nint a3, nint a4, nint a5, nint a6)
    {
        if (!NumbersKnown)
            throw new PlatformNotSupportedException($"io_uring system call numbers are not known for {RuntimeInformation.ProcessArchitecture}");
        return syscall(number, a1, a2, a3, a4, a5, a6);
    }

    // syscall() is variadic; on the LP64 ABIs above, integer variadic arguments travel in the same
    // registers as fixed ones, and glibc's syscall() moves all six into place whatever the call used.
    [LibraryImport("libc", SetLastError = true)]
    private static partial long syscall(long number, nint a1, nint a2, nint a3, nint a4, nint a5, nint a6);
}
