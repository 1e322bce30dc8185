using System.Runtime.InteropServices;
using EpollGen.Interop;

namespace EpollGen.Native;

/// <summary>
/// Kernel objects the runtime keeps for itself beside a program's fds: the shadow epolls that
/// mirror nested io_uring sets, and the witnesses of orphaned registrations.
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
        return dup >= 0 ? dup : LibC.fcntl(fd, LibC.F_DUPFD_CLOEXEC, 0);
    }

    /// <summary>
    /// epoll_ctl with an empty interest (EPOLLET alone): the item exists, keyed by (fd, file), for
    /// the kernel's checks and lookups, and no one waits on the instance for what it reports.
    /// Returns 0 or the errno.
    /// </summary>
    public static int CtlEmpty(int epfd, int op, int fd)
    {
        byte* native = stackalloc byte[EpollEvent.Size];
        EpollEvent.WriteNative(native, 0, new EpollEvent { events = (uint)EpollEvents.EPOLLET });
        return LibC.epoll_ctl(epfd, op, fd, native) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }
}
