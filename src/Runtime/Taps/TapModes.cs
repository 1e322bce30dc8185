using System;

namespace EpollGen.Taps;

/// <summary>How a tap fires, beyond its filter.</summary>
[Flags]
public enum TapModes
{
    /// <summary>On every edge into the filter.</summary>
    None = 0,

    /// <summary>
    /// Once, then silent (not even on error or hang-up) until a Modify re-arms it. The kernel
    /// disarms it when every tap on the fd in the queue is one-shot; otherwise the tap's owner must
    /// ignore what comes after the first post.
    /// </summary>
    OneShot = 1,

    /// <summary>
    /// On every kernel wait while the fd is in the filter, not only on edges: level-triggered. The
    /// kernel-epoll backend registers the fd level-triggered when every tap on it in the queue is;
    /// otherwise the taps fire on edges.
    /// </summary>
    Level = 2,

    /// <summary>
    /// When several queues tap the same file exclusively, a wake-up reaches one of those whose
    /// waiters are asleep, not all (EPOLLEXCLUSIVE). Only for a tap that is alone on its fd in its
    /// queue; adding a second tap to that fd fails with EINVAL, as MOD does in Linux.
    /// </summary>
    Exclusive = 4,
}
