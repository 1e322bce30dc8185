using System;
using System.Runtime.InteropServices;

namespace EpollGen.Native;

// The calls the epoll layer adds: readiness re-checks, fd validation and the dup family.
internal static unsafe partial class LibC
{
    public const int ENOMEM = 12;
    public const int EFAULT = 14;
    public const int ENFILE = 23;
    public const int EMFILE = 24;
    public const int ELOOP = 40;

    public const int F_DUPFD = 0;
    public const int F_GETFD = 1;
    public const int F_SETFD = 2;
    public const int F_GETFL = 3;
    public const int F_DUPFD_CLOEXEC = 1030;
    public const int FD_CLOEXEC = 1;
    public const int O_PATH = 0x200000;
    public const int O_RDONLY = 0;
    public const int O_CLOEXEC = 0x80000;

    public const short POLLNVAL = 0x20;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int poll(void* fds, nuint count, int timeout);

    public const int KCMP_EPOLL_TFD = 7;

    /// <summary>kcmp(2), through syscall(2): glibc has no wrapper. The two trailing arguments are pointers or fds.</summary>
    public static int kcmp(int pid1, int pid2, int type, nuint idx1, nuint idx2) =>
        (int)syscall(SysKcmp, pid1, pid2, type, idx1, idx2);

    private static long SysKcmp => RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 312 : 272;

    [LibraryImport("libc", SetLastError = true)]
    private static partial long syscall(long number, long pid1, long pid2, long type, nuint idx1, nuint idx2);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int getresuid(uint* realUid, uint* effectiveUid, uint* savedUid);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint process_vm_readv(int pid, IoVec* local, nuint localCount, IoVec* remote, nuint remoteCount, nuint flags);

    /// <summary><c>struct iovec</c>.</summary>
    public struct IoVec
    {
        public void* Base;
        public nuint Length;
    }

    [LibraryImport("libc", SetLastError = true)]
    public static partial int ppoll(void* fds, nuint count, void* timeout, void* sigmask);

    /// <summary>
    /// ppoll(2) of <paramref name="fd"/> for POLLIN until <paramref name="deadline"/>
    /// (<see cref="System.Diagnostics.Stopwatch"/> ticks; <see cref="long.MaxValue"/>: none), with
    /// <paramref name="sigmask"/> (a sigset_t, or null) installed for the call: ppoll's result (1
    /// ready, 0 at the deadline, -1 with the errno).
    /// </summary>
    public static int PollInUntil(int fd, long deadline, void* sigmask)
    {
        var poll = new Interop.PollFd { fd = fd, events = (short)Interop.PollEvents.POLLIN };
        if (deadline == long.MaxValue)
            return ppoll(&poll, 1, null, sigmask);
        long frequency = System.Diagnostics.Stopwatch.Frequency;
        long remaining = System.Math.Max(0, deadline - System.Diagnostics.Stopwatch.GetTimestamp());
        var timeout = new Interop.Timespec
        {
            tv_sec = remaining / frequency,
            tv_nsec = remaining % frequency * 1_000_000_000 / frequency,
        };
        return ppoll(&poll, 1, &timeout, sigmask);
    }

    [LibraryImport("libc", SetLastError = true)]
    public static partial int fcntl(int fd, int command, nint argument);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int dup(int fd);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int dup3(int fd, int target, int flags);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint readlink(string path, byte* buffer, nuint size);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int pthread_sigmask(int how, void* set, void* old);

    /// <summary>
    /// Runs <paramref name="start"/>, which starts a thread, with the signals a program may block and wait for (1 to 31
    /// but those a fault raises) blocked, as the threads the runtime starts must: else the kernel
    /// hands such a signal to them whenever the program's threads block it, and the program, waiting
    /// for it with sigsuspend or sigwait, never sees it. The new thread takes the caller's mask at
    /// its creation; the caller's own is restored at once.
    /// </summary>
    public static void StartWithProgramSignalsBlocked(Action start)
    {
        const int SIG_BLOCK = 0, SIG_SETMASK = 2;
        ulong* set = stackalloc ulong[16];
        ulong* old = stackalloc ulong[16];
        new Span<ulong>(set, 16).Clear();
        // Bit n-1 is signal n; SIGILL 4, SIGTRAP 5, SIGBUS 7, SIGFPE 8, SIGSEGV 11, SIGSYS 31 stay open.
        set[0] = 0x7FFF_FFFFUL & ~((1UL << 3) | (1UL << 4) | (1UL << 6) | (1UL << 7) | (1UL << 10) | (1UL << 30));
        bool blocked = pthread_sigmask(SIG_BLOCK, set, old) == 0;
        try
        {
            start();
        }
        finally
        {
            if (blocked)
                pthread_sigmask(SIG_SETMASK, old, null);
        }
    }

    /// <summary>open(2) without a mode: for reading files of the kernel's (/proc).</summary>
    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int open(string path, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int epoll_pwait2(int epfd, void* events, int maxevents, void* timeout, void* sigmask);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int epoll_pwait(int epfd, void* events, int maxevents, int timeout, void* sigmask);
}
