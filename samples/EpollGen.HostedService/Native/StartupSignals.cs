using System;
using System.IO;
using System.Runtime.InteropServices;

namespace EpollGen.HostedService.Native;

/// <summary>
/// Gets a signal blocked in every thread of the process, so that it stays pending for a signalfd
/// instead of being delivered to a thread that does not block it: there SIGHUP ends the process,
/// or, where the parent left it ignored (nohup), is discarded.
/// </summary>
/// <remarks>
/// A new thread takes the mask of the thread that creates it, and by the time Main runs the .NET
/// runtime has started its own threads (finalizer, tiered compilation, diagnostics) with nothing
/// blocked: the kernel hands a process-directed signal to any thread that does not block it, so
/// blocking it in Main's thread alone is not enough. A mask survives execve, and the runtime's
/// threads then start with it: a process started without the signal blocked blocks it in this
/// thread and executes itself again, once, before it has done anything else.
/// </remarks>
internal static unsafe class StartupSignals
{
    /// <summary>
    /// Returns when <paramref name="signal"/> was blocked when the process started; otherwise
    /// blocks it and re-executes the program with the same arguments and environment.
    /// </summary>
    /// <exception cref="System.ComponentModel.Win32Exception">The mask could not be read or the exec failed.</exception>
    public static void BlockFromProcessStart(int signal)
    {
        ulong* set = stackalloc ulong[Sys.SigSetLongs];
        ulong* old = stackalloc ulong[Sys.SigSetLongs];
        new Span<ulong>(set, Sys.SigSetLongs).Clear();
        set[0] = 1UL << (signal - 1);
        int error = Sys.pthread_sigmask(Sys.SIG_BLOCK, set, old);
        if (error != 0)
            throw new System.ComponentModel.Win32Exception(error, $"pthread_sigmask(SIG_BLOCK) failed with errno {error}");
        if ((old[0] & set[0]) != 0)
            return;
        // Still the only thread of ours: nothing has been opened or written that the exec could lose.
        byte** argv = Arguments();
        Sys.execv("/proc/self/exe", argv);
        throw Errors.Of("execv(/proc/self/exe)");
    }

    // This process's own argv as the kernel keeps it, NUL-terminated strings one after another,
    // passed on byte for byte. Left allocated: the exec replaces the process, and a failed one ends it.
    private static byte** Arguments()
    {
        byte[] raw = File.ReadAllBytes("/proc/self/cmdline");
        byte* strings = (byte*)NativeMemory.Alloc((nuint)raw.Length);
        raw.CopyTo(new Span<byte>(strings, raw.Length));
        int count = raw.AsSpan().Count((byte)0);
        var argv = (byte**)NativeMemory.AllocZeroed((nuint)(count + 1), (nuint)sizeof(byte*));
        int start = 0, index = 0;
        for (int i = 0; i < raw.Length; i++)
        {
            if (raw[i] != 0)
                continue;
            argv[index++] = strings + start;
            start = i + 1;
        }
        return argv;
    }
}
