namespace EpollGen;

/// <summary>What an argument of an epoll call means, for <see cref="EpollArgumentAttribute"/>.</summary>
public enum EpollArgumentRole
{
    /// <summary>An <c>EpollEvents</c> mask registered with EPOLL_CTL_ADD.</summary>
    AddMask,

    /// <summary>An <c>EpollEvents</c> mask that replaces a registration's (EPOLL_CTL_MOD).</summary>
    ModifyMask,

    /// <summary>
    /// A pointer to a native <c>struct epoll_event</c> whose <c>events</c> is the mask, registered with
    /// the operation passed as the call's <see cref="ControlOperation"/> argument.
    /// </summary>
    ControlEvent,

    /// <summary>An epoll_ctl operation: one of <see cref="EpollControlOp"/>'s values.</summary>
    ControlOperation,

    /// <summary>The fd a registration is for.</summary>
    Target,

    /// <summary>The fd naming the epoll set (epfd).</summary>
    Set,

    /// <summary>The capacity of an event buffer: positive.</summary>
    MaxEvents,

    /// <summary>A timeout in milliseconds: -1 waits without limit, 0 polls, positive waits that long.</summary>
    TimeoutMilliseconds,

    /// <summary>The buffer a wait fills: its length is the capacity, so it must not be empty.</summary>
    EventBuffer,

    /// <summary>
    /// A <c>TimeSpan</c> timeout: <c>Timeout.InfiniteTimeSpan</c> waits without limit, zero polls,
    /// positive waits that long; any other negative value is rejected.
    /// </summary>
    TimeoutTimeSpan,
}
