namespace EpollGen.Interop;

/// <summary>
/// Translates epoll event masks to FD tap filters and back: the seed's <c>ep_events_to_taps</c> and
/// <c>taps_to_ep_events</c>, generated. Modes steer the epoll set and never reach a tap.
/// </summary>
[FlagMap(typeof(EpollEvents), typeof(TapFilters), AlwaysReported = EpollEvents.EPOLLERR | EpollEvents.EPOLLHUP)]
[FlagPair(EpollEvents.EPOLLIN, TapFilters.FDTAP_FILT_READABLE)]
[FlagPair(EpollEvents.EPOLLPRI, TapFilters.FDTAP_FILT_PRIORITY)]
[FlagPair(EpollEvents.EPOLLOUT, TapFilters.FDTAP_FILT_WRITABLE)]
[FlagPair(EpollEvents.EPOLLERR, TapFilters.FDTAP_FILT_ERROR)]
[FlagPair(EpollEvents.EPOLLHUP, TapFilters.FDTAP_FILT_HANGUP)]
[FlagPair(EpollEvents.EPOLLRDNORM, TapFilters.FDTAP_FILT_RDNORM)]
[FlagPair(EpollEvents.EPOLLRDBAND, TapFilters.FDTAP_FILT_RDBAND)]
[FlagPair(EpollEvents.EPOLLWRNORM, TapFilters.FDTAP_FILT_WRNORM)]
[FlagPair(EpollEvents.EPOLLWRBAND, TapFilters.FDTAP_FILT_WRBAND)]
[FlagPair(EpollEvents.EPOLLRDHUP, TapFilters.FDTAP_FILT_RDHUP)]
[FlagMode(EpollEvents.EPOLLET)]
[FlagMode(EpollEvents.EPOLLONESHOT)]
[FlagMode(EpollEvents.EPOLLEXCLUSIVE)]
[FlagMode(EpollEvents.EPOLLWAKEUP)]
[FlagUnsupported(EpollEvents.EPOLLMSG, "Linux accepts EPOLLMSG but never reports it, and neither does EpollGen; the registration will never fire for it")]
public static partial class EpollTapMap;
