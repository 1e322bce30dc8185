using System;
using System.Runtime.InteropServices;
using EpollGen.Interop;

namespace EpollGen.Native;

/// <summary>
/// Kernel objects the runtime keeps for itself beside a program's fds: the shadow epolls that
/// mirror nested io_uring sets, the proxies that watch io_uring sets' registrations of closed fds,
/// and the async engines' epoll instances.
/// </summary>
internal static unsafe class PrivateFds
{
    // FD_SETSIZE: select(2) sees only the numbers below it, and programs expect those to be
    // handed out lowest first.
    private const int Floor = 1024;

    /// <summary>
    /// A close-on-exec dup of <paramref name="fd"/> at or above fd 1024 where the fd limit allows,
    /// else at the lowest free number; -1, with the errno, when there is no free number.
    /// </summary>
    public static int Dup(int fd)
    {
        int dup = LibC.fcntl(fd, LibC.F_DUPFD_CLOEXEC, Floor);
        return Opened(dup >= 0 ? dup : LibC.fcntl(fd, LibC.F_DUPFD_CLOEXEC, 0));
    }

    /// <summary>
    /// Moves <paramref name="fd"/>, just created by the runtime for itself, out of the numbers a
    /// program expects to be handed next (see <see cref="Dup"/>): returns the new number, with
    /// the original closed, or <paramref name="fd"/> itself when it is negative, already there, or
    /// no higher number is free. The new number is close-on-exec unless <paramref name="closeOnExec"/>
    /// is false.
    /// </summary>
    public static int Move(int fd, bool closeOnExec = true)
    {
        if (fd < 0 || fd >= Floor)
            return fd;
        int moved = LibC.fcntl(fd, closeOnExec ? LibC.F_DUPFD_CLOEXEC : LibC.F_DUPFD, Floor);
        if (moved < 0)
            return fd;
        Opened(moved);
        LibC.close(fd);
        return moved;
    }

    /// <summary>A close-on-exec, non-blocking eventfd of the runtime's own, moved as <see cref="Move"/> moves; -1, with the errno, on failure.</summary>
    public static int CreateEventFd()
    {
        int created = LibC.eventfd(0, LibC.EFD_CLOEXEC | LibC.EFD_NONBLOCK);
        return created < 0 ? -1 : Move(created);
    }

    /// <summary>
    /// Told, with true, of each fd the runtime opens for itself (epoll instances, eventfds, rings,
    /// the dups above), once it is open; and, with false, of each fd it closes, before the close,
    /// while the number cannot be handed out again. The preload watches, so that a program's
    /// close_range leaves the runtime's fds open; null when no one does. Set before the first fd opens.
    /// </summary>
    public static Action<int, bool>? Watcher { get; set; }

    /// <summary>Reports <paramref name="fd"/> (when it is one) to <see cref="Watcher"/> as opened; returns it, errno untouched.</summary>
    public static int Opened(int fd)
    {
        if (fd >= 0)
            Watcher?.Invoke(fd, true);
        return fd;
    }

    /// <summary>Reports <paramref name="fd"/> to <see cref="Watcher"/> as about to be closed.</summary>
    public static void Closing(int fd) => Watcher?.Invoke(fd, false);

    /// <summary>
    /// epoll_ctl with an empty interest (EPOLLET alone): the item exists, keyed by (fd, file), for
    /// the kernel's checks and lookups, and no one waits on the instance for what it reports.
    /// Returns 0 or the errno.
    /// </summary>
    public static int CtlEmpty(int epfd, int op, int fd) => Ctl(epfd, op, fd, EpollEvents.EPOLLET);

    /// <summary>epoll_ctl of <paramref name="fd"/> in <paramref name="epfd"/> with <paramref name="events"/> and <paramref name="data"/>; 0 or the errno.</summary>
    public static int Ctl(int epfd, int op, int fd, EpollEvents events, ulong data = 0)
    {
        byte* native = stackalloc byte[EpollEvent.Size];
        EpollEvent.WriteNative(native, 0, new EpollEvent { events = (uint)events, data = data });
        return LibC.epoll_ctl(epfd, op, fd, native) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    /// <summary>
    /// A close-on-exec epoll instance of the runtime's own, moved out of the numbers a program
    /// expects to be handed next (see <see cref="Dup"/>); -1, with the errno, on failure.
    /// </summary>
    public static int CreateEpoll()
    {
        int created = LibC.epoll_create1(LibC.EPOLL_CLOEXEC);
        return created < 0 ? -1 : Move(created);
    }

    /// <summary>
    /// Whether the epoll instance <paramref name="epfd"/> holds a registration under the number
    /// <paramref name="fd"/>, open or closed since (kcmp(KCMP_EPOLL_TFD) finds it either way); null
    /// when the kernel refuses kcmp, as some sandboxes do.
    /// </summary>
    public static bool? EpollHolds(int epfd, int fd)
    {
        if (EpollCompare(epfd, epfd, fd, 0) >= 0)
            return true;
        return Marshal.GetLastPInvokeError() == LibC.ENOENT ? false : null;
    }

    /// <summary>
    /// kcmp(self, self, KCMP_EPOLL_TFD, idx1, {epfd, targetFd, offset}): 0 when idx1's file is the
    /// file of the offset-th registration under the number targetFd in epfd, 1 or 2 when it is
    /// another file, -1 (with the errno) when there is none.
    /// </summary>
    public static int EpollCompare(int idx1, int epfd, int targetFd, int offset)
    {
        uint* slot = stackalloc uint[3];
        slot[0] = (uint)epfd;
        slot[1] = (uint)targetFd;
        slot[2] = (uint)offset;
        return LibC.kcmp(Environment.ProcessId, Environment.ProcessId, LibC.KCMP_EPOLL_TFD, (nuint)(uint)idx1, (nuint)slot);
    }
}
