using System;
using System.Runtime.InteropServices;

namespace EpollGen.Native;

/// <summary>
/// The part of the calling thread's stack that can be read without a fault: from the current stack
/// pointer up to the top of the thread's stack, which live frames fill and the kernel keeps mapped.
/// A caller's pointer to its own local variables (how C code passes an epoll_event or a sigset) is
/// read directly then; any other pointer needs a system call that fails with EFAULT, as the kernel's
/// copy from user space does, instead of a crash.
/// </summary>
/// <remarks>
/// A thread running on a stack of its own making (sigaltstack, makecontext) has its stack pointer
/// outside the bounds pthread reports, and nothing is taken as readable. Memory the caller itself
/// made inaccessible inside its live frames (mprotect of its own stack) would fault here.
/// </remarks>
internal static unsafe partial class ThreadStack
{
    // The thread's stack bounds, [low, high); high is 0 until they are read, and low == high when
    // pthread could not tell.
    [ThreadStatic]
    private static nuint t_low;

    [ThreadStatic]
    private static nuint t_high;

    /// <summary>
    /// Whether [<paramref name="start"/>, <paramref name="start"/> + <paramref name="length"/>)
    /// lies in the calling thread's live stack, above the stack pointer of this call.
    /// </summary>
    public static bool Contains(void* start, nuint length)
    {
        byte marker = 0;
        nuint pointer = (nuint)(&marker);
        if (t_high == 0)
            ReadBounds();
        nuint address = (nuint)start;
        return pointer >= t_low && pointer < t_high && address >= pointer && address < t_high && length <= t_high - address;
    }

    private static void ReadBounds()
    {
        // pthread_attr_t is 56 bytes on x86_64 and 64 on arm64.
        byte* attributes = stackalloc byte[128];
        void* low = null;
        nuint size = 0;
        if (pthread_getattr_np(pthread_self(), attributes) == 0)
        {
            if (pthread_attr_getstack(attributes, &low, &size) != 0)
                size = 0;
            pthread_attr_destroy(attributes);
        }
        t_low = size == 0 ? 1 : (nuint)low;
        t_high = size == 0 ? 1 : (nuint)low + size;
    }

    [LibraryImport("libc")]
    private static partial nuint pthread_self();

    [LibraryImport("libc")]
    private static partial int pthread_getattr_np(nuint thread, void* attributes);

    [LibraryImport("libc")]
    private static partial int pthread_attr_getstack(void* attributes, void** stackAddress, nuint* stackSize);

    [LibraryImport("libc")]
    private static partial int pthread_attr_destroy(void* attributes);
}
