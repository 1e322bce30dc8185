using System;
using EpollGen.Interop;
using EpollGen.Native;

namespace EpollGen;

/// <summary>
/// Linux's epoll_ctl checks on a set's target and mask, as functions of what the set knows, so
/// that each errno is decided in the order fs/eventpoll.c decides it.
/// </summary>
internal static class CtlRules
{
    // The only bits EPOLLEXCLUSIVE may come with (fs/eventpoll.c, EPOLLEXCLUSIVE_OK_BITS).
    public const EpollEvents ExclusiveAllowed = EpollEvents.EPOLLIN | EpollEvents.EPOLLOUT | EpollEvents.EPOLLERR
        | EpollEvents.EPOLLHUP | EpollEvents.EPOLLWAKEUP | EpollEvents.EPOLLET | EpollEvents.EPOLLEXCLUSIVE;

    /// <summary>
    /// ADD's checks before the lookup of the key: EINVAL for the set itself and for EPOLLEXCLUSIVE
    /// with bits it does not allow or on an epoll fd, then ELOOP when the link would close a cycle
    /// or nest too deep. <paramref name="namesEpoll"/> and <paramref name="nests"/> are asked only
    /// when Linux gets that far (they cost a readlink and the graph's lock).
    /// </summary>
    public static int CheckAdd<TState>(bool self, EpollEvents events, TState state, Func<TState, bool> namesEpoll, Func<TState, bool> nests)
    {
        if (self)
            return LibC.EINVAL;
        if ((events & EpollEvents.EPOLLEXCLUSIVE) != 0 && ((events & ~ExclusiveAllowed) != 0 || namesEpoll(state)))
            return LibC.EINVAL;
        return nests(state) ? 0 : LibC.ELOOP;
    }

    /// <summary>
    /// ADD of a key the set already holds: EEXIST, unless the number was closed and reused behind
    /// the set's back, when Linux's (fd, file) key makes the new file a new registration.
    /// </summary>
    public static int CheckExisting(bool reusedBehindOurBack) => reusedBehindOurBack ? 0 : LibC.EEXIST;

    /// <summary>
    /// MOD's checks: the target's own error (<paramref name="fdError"/>, EBADF), then EINVAL for the
    /// set itself or EPOLLEXCLUSIVE, ENOENT without a registration (<paramref name="registered"/>
    /// null), and EINVAL for a registration made with EPOLLEXCLUSIVE.
    /// </summary>
    public static int CheckModify(int fdError, bool self, EpollEvents events, EpollEvents? registered)
    {
        if (fdError != 0)
            return fdError;
        if (self || (events & EpollEvents.EPOLLEXCLUSIVE) != 0)
            return LibC.EINVAL;
        if (registered is not { } existing)
            return LibC.ENOENT;
        return (existing & EpollEvents.EPOLLEXCLUSIVE) != 0 ? LibC.EINVAL : 0;
    }

    /// <summary>DEL's checks: the target's own error, then EINVAL for the set itself, then ENOENT.</summary>
    public static int CheckRemove(int fdError, bool self, bool registered) =>
        fdError != 0 ? fdError : self ? LibC.EINVAL : registered ? 0 : LibC.ENOENT;

    /// <summary>
    /// Whether a failed ctl's errno must give way to the kernel's verdict on the target: Linux checks
    /// the target (EBADF, then EPERM for files it cannot poll) before anything else, and on the
    /// success path the tap's own kernel call has done so.
    /// </summary>
    public static bool AsksTarget(int error) => error is not (0 or LibC.EBADF);

    /// <summary>The error Linux reports first: <paramref name="first"/>, unless there is none.</summary>
    public static int FirstError(int first, int second) => first != 0 ? first : second;

    /// <summary>EBADF for a closed fd and for an O_PATH fd, which epoll_ctl does not accept either.</summary>
    public static int CheckFd(int fd)
    {
        int flags = LibC.fcntl(fd, LibC.F_GETFL, 0);
        return flags < 0 || (flags & LibC.O_PATH) != 0 ? LibC.EBADF : 0;
    }

    /// <summary>
    /// The kernel's own verdict on a target fd, from a registration in a private epoll instance that
    /// is undone at once: EBADF (closed, O_PATH), EPERM (cannot be polled) or 0. Error paths only.
    /// </summary>
    public static unsafe int TargetError(int fd)
    {
        int probe = s_probe;
        int error = PrivateFds.Ctl(probe, LibC.EPOLL_CTL_ADD, fd, 0);
        if (error == 0)
        {
            LibC.epoll_ctl(probe, LibC.EPOLL_CTL_DEL, fd, null);
            return 0;
        }
        return error is LibC.EBADF or LibC.EPERM ? error : 0;
    }

    private static readonly int s_probe;

    static CtlRules() => s_probe = PrivateFds.CreateEpoll();

    /// <summary>
    /// Opens the probe (the explicit static constructor runs first): called as the first set is
    /// created, not on the first error path, where the probe could take the number of an fd the
    /// caller just closed.
    /// </summary>
    public static void OpenProbe()
    {
    }
}
