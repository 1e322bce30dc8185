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
    /// When several queues tap the same file exclusively, a wake-up reaches one of them, not all
    /// (EPOLLEXCLUSIVE): on kernel-epoll taps one whose waiters are asleep; on io_uring taps the
    /// first whose poll the wake-up meets, asleep or not. The kernel watches the fd exclusively
    /// only when every tap on it in the queue is exclusive.
    /// </summary>
    Exclusive = 4,
}
