using EpollGen.Interop;

namespace EpollGen.Benchmarks;

/// <summary>
/// The seed's style: one <c>if</c> per flag, written out by hand. The baseline every other form is
/// measured against.
/// </summary>
internal static class HandWrittenIf
{
    public static TapFilters ToTarget(EpollEvents ev)
    {
        TapFilters filt = TapFilters.None;
        if ((ev & EpollEvents.EPOLLIN) != 0)
            filt |= TapFilters.FDTAP_FILT_READABLE;
        if ((ev & EpollEvents.EPOLLPRI) != 0)
            filt |= TapFilters.FDTAP_FILT_PRIORITY;
        if ((ev & EpollEvents.EPOLLOUT) != 0)
            filt |= TapFilters.FDTAP_FILT_WRITABLE;
        if ((ev & EpollEvents.EPOLLERR) != 0)
            filt |= TapFilters.FDTAP_FILT_ERROR;
        if ((ev & EpollEvents.EPOLLHUP) != 0)
            filt |= TapFilters.FDTAP_FILT_HANGUP;
        if ((ev & EpollEvents.EPOLLRDNORM) != 0)
            filt |= TapFilters.FDTAP_FILT_RDNORM;
        if ((ev & EpollEvents.EPOLLRDBAND) != 0)
            filt |= TapFilters.FDTAP_FILT_RDBAND;
        if ((ev & EpollEvents.EPOLLWRNORM) != 0)
            filt |= TapFilters.FDTAP_FILT_WRNORM;
        if ((ev & EpollEvents.EPOLLWRBAND) != 0)
            filt |= TapFilters.FDTAP_FILT_WRBAND;
        if ((ev & EpollEvents.EPOLLRDHUP) != 0)
            filt |= TapFilters.FDTAP_FILT_RDHUP;
        return filt;
    }

    public static EpollEvents ToSource(TapFilters filt)
    {
        EpollEvents ev = EpollEvents.None;
        if ((filt & TapFilters.FDTAP_FILT_READABLE) != 0)
            ev |= EpollEvents.EPOLLIN;
        if ((filt & TapFilters.FDTAP_FILT_PRIORITY) != 0)
            ev |= EpollEvents.EPOLLPRI;
        if ((filt & TapFilters.FDTAP_FILT_WRITABLE) != 0)
            ev |= EpollEvents.EPOLLOUT;
        if ((filt & TapFilters.FDTAP_FILT_ERROR) != 0)
            ev |= EpollEvents.EPOLLERR;
        if ((filt & TapFilters.FDTAP_FILT_HANGUP) != 0)
            ev |= EpollEvents.EPOLLHUP;
        if ((filt & TapFilters.FDTAP_FILT_RDNORM) != 0)
            ev |= EpollEvents.EPOLLRDNORM;
        if ((filt & TapFilters.FDTAP_FILT_RDBAND) != 0)
            ev |= EpollEvents.EPOLLRDBAND;
        if ((filt & TapFilters.FDTAP_FILT_WRNORM) != 0)
            ev |= EpollEvents.EPOLLWRNORM;
        if ((filt & TapFilters.FDTAP_FILT_WRBAND) != 0)
            ev |= EpollEvents.EPOLLWRBAND;
        if ((filt & TapFilters.FDTAP_FILT_RDHUP) != 0)
            ev |= EpollEvents.EPOLLRDHUP;
        return ev;
    }
}
