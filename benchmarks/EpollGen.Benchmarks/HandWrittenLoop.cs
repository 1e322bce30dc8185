using EpollGen.Interop;

namespace EpollGen.Benchmarks;

/// <summary>The naive data-driven form: walk a small table of (epoll bit, tap bit) pairs.</summary>
internal static class HandWrittenLoop
{
    /// <summary>The ten pairs of <see cref="EpollTapMap"/>, written out again by hand.</summary>
    internal static readonly (uint Epoll, uint Tap)[] Pairs =
    [
        ((uint)EpollEvents.EPOLLIN, (uint)TapFilters.FDTAP_FILT_READABLE),
        ((uint)EpollEvents.EPOLLPRI, (uint)TapFilters.FDTAP_FILT_PRIORITY),
        ((uint)EpollEvents.EPOLLOUT, (uint)TapFilters.FDTAP_FILT_WRITABLE),
        ((uint)EpollEvents.EPOLLERR, (uint)TapFilters.FDTAP_FILT_ERROR),
        ((uint)EpollEvents.EPOLLHUP, (uint)TapFilters.FDTAP_FILT_HANGUP),
        ((uint)EpollEvents.EPOLLRDNORM, (uint)TapFilters.FDTAP_FILT_RDNORM),
        ((uint)EpollEvents.EPOLLRDBAND, (uint)TapFilters.FDTAP_FILT_RDBAND),
        ((uint)EpollEvents.EPOLLWRNORM, (uint)TapFilters.FDTAP_FILT_WRNORM),
        ((uint)EpollEvents.EPOLLWRBAND, (uint)TapFilters.FDTAP_FILT_WRBAND),
        ((uint)EpollEvents.EPOLLRDHUP, (uint)TapFilters.FDTAP_FILT_RDHUP),
    ];

    public static TapFilters ToTarget(EpollEvents ev)
    {
        uint v = (uint)ev, r = 0;
        foreach ((uint epoll, uint tap) in Pairs)
        {
            if ((v & epoll) != 0)
                r |= tap;
        }
        return (TapFilters)r;
    }

    public static EpollEvents ToSource(TapFilters filt)
    {
        uint v = (uint)filt, r = 0;
        foreach ((uint epoll, uint tap) in Pairs)
        {
            if ((v & tap) != 0)
                r |= epoll;
        }
        return (EpollEvents)r;
    }
}
