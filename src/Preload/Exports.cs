using System.Collections.Generic;
using System.Runtime.InteropServices;
using EpollGen.Interop;

namespace EpollGen.Preload;

/// <summary>
/// The managed entry points the C shim (interpose.c) calls for fds that concern EpollGen. Each runs
/// the libc-shaped <see cref="Epoll"/> call, keeps the shim's <see cref="FdTable"/> true, and
/// returns the result with the errno in <c>*error</c> for the shim to store in errno: errno itself
/// is not safe to set here, since leaving managed code may make system calls of its own.
/// </summary>
internal static unsafe class Exports
{
    // The kinds of epollgen_dup, as interpose.c numbers them.
    private const int Dup = 0;
    private const int Dup2 = 1;
    private const int Dup3 = 2;
    private const int FcntlDupFd = 3;

    [UnmanagedCallersOnly(EntryPoint = "epollgen_attach")]
    private static void Attach(byte* table, nuint length, int* highest) => FdTable.Attach(table, length, highest);

    /// <summary>
    /// Makes the shim's lazy set <paramref name="fd"/> an EpollGen set under the same number; when
    /// that fails (no fds left for the set's own), it stays the kernel's set, which serves its calls.
    /// Either way it is no longer lazy. The shim calls this once per lazy set, under its lock.
    /// </summary>
    [UnmanagedCallersOnly(EntryPoint = "epollgen_adopt")]
    private static void Adopt(int fd)
    {
        Epoll.Adopt(fd);
        FdTable.Refresh(fd);
    }

    [UnmanagedCallersOnly(EntryPoint = "epollgen_ctl")]
    private static int Control(int epfd, int op, int fd, void* @event, int* error)
    {
        int result = Epoll.epoll_ctl(epfd, op, fd, @event);
        // MOD too: it may have found an orphaned registration again (a dup2 back onto its number).
        if (result == 0 && op is Epoll.EPOLL_CTL_ADD or Epoll.EPOLL_CTL_MOD)
            FdTable.MarkRegistered(fd);
        return Result(result, error);
    }

    [UnmanagedCallersOnly(EntryPoint = "epollgen_pwait")]
    private static int Wait(int epfd, void* events, int maxevents, int timeout, void* sigmask, int* error) =>
        Result(Epoll.epoll_pwait(epfd, events, maxevents, timeout, sigmask), error);

    [UnmanagedCallersOnly(EntryPoint = "epollgen_pwait2")]
    private static int Wait2(int epfd, void* events, int maxevents, Timespec* timeout, void* sigmask, int* error) =>
        Result(Epoll.epoll_pwait2(epfd, events, maxevents, timeout, sigmask), error);

    [UnmanagedCallersOnly(EntryPoint = "epollgen_close")]
    private static int Close(int fd, int* error)
    {
        int result = Epoll.close(fd);
        int errno = Marshal.GetLastPInvokeError();
        FdTable.Refresh(fd);
        Marshal.SetLastPInvokeError(errno);
        return Result(result, error);
    }

    [UnmanagedCallersOnly(EntryPoint = "epollgen_close_range")]
    private static int CloseRange(uint first, uint last, int flags, delegate* unmanaged<uint, uint, int, int> kernelCloseRange, int* error)
    {
        List<int> concerned = FdTable.Concerned(first, last);
        int result = Epoll.CloseRange(CollectionsMarshal.AsSpan(concerned), kernelCloseRange, first, last, flags);
        int errno = Marshal.GetLastPInvokeError();
        foreach (int fd in concerned)
            FdTable.Refresh(fd);
        Marshal.SetLastPInvokeError(errno);
        return Result(result, error);
    }

    [UnmanagedCallersOnly(EntryPoint = "epollgen_dup")]
    private static int Duplicate(int kind, int oldfd, int newfd, int flags, int* error)
    {
        int result = kind switch
        {
            Dup => Epoll.dup(oldfd),
            Dup2 => Epoll.dup2(oldfd, newfd),
            Dup3 => Epoll.dup3(oldfd, newfd, flags),
            FcntlDupFd => Epoll.fcntl(oldfd, flags, newfd),
            _ => -1,
        };
        int errno = Marshal.GetLastPInvokeError();
        if (result >= 0)
            FdTable.Refresh(result);
        if (kind is Dup2 or Dup3 && newfd != result)
            FdTable.Refresh(newfd);
        Marshal.SetLastPInvokeError(errno);
        return Result(result, error);
    }

    private static int Result(int result, int* error)
    {
        if (result < 0)
            *error = Marshal.GetLastPInvokeError();
        return result;
    }
}
