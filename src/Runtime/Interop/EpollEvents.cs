using System;

namespace EpollGen.Interop;

/// <summary>The <c>EPOLL*</c> event bits of <c>&lt;sys/epoll.h&gt;</c>, with Linux's values and C spelling.</summary>
[Flags]
public enum EpollEvents : uint
{
    /// <summary>No events.</summary>
    None = 0,

    /// <summary>Readable.</summary>
    EPOLLIN = 0x001,

    /// <summary>Urgent (priority) data, or an exceptional condition.</summary>
    EPOLLPRI = 0x002,

    /// <summary>Writable.</summary>
    EPOLLOUT = 0x004,

    /// <summary>Error; always reported.</summary>
    EPOLLERR = 0x008,

    /// <summary>Hang-up; always reported.</summary>
    EPOLLHUP = 0x010,

    /// <summary>Normal data readable.</summary>
    EPOLLRDNORM = 0x040,

    /// <summary>Priority band data readable.</summary>
    EPOLLRDBAND = 0x080,

    /// <summary>Normal data writable.</summary>
    EPOLLWRNORM = 0x100,

    /// <summary>Priority band data writable.</summary>
    EPOLLWRBAND = 0x200,

    /// <summary>Accepted and never reported, on Linux as here.</summary>
    EPOLLMSG = 0x400,

    /// <summary>The peer shut down writing (stream sockets).</summary>
    EPOLLRDHUP = 0x2000,

    /// <summary>Wake only one of several epoll sets waiting on the same file (ADD only).</summary>
    /// <remarks>The kernel's EPOLLEXCLUSIVE_OK_BITS: any other flag with it is EINVAL, as is MOD or an epoll target.</remarks>
    [EpollFlag(AddOnly = true, NotOnEpollSets = true, CompatibleWith = EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET)]
    EPOLLEXCLUSIVE = 1u << 28,

    /// <summary>Hold a wake lock while the event is pending (needs CAP_BLOCK_SUSPEND; else ignored).</summary>
    EPOLLWAKEUP = 1u << 29,

    /// <summary>Disarm after one event until re-armed by EPOLL_CTL_MOD.</summary>
    [EpollFlag(OneShot = true)]
    EPOLLONESHOT = 1u << 30,

    /// <summary>Edge-triggered: report changes, not state.</summary>
    [EpollFlag(EdgeTriggered = true)]
    EPOLLET = 1u << 31,
}
